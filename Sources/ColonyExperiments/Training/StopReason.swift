/// Why a training loop stopped: every loop (`Trainer`, the cluster learners) checks the same
/// reasons in the same order, and logs and records them with the same words.
public enum StopReason: Sendable, Equatable, CustomStringConvertible {
    /// The owner asked the loop to stop (`stop()` from another thread).
    case requested
    /// SIGINT, SIGTERM or SIGUSR1 (`StopSignal`).
    case signal(Int32)
    /// The cluster's coordinator ordered every member to shut down.
    case coordinatorShutdown
    /// The run reached its frame budget: the only reason that means the run is done.
    case frameBudget(Int)

    /// The first reason that holds, in the order above; nil while the loop should go on.
    public static func check(frames: Int, budget: Int, requested: Bool = false, shutdownOrdered: Bool = false) -> StopReason? {
        if requested { return .requested }
        if let signal = StopSignal.requested { return .signal(signal) }
        if shutdownOrdered { return .coordinatorShutdown }
        if frames >= budget { return .frameBudget(budget) }
        return nil
    }

    /// The signal that stopped the loop, if one did.
    public var signal: Int32? {
        if case .signal(let number) = self { return number }
        return nil
    }

    public var description: String {
        switch self {
        case .requested: "stopped"
        case .signal(let number): "signal \(number)"
        case .coordinatorShutdown: "the coordinator ordered shutdown"
        case .frameBudget(let budget): "frame budget of \(budget) reached"
        }
    }
}
