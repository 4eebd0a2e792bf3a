import ColonyEnvironments

/// A built-in environment behind a plain `Environment`, as one in another process would be: its
/// state and random stream cannot be read or set.
public final class OpaqueEnvironment: Environment {
    private let inner: any Environment

    public init(_ inner: any Environment) { self.inner = inner }

    public var id: String { inner.id }
    public var observationSpace: Space { inner.observationSpace }
    public var actionSpace: Space { inner.actionSpace }
    public var maxEpisodeSteps: Int? {
        get { inner.maxEpisodeSteps }
        set { inner.maxEpisodeSteps = newValue }
    }
    public var elapsedSteps: Int {
        get { inner.elapsedSteps }
        set { inner.elapsedSteps = newValue }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) { inner.reset(seed: seed, observation: observation) }
    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome { try inner.step(action, observation: observation) }
    public func observe(into observation: UnsafeMutableBufferPointer<Float>) { inner.observe(into: observation) }
    public func render() -> String { inner.render() }
}
