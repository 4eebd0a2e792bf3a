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
}
