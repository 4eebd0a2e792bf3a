import Foundation

/// Why an environment host failed. Every case names the environment id and, where there is one,
/// the host's pid; the description's first line is the whole story for a log, the Python traceback
/// (if any) follows on the next lines.
public struct EnvironmentHostError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The interpreter could not be started or exited before answering (no such Python,
        /// gymnasium or pyzmq missing): `detail` is the last line it printed.
        case couldNotStart(python: String, status: String)
        /// `gymnasium.make` or a wrapper failed: unknown id, missing module, bad keyword argument.
        case makeFailed
        /// An environment raised in `reset` or `step`.
        case raised(environmentIndex: Int?)
        /// The host process ended (segfault, SIGKILL, the OOM killer, an exit).
        case died(status: String)
        /// No answer within the step deadline.
        case hung(seconds: Double)
        /// The host answered something invalid (wrong shapes, NaN, a broken message).
        case protocolViolation
        /// Past `max_restarts`: the last failure ends the run.
        case tooManyRestarts(restarts: Int)
    }

    public var kind: Kind
    /// The environment id as the run names it (`gym:...`).
    public var environment: String
    public var pid: Int32?
    /// One line: Python's own message, the last stderr line, or what was wrong.
    public var detail: String
    /// Python's traceback, or the tail of the host's stderr.
    public var traceback: String?

    public init(_ kind: Kind, environment: String, pid: Int32?, detail: String, traceback: String? = nil) {
        self.kind = kind
        self.environment = environment
        self.pid = pid
        self.detail = detail
        self.traceback = traceback
    }

    /// Whether a fresh host may get past it (not for a bad id or a missing interpreter).
    public var isRestartable: Bool {
        switch kind {
        case .raised, .died, .hung, .protocolViolation: true
        case .couldNotStart, .makeFailed, .tooManyRestarts: false
        }
    }

    public var headline: String {
        let host = pid.map { "environment host pid \($0)" } ?? "environment host"
        switch kind {
        case .couldNotStart(let python, let status):
            return "\(environment): could not start the environment host with \(python) (\(status)): \(detail). Run `make envhost` or pass --python / set COLONY_PYTHON to a Python with gymnasium, numpy and pyzmq."
        case .makeFailed:
            return "\(environment): \(detail)"
        case .raised(let index):
            return "\(environment)\(index.map { "[\($0)]" } ?? "") raised in \(host): \(detail)"
        case .died(let status):
            return "\(environment): \(host) \(status): \(detail)"
        case .hung(let seconds):
            return "\(environment): \(host) did not answer within \(String(format: "%g", seconds)) s (env.step_timeout_seconds); it was killed"
        case .protocolViolation:
            return "\(environment): \(host) sent an invalid reply: \(detail)"
        case .tooManyRestarts(let restarts):
            return "\(environment): gave up after \(restarts) host restarts (env.max_restarts); last failure: \(detail)"
        }
    }

    public var description: String {
        guard let traceback, !traceback.isEmpty else { return headline }
        return headline + "\n" + traceback
    }
}
