/// A TOML value of the kinds Colony's configuration files use.
public enum TOMLValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case array([TOMLValue])

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .double(let v): "\(v)"
        case .bool(let v): v ? "true" : "false"
        case .string(let v): "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let v): "[" + v.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// A malformed or unreadable file (TOML, CSV): the file, the line and what is wrong there.
public typealias TOMLError = FileFormatError

public struct FileFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public let source: String
    public let line: Int
    public let message: String
    public init(source: String, line: Int, message: String) {
        self.source = source
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(source):\(line): \(message)" : "\(source): \(message)" }
}

/// The subset of TOML 1.0 that configuration files need: `[table]` and `[a.b]` headers, bare, quoted and
/// dotted keys, basic and literal strings, integers, floats (inf, nan), booleans, and arrays (which may span
/// lines). Inline tables, dates and arrays of tables are refused with a clear error rather than misread.
/// Entries are addressed by dotted path ("learner.batch_size") and keep file order.
public struct TOMLDocument: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: TOMLValue)] = []

    public static func == (lhs: TOMLDocument, rhs: TOMLDocument) -> Bool {
        lhs.entries.map(\.key) == rhs.entries.map(\.key) && lhs.entries.map(\.value) == rhs.entries.map(\.value)
    }

    public subscript(path: String) -> TOMLValue? { entries.first { $0.key == path }?.value }

    /// Entries directly inside `table` ("" for the top level), keyed by their name within it.
    public func table(_ table: String) -> [(key: String, value: TOMLValue)] {
        let prefix = table.isEmpty ? "" : table + "."
        return entries.compactMap { entry in
            guard entry.key.hasPrefix(prefix) else { return nil }
            let rest = String(entry.key.dropFirst(prefix.count))
            return rest.contains(".") ? nil : (rest, entry.value)
        }
    }

    /// Names of the tables that hold at least one entry.
    public var tableNames: [String] {
        var names: [String] = []
        for entry in entries {
            if let dot = entry.key.lastIndex(of: ".") {
                let name = String(entry.key[..<dot])
                if !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    public init() {}

    public init(parsing text: String, source: String = "<toml>") throws {
        var parser = TOMLParser(text: text, source: source)
        entries = try parser.parse()
    }

    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TOMLError(source: path, line: 0, message: "cannot read the file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TOMLError(source: path, line: 0, message: "the file is not UTF-8 text")
        }
        try self.init(parsing: text, source: path)
    }
}

private struct TOMLParser {
    let characters: [Character]
    let source: String
    var position = 0
    var line = 1

    init(text: String, source: String) {
        characters = Array(text)
        self.source = source
    }

    func fail(_ message: String) -> TOMLError { TOMLError(source: source, line: line, message: message) }

    var atEnd: Bool { position >= characters.count }
    var current: Character? { atEnd ? nil : characters[position] }

    mutating func advance() {
        if current == "\n" { line += 1 }
        position += 1
    }

    mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" { advance() }
    }

    /// Skips spaces, comments and newlines (inside arrays).
    mutating func skipWhitespaceAndComments() {
        while let c = current {
            if c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
            else if c == "#" { while let d = current, d != "\n" { advance() } }
            else { break }
        }
    }

    /// After a value or header: only spaces and a comment may follow on the line.
    mutating func expectLineEnd() throws {
        skipSpaces()
        if current == "#" { while let c = current, c != "\n" { advance() } }
        if current == "\r" { advance() }
        guard atEnd || current == "\n" else { throw fail("unexpected '\(current!)' after the value; one key = value per line") }
        if current == "\n" { advance() }
    }

    mutating func parse() throws -> [(key: String, value: TOMLValue)] {
        var entries: [(key: String, value: TOMLValue)] = []
        var seen = Set<String>()
        var table: [String] = []
        while true {
            skipWhitespaceAndComments()
            guard let c = current else { break }
            if c == "[" {
                advance()
                if current == "[" { throw fail("arrays of tables ([[...]]) are not supported in Colony configuration files") }
                skipSpaces()
                table = try parseKeyPath(terminator: "]")
                guard current == "]" else { throw fail("expected ']' to close the table header") }
                advance()
                try expectLineEnd()
                continue
            }
            let keyLine = line
            let keyPath = try parseKeyPath(terminator: "=")
            guard current == "=" else { throw fail("expected '=' after the key '\(keyPath.joined(separator: "."))'") }
            advance()
            skipSpaces()
            let value = try parseValue()
            try expectLineEnd()
            let full = (table + keyPath).joined(separator: ".")
            guard !seen.contains(full) else {
                throw TOMLError(source: source, line: keyLine, message: "the key '\(full)' is defined twice")
            }
            seen.insert(full)
            entries.append((full, value))
        }
        return entries
    }

    mutating func parseKeyPath(terminator: Character) throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard let c = current else { throw fail("unexpected end of file in a key") }
            if c == "\"" || c == "'" {
                guard case .string(let s) = try parseString() else { throw fail("bad quoted key") }
                parts.append(s)
            } else {
                var name = ""
                while let d = current, d.isLetter || d.isNumber || d == "_" || d == "-" {
                    name.append(d)
                    advance()
                }
                guard !name.isEmpty else {
                    throw fail(c == "\n" ? "a key needs '= value'" : "unexpected '\(c)' where a key was expected")
                }
                parts.append(name)
            }
            skipSpaces()
            if current == "." { advance(); continue }
            if current == terminator { return parts }
            if atEnd || current == "\n" { throw fail("expected '\(terminator)' after '\(parts.joined(separator: "."))'") }
            throw fail("expected '\(terminator)' after '\(parts.joined(separator: "."))', found '\(current!)'")
        }
    }

    mutating func parseValue() throws -> TOMLValue {
        guard let c = current else { throw fail("expected a value, found the end of the file") }
        switch c {
        case "\"", "'": return try parseString()
        case "[": return try parseArray()
        case "{": throw fail("inline tables are not supported; use a [table] header instead")
        case "\n", "#": throw fail("expected a value after '='")
        default: return try parseScalar()
        }
    }

    mutating func parseString() throws -> TOMLValue {
        let quote = current!
        advance()
        if quote == "\"" && current == "\"" && position + 1 < characters.count && characters[position + 1] == "\"" {
            throw fail("multi-line strings are not supported")
        }
        var text = ""
        while true {
            guard let c = current, c != "\n" else { throw fail("unterminated string") }
            advance()
            if c == quote { return .string(text) }
            if c == "\\" && quote == "\"" {
                guard let e = current else { throw fail("unterminated escape") }
                advance()
                switch e {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "\\": text.append("\\")
                case "\"": text.append("\"")
                case "u", "U":
                    let length = e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<length {
                        guard let h = current else { throw fail("bad unicode escape") }
                        hex.append(h)
                        advance()
                    }
                    guard let scalar = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) else { throw fail("bad unicode escape \\\(e)\(hex)") }
                    text.unicodeScalars.append(scalar)
                default: throw fail("unknown escape \\\(e) in a string")
                }
            } else {
                text.append(c)
            }
        }
    }

    mutating func parseArray() throws -> TOMLValue {
        advance()  // [
        var values: [TOMLValue] = []
        while true {
            skipWhitespaceAndComments()
            guard let c = current else { throw fail("unterminated array") }
            if c == "]" { advance(); return .array(values) }
            values.append(try parseValue())
            skipWhitespaceAndComments()
            if current == "," { advance(); continue }
            if current == "]" { advance(); return .array(values) }
            throw fail(atEnd ? "unterminated array" : "expected ',' or ']' in an array")
        }
    }

    mutating func parseScalar() throws -> TOMLValue {
        var token = ""
        while let c = current, !(c == "," || c == "]" || c == "\n" || c == "\r" || c == "#" || c == " " || c == "\t") {
            token.append(c)
            advance()
        }
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .double(.infinity)
        case "-inf": return .double(-.infinity)
        case "nan", "+nan", "-nan": return .double(.nan)
        default: break
        }
        let digits = token.replacingOccurrences(of: "_", with: "")
        if let v = Int(digits) { return .int(v) }
        if digits.hasPrefix("0x"), let v = Int(digits.dropFirst(2), radix: 16) { return .int(v) }
        if let v = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .double(v) }
        if token.isEmpty { throw fail("expected a value after '='") }
        throw fail("cannot read '\(token)' as a value (strings need quotes: \"\(token)\")")
    }
}

import Foundation
