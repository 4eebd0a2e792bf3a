import ColonyEnvironments

/// Presents a `ParallelAgent` with one environment as an `Agent`.
///
/// A parallel agent sees an episode's end and the next episode's first observation in one call; a
/// single-environment loop reports them in two (`step` with the last observation, then `reset`). This
/// adapter holds the finished step until `reset` brings the new observation, then forwards both.
public final class SingleEnvironmentAgent: Agent {
    public let base: any ParallelAgent
    private var pendingEnd: (observation: [Float], reward: Double, terminated: Bool, truncated: Bool)?
    private var started = false
    private var lastAction: Action?

    public init(_ base: any ParallelAgent) {
        precondition(base.environmentCount == 1, "SingleEnvironmentAgent needs a parallel agent with one environment")
        self.base = base
    }

    public var id: String { base.id }
    public var configuration: Configuration { base.configuration }
    public var frames: Int { base.frames }
    public var mode: AgentMode {
        get { base.mode }
        set { base.mode = newValue }
    }

    public func reset(observation: [Float]) -> Action {
        let action: Action
        if let end = pendingEnd, started {
            action = base.step(
                observations: observation, rewards: [end.reward], terminated: [end.terminated], truncated: [end.truncated],
                finalObservations: [end.observation]
            ).actions[0]
        } else {
            action = base.reset(observations: observation)[0]
        }
        pendingEnd = nil
        started = true
        lastAction = action
        return action
    }

    public func step(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) -> AgentStep {
        precondition(started, "call reset(observation:) before step")
        if terminated || truncated {
            pendingEnd = (observation, reward, terminated, truncated)
            // The loop resets next; the real transition is handed over then.
            return AgentStep(action: lastAction!, info: AgentInfo())
        }
        let step = base.step(observations: observation, rewards: [reward], terminated: [false], truncated: [false], finalObservations: [nil])
        lastAction = step.actions[0]
        return AgentStep(action: step.actions[0], info: step.info)
    }

    public func save(to writer: CheckpointWriter) throws { try base.save(to: writer) }
    public func restore(from reader: CheckpointReader) throws { try base.restore(from: reader) }
}
