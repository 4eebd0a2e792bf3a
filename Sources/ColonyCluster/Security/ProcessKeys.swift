import ColonyTransport
import Foundation

/// How an executable picks its CURVE keys: `--keys DIR` or `COLONY_KEYS`, acting as the member named
/// by `--key-name` or `COLONY_KEY_NAME` (default `member`). Installed once, before any socket exists;
/// every context of the process then uses them on tcp:// endpoints.
public enum ProcessKeys {
    public static let directoryVariable = "COLONY_KEYS"
    public static let memberVariable = "COLONY_KEY_NAME"

    /// Installs the keys the flags or the environment name; returns them (nil: none, sockets are plain).
    @discardableResult
    public static func install(directory flag: String?, member memberFlag: String? = nil) throws -> CurveSecurity? {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = nonEmpty(flag) ?? nonEmpty(environment[directoryVariable]) else {
            CurveSecurity.installForProcess(nil)
            return nil
        }
        let member = nonEmpty(memberFlag) ?? nonEmpty(environment[memberVariable]) ?? RunKeys.defaultMember
        let security = try RunKeys(directory: directory).security(member: member)
        CurveSecurity.installForProcess(security)
        return security
    }

    /// Refuses to serve a non-loopback tcp:// endpoint without keys: anyone who reaches it could join
    /// the run. `insecure` is the explicit way out (a closed network).
    public static func checkBinding(_ endpoint: String, insecure: Bool) throws {
        guard CurveSecurity.processDefault == nil, !insecure, endpoint.hasPrefix("tcp://") else { return }
        let host = endpoint.dropFirst("tcp://".count).split(separator: ":").dropLast().joined(separator: ":")
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host == "::1" || host.hasPrefix("127.")
        guard !loopback else { return }
        throw RunKeysError("""
            \(endpoint) is reachable from other machines, and without keys anyone who reaches it could join this run. \
            Create keys with `colony keys new DIR` and pass --keys DIR (or set COLONY_KEYS=DIR) to every member, \
            or pass --insecure on a network you trust.
            """)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
