import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

/// The built-in uniform random agent with what the trainer's tests also need: a float key they can
/// set and a loss scalar in every training step's info. Cheap enough to exercise the trainer's files,
/// checkpoints and resume without the cost of learning; its random stream is checkpointed.
final class UniformRandomAgent: ParallelAgent {
    static let schema = ConfigurationSchema(agent: "test_uniform", keys: [
        ConfigurationKey("num_envs", .int(2), "environments stepped together", range: 1...64),
        ConfigurationKey("learning_rate", .double(0.1), "unused; lets tests set a float", range: 0...1),
    ])

    static func register() {
        Agents.register("test_uniform", defaults: schema) { configuration, context in
            try UniformRandomAgent(configuration: configuration, context: context)
        }
    }

    let id = "test_uniform"
    let configuration: Configuration
    private let random: any ParallelAgent

    init(configuration: Configuration, context: AgentContext) throws {
        self.configuration = configuration
        random = try Agents.makeParallel(
            "random", observationSpace: context.observationSpace, actionSpace: context.actionSpace,
            environments: context.environmentCount, seed: context.seed)
    }

    var environmentCount: Int { random.environmentCount }
    var observationSpace: Space { random.observationSpace }
    var actionSpace: Space { random.actionSpace }
    var frames: Int { random.frames }
    var mode: AgentMode {
        get { random.mode }
        set { random.mode = newValue }
    }

    func reset(observations: [Float]) -> [Action] { random.reset(observations: observations) }

    func step(observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]) -> ParallelAgentStep {
        var step = random.step(observations: observations, rewards: rewards, terminated: terminated, truncated: truncated, finalObservations: finalObservations)
        if mode == .train { step.info = AgentInfo(["losses/dummy": 1]) }
        return step
    }

    func save(to writer: CheckpointWriter) throws { try random.save(to: writer) }
    func restore(from reader: CheckpointReader) throws { try random.restore(from: reader) }
}
