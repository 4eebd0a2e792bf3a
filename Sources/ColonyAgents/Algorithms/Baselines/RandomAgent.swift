import ColonyEnvironments
import ColonyNumerics

/// The uniform random policy ("random"): every action is a fresh sample of the action space, drawn
/// like Gymnasium's `action_space.sample()`. It does not learn; it is the floor a learning curve
/// should rise above, and the cheapest real agent for exercising runs, checkpoints and grids.
///
/// Its random stream is part of its checkpoint, so a resumed run draws the same actions an
/// uninterrupted one would.
final class RandomAgent: ParallelAgent {
    static let schema = ConfigurationSchema(agent: "random", keys: [
        ConfigurationKey("num_envs", .int(1), "environments stepped together", range: 1...1024),
    ])

    let id = "random"
    let configuration: Configuration
    let environmentCount: Int
    let observationSpace: Space
    let actionSpace: Space
    var mode: AgentMode = .train
    private(set) var frames = 0
    private var rng: RandomSource

    init(configuration: Configuration, context: AgentContext) {
        self.configuration = configuration
        environmentCount = context.environmentCount
        observationSpace = context.observationSpace
        actionSpace = context.actionSpace
        rng = RandomSource(seed: context.seed)
    }

    func reset(observations: [Float]) -> [Action] {
        (0..<environmentCount).map { _ in actionSpace.sample(rng: &rng) }
    }

    func step(observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]) -> ParallelAgentStep {
        if mode == .train { frames += environmentCount }
        return ParallelAgentStep(actions: reset(observations: observations))
    }

    func save(to writer: CheckpointWriter) throws {
        try writer.write(frames, "frames")
        try writer.write(rng.state, "rng")
    }

    func restore(from reader: CheckpointReader) throws {
        frames = try reader.int("frames")
        rng = try reader.randomSource("rng")
    }
}
