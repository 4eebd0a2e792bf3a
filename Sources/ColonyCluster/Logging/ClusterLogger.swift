import Foundation

/// How much a cluster role says.
public enum LogLevel: String, CaseIterable, Comparable, Sendable {
    case error, warning, info, debug

    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .info: 2
        case .debug: 3
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rank < rhs.rank }
}

/// A line logger for cluster roles: `2026-01-02T03:04:05.678Z coordinator info: worker-3 registered`.
/// Lines at or below `level` go to `sink` (standard error by default). Thread-safe.
public struct ClusterLogger: Sendable {
    public var label: String
    public var level: LogLevel
    public var sink: @Sendable (String) -> Void

    public init(label: String, level: LogLevel = .info, sink: @escaping @Sendable (String) -> Void = ClusterLogger.standardError) {
        self.label = label
        self.level = level
        self.sink = sink
    }

    /// Says nothing (tests that do not look at logs).
    public static func silent(label: String = "") -> ClusterLogger {
        ClusterLogger(label: label, level: .error) { _ in }
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public func log(_ messageLevel: LogLevel, _ message: @autoclosure () -> String) {
        guard messageLevel <= level else { return }
        let stamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        sink("\(stamp) \(label) \(messageLevel.rawValue): \(message())")
    }

    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }
    public func debug(_ message: @autoclosure () -> String) { log(.debug, message()) }
}
