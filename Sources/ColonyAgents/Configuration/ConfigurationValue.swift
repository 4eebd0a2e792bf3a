/// A configuration value: what a TOML file, `--set key=value` or code can give an algorithm.
public enum ConfigurationValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case intList([Int])

    /// The kind of value a key accepts.
    public enum Kind: String, Sendable, Equatable {
        case int, double = "float", bool, string, intList = "int list"

        /// "an int", "a float": for messages.
        public var withArticle: String { (rawValue.hasPrefix("i") ? "an " : "a ") + rawValue }
    }

    public var kind: Kind {
        switch self {
        case .int: .int
        case .double: .double
        case .bool: .bool
        case .string: .string
        case .intList: .intList
        }
    }

    /// TOML spelling of the value (also used in `colony config` and the effective-configuration file).
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .double(let v): Self.format(v)
        case .bool(let v): v ? "true" : "false"
        case .string(let v): "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .intList(let v): "[" + v.map(String.init).joined(separator: ", ") + "]"
        }
    }

    private static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        // Keep a decimal point or exponent so that TOML reads a float back, not an integer.
        let text = "\(value)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    /// Parses `text` (as typed after `--set key=`) into a value of `kind`.
    public static func parse(_ text: String, as kind: Kind) -> ConfigurationValue? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .int:
            if let v = Int(trimmed.replacingOccurrences(of: "_", with: "")) { return .int(v) }
            // Accept 1e5 or 100000.0 for integer keys when the value is integral.
            if let d = Double(trimmed), d.rounded() == d, abs(d) < 9e15 { return .int(Int(d)) }
            return nil
        case .double:
            switch trimmed.lowercased() {
            case "inf", "+inf": return .double(.infinity)
            case "-inf": return .double(-.infinity)
            default: return Double(trimmed.replacingOccurrences(of: "_", with: "")).map { .double($0) }
            }
        case .bool:
            switch trimmed.lowercased() {
            case "true", "yes", "on", "1": return .bool(true)
            case "false", "no", "off", "0": return .bool(false)
            default: return nil
            }
        case .string:
            if trimmed.count >= 2, trimmed.hasPrefix("\""), trimmed.hasSuffix("\"") {
                return .string(String(trimmed.dropFirst().dropLast()))
            }
            return .string(trimmed)
        case .intList:
            let inner = trimmed.hasPrefix("[") && trimmed.hasSuffix("]") ? String(trimmed.dropFirst().dropLast()) : trimmed
            if inner.trimmingCharacters(in: .whitespaces).isEmpty { return .intList([]) }
            var values: [Int] = []
            for part in inner.split(separator: ",") {
                guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else { return nil }
                values.append(v)
            }
            return .intList(values)
        }
    }

    /// Converts a value to `kind` where that loses nothing (an int where a float is expected).
    func converted(to kind: Kind) -> ConfigurationValue? {
        switch (self, kind) {
        case (_, _) where self.kind == kind: self
        case (.int(let v), .double): .double(Double(v))
        case (.double(let v), .int) where v.rounded() == v && abs(v) < 9e15: .int(Int(v))
        default: nil
        }
    }
}

import Foundation
