import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

/// A uniformly random agent with a checkpointed random stream: enough to exercise the trainer's
/// files, checkpoints and resume without the cost of learning.
final class UniformRandomAgent: ParallelAgent {
    static let schema = ConfigurationSchema(agent: "test_uniform", keys: [
        ConfigurationKey("num_envs", .int(2), "environments stepped together", range: 1...64),
        ConfigurationKey("learning_rate", .double(0.1), "unused; lets tests set a float", range: 0...1),
    ])

    static func register() {
        Agents.register("test_uniform", defaults: schema) { configuration, context in
            UniformRandomAgent(configuration: configuration, context: context)
        }
    }

    let id = "test_uniform"
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

    func reset(observations: [Float]) -> [Action] { (0..<environmentCount).map { _ in actionSpace.sample(rng: &rng) } }

    func step(observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]) -> ParallelAgentStep {
        if mode == .train { frames += environmentCount }
        return ParallelAgentStep(actions: reset(observations: observations), info: mode == .train ? AgentInfo(["losses/dummy": 1]) : AgentInfo())
    }

    func save(to writer: CheckpointWriter) throws {
        try writer.write(frames, "frames")
        try writer.write(rng.state, "rng")
    }

    func restore(from reader: CheckpointReader) throws {
        frames = try reader.int("frames")
        rng = RandomSource(state: try reader.uint64s("rng"))
    }
}
