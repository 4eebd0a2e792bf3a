import ColonyEnvironments

/// A built-in environment behind a plain `Environment`, as one in another process would be: its
/// state and random stream cannot be read or set.
final class OpaqueEnvironment: Environment {
    private let inner: any Environment

    init(_ inner: any Environment) { self.inner = inner }

    var id: String { inner.id }
    var observationSpace: Space { inner.observationSpace }
    var actionSpace: Space { inner.actionSpace }
    var maxEpisodeSteps: Int? {
        get { inner.maxEpisodeSteps }
        set { inner.maxEpisodeSteps = newValue }
    }
    var elapsedSteps: Int {
        get { inner.elapsedSteps }
        set { inner.elapsedSteps = newValue }
    }

    func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) { inner.reset(seed: seed, observation: observation) }
    func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome { try inner.step(action, observation: observation) }
    func observe(into observation: UnsafeMutableBufferPointer<Float>) { inner.observe(into: observation) }
    func render() -> String { inner.render() }
}
