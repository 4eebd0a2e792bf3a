#if canImport(Glibc)
import Glibc
#endif
import ColonyStorage
import ColonyTransport
import Foundation

/// A run's CurveZMQ keys on disk, like SSH's: `server.key` (the pair every binding member serves
/// with), `server.pub`, `members/NAME.key` (one pair per member identity) and `authorized/NAME.pub`
/// (the member keys the run admits; delete one to shut that member out). Secret files are readable
/// by their owner only, and a key directory others can read is refused.
public struct RunKeys: Sendable {
    public let directory: String
    public static let defaultMember = "member"

    public init(directory: String) { self.directory = directory }

    var serverKeyPath: String { directory + "/server.key" }
    var serverPublicPath: String { directory + "/server.pub" }
    func memberKeyPath(_ name: String) -> String { directory + "/members/\(name).key" }
    func authorizedPath(_ name: String) -> String { directory + "/authorized/\(name).pub" }

    /// Creates the run's server pair (when the directory has none) and a member pair named `member`,
    /// which it authorizes. Refuses to replace an existing member's keys.
    @discardableResult
    public func create(member: String = RunKeys.defaultMember) throws -> (server: String, member: String) {
        guard Self.isValidName(member) else {
            throw RunKeysError("member name '\(member)' must be letters, digits, '-', '_' or '.' (not starting with '.')")
        }
        for folder in [directory, directory + "/members", directory + "/authorized"] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(folder, 0o700)
        }
        guard !FileManager.default.fileExists(atPath: memberKeyPath(member)) else {
            throw RunKeysError("\(memberKeyPath(member)) already exists: pick another --member name, or delete it to make a new pair")
        }
        let server: CurveKeyPair
        if FileManager.default.fileExists(atPath: serverKeyPath) {
            server = try Self.readPair(serverKeyPath)
        } else {
            server = try CurveKeyPair.generate()
            try Self.write(Self.pairText(server, what: "the run's server key pair"), to: serverKeyPath)
            try Self.write(Self.publicText(server.publicKey, what: "the run's server public key"), to: serverPublicPath)
        }
        let pair = try CurveKeyPair.generate()
        try Self.write(Self.pairText(pair, what: "member '\(member)'"), to: memberKeyPath(member))
        try Self.write(Self.publicText(pair.publicKey, what: "member '\(member)', admitted by this run"), to: authorizedPath(member))
        return (server.publicKey, pair.publicKey)
    }

    /// The keys of a run that makes its own (`colony cluster up` without `--keys`): created on first use,
    /// the same files on every later start, so a restarted run keeps admitting its own members.
    public func createUnlessPresent(member: String = RunKeys.defaultMember) throws {
        guard !FileManager.default.fileExists(atPath: memberKeyPath(member)) else { return }
        try create(member: member)
    }

    /// The security of a process acting as `member`: with the server pair when this process can read
    /// server.key (binding members), else the server's public key alone (members that only connect).
    public func security(member: String = RunKeys.defaultMember) throws -> CurveSecurity {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw RunKeysError("no key directory at \(directory): create one with `colony keys new \(directory)`")
        }
        try Self.checkPrivate(directory)
        let serverPublic = try Self.readPublic(serverPublicPath)
        let server = FileManager.default.isReadableFile(atPath: serverKeyPath) ? try Self.readPair(serverKeyPath) : nil
        let pair = try Self.readPair(memberKeyPath(member))
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/authorized")) ?? []
        var authorized = Set<String>()
        for name in names.sorted() where name.hasSuffix(".pub") {
            authorized.insert(try Self.readPublic(directory + "/authorized/" + name))
        }
        do {
            return try CurveSecurity(serverPublicKey: serverPublic, server: server, member: pair, authorizedKeys: authorized)
        } catch {
            throw RunKeysError("\(directory): \(error)")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    // MARK: Files

    private static func pairText(_ pair: CurveKeyPair, what: String) -> String {
        "# Colony CurveZMQ key pair: \(what). Secret: keep it readable by its owner only.\n"
            + "public-key = \"\(pair.publicKey)\"\nsecret-key = \"\(pair.secretKey)\"\n"
    }

    private static func publicText(_ key: String, what: String) -> String {
        "# Colony CurveZMQ public key: \(what).\npublic-key = \"\(key)\"\n"
    }

    /// Owner-only files, written whole or not at all.
    private static func write(_ text: String, to path: String) throws {
        try AtomicFile.replace(path) { temporary in
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard fd >= 0 else { throw RunKeysError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
                throw RunKeysError("cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// `name = "value"` lines; the file and line are named when one is wrong.
    private static func fields(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunKeysError("cannot read \(path): missing or not readable (create keys with `colony keys new`)")
        }
        guard data.count <= 4096 else { throw RunKeysError("\(path) is \(data.count) bytes, too large for a key file") }
        var fields: [String: String] = [:]
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[1].count >= 2, parts[1].hasPrefix("\""), parts[1].hasSuffix("\"") else {
                throw RunKeysError("\(path):\(number + 1): expected name = \"value\"")
            }
            fields[parts[0]] = String(parts[1].dropFirst().dropLast())
        }
        return fields
    }

    private static func readPublic(_ path: String) throws -> String {
        guard let key = try fields(path)["public-key"], CurveKeyPair.isValidKey(key) else {
            throw RunKeysError("\(path) holds no valid public-key (40 Z85 characters)")
        }
        return key
    }

    private static func readPair(_ path: String) throws -> CurveKeyPair {
        try checkPrivate(path)
        let values = try fields(path)
        guard let publicKey = values["public-key"], let secretKey = values["secret-key"] else {
            throw RunKeysError("\(path) needs public-key and secret-key")
        }
        do { return try CurveKeyPair(publicKey: publicKey, secretKey: secretKey) } catch { throw RunKeysError("\(path): \(error)") }
    }

    /// Secrets others can read are not secrets: refuse them, as ssh does.
    private static func checkPrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        guard info.st_mode & 0o077 == 0 else {
            throw RunKeysError("\(path) is accessible to other users (mode \(String(info.st_mode & 0o777, radix: 8))): chmod go-rwx it")
        }
    }
}

public struct RunKeysError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
