import ColonyNumerics

/// An environment whose exact state can be read and written, so that a vector of copies can be
/// seeded per copy, checkpointed and resumed bit for bit. The built-in environments conform; an
/// environment in another process, say, cannot offer this and is a plain `Environment`.
public protocol SnapshottableEnvironment: Environment {
    /// The exact internal state (Gymnasium's `env.unwrapped.state`), in float64 like NumPy.
    /// Setting it behaves like assigning a float64 array to the Gymnasium attribute; it also
    /// counts as a reset for the order check, but leaves `elapsedSteps` alone.
    /// Precondition for the setter: the count the environment documents.
    var state: [Double] { get set }

    /// The stream that reset distributions (and slippery moves) are drawn from; settable so a
    /// vector environment can hand each copy a `split()` stream, and for checkpoints.
    var randomSource: RandomSource { get set }

    /// Why `candidate` cannot be set as `state` (nil: it can). Checked before a snapshot read from
    /// a file is restored, so a damaged checkpoint is an error rather than the setter's precondition.
    func stateProblem(_ candidate: [Double]) -> String?
}

extension SnapshottableEnvironment {
    /// Continuous states: as many finite numbers as the current state holds.
    public func stateProblem(_ candidate: [Double]) -> String? {
        if candidate.count != state.count { return "\(candidate.count) state values where \(state.count) are expected" }
        if let bad = candidate.first(where: { !$0.isFinite }) { return "state value \(bad) is not finite" }
        return nil
    }
}
