import ColonyEnvironments
import ColonyNumerics

/// Tabular Q-learning (Watkins, 1989; Sutton & Barto, §6.5) for discrete observations and actions,
/// e.g. CliffWalking-v1:
///
///     Q(s, a) ← Q(s, a) + α · (r + γ · max_a′ Q(s′, a′) − Q(s, a))     (no bootstrap at termination)
///
/// The behaviour policy is ε-greedy with ε on the frame clock (SB3's exploration keys); the table
/// is updated after every step of every environment. Greedy actions break ties uniformly at random,
/// so an untrained (all-equal) table still walks instead of repeating one action forever.
public final class QLearning: ParallelAgent {
    public static let schema = ConfigurationSchema(agent: "q_learning", keys: [
        ConfigurationKey("num_envs", .int(1), "environments the trainer steps together (each updates the one table)", range: 1...4096),
        ConfigurationKey("total_frames", .int(20_000), "frames the ε schedule is laid out over", range: 1...1e12),
        ConfigurationKey("learning_rate", .double(0.5), "step size α of the tabular update", range: 0...1),
        ConfigurationKey("gamma", .double(0.99), "discount factor γ", range: 0...1),
        ConfigurationKey("initial_q", .double(0), "initial value of every table entry (optimistic values explore more)", range: -1e9...1e9),
        ConfigurationKey("exploration_initial_eps", .double(0.1), "ε of the ε-greedy policy at frame 0", range: 0...1),
        ConfigurationKey("exploration_final_eps", .double(0.1), "ε after the decay", range: 0...1),
        ConfigurationKey("exploration_fraction", .double(0.5), "fraction of total_frames over which ε decays linearly", range: 0...1),
    ])

    public let id = "q_learning"
    public let configuration: Configuration
    public let environmentCount: Int
    public let observationSpace: Space
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public private(set) var frames = 0

    private let stateCount: Int
    private let actionCount: Int
    private let learningRate: Float
    private let gamma: Float
    private let exploration: Schedule
    private let evaluationSeed: UInt64

    /// Q(s, a) at `table[s · actionCount + a]`.
    public private(set) var table: [Float]
    private var explorationRNG: RandomSource
    /// Tie-breaking of the evaluation policy; restarts at every evaluation reset, so evaluations repeat.
    private var evaluationRNG: RandomSource
    private var lastStates: [Int]
    private var lastActions: [Int]
    private var started = false

    public init(configuration: Configuration, context: AgentContext) throws {
        precondition(configuration.agent == Self.schema.agent, "QLearning needs a q_learning configuration, got \(configuration.agent)")
        self.configuration = configuration
        environmentCount = context.environmentCount
        observationSpace = context.observationSpace
        actionSpace = context.actionSpace
        actionCount = try discreteCount(of: context.actionSpace, agent: "q_learning", role: "action")
        stateCount = try discreteCount(of: context.observationSpace, agent: "q_learning", role: "observation")
        let c = configuration
        learningRate = c.float("learning_rate")
        gamma = c.float("gamma")
        exploration = explorationSchedule(
            initial: c.float("exploration_initial_eps"), final: c.float("exploration_final_eps"),
            fraction: c.double("exploration_fraction"), totalFrames: c.int("total_frames"))
        table = [Float](repeating: c.float("initial_q"), count: stateCount * actionCount)
        var root = RandomSource(seed: context.seed)
        explorationRNG = root.split()
        evaluationSeed = root.next()
        evaluationRNG = RandomSource(seed: evaluationSeed)
        lastStates = [Int](repeating: 0, count: environmentCount)
        lastActions = [Int](repeating: 0, count: environmentCount)
    }

    public var explorationRate: Float { exploration.value(at: frames) }

    public func reset(observations: [Float]) -> [Action] {
        precondition(observations.count == environmentCount, "expected \(environmentCount) observations")
        guard mode == .train else {
            evaluationRNG = RandomSource(seed: evaluationSeed)
            return greedy(observations)
        }
        started = true
        return act(observations)
    }

    public func step(
        observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]
    ) -> ParallelAgentStep {
        precondition(observations.count == environmentCount, "expected \(environmentCount) observations")
        guard mode == .train else { return ParallelAgentStep(actions: greedy(observations)) }
        precondition(started, "call reset(observations:) before step")
        frames += environmentCount

        // The tabular update for every environment's transition (s, a, r, s′); s′ is the final
        // observation of a finished episode, and a truncated one still bootstraps from it.
        var squaredError = 0.0, meanQ = 0.0
        for env in 0..<environmentCount {
            let s = lastStates[env], a = lastActions[env]
            let next = state(finalObservations[env]?[0] ?? observations[env])
            let bootstrap = terminated[env] ? 0 : gamma * maxValue(next)
            let entry = s * actionCount + a
            let delta = Float(rewards[env]) + bootstrap - table[entry]
            meanQ += Double(table[entry])
            table[entry] += learningRate * delta
            squaredError += Double(delta * delta)
        }
        let info = AgentInfo([
            "losses/td_loss": squaredError / Double(environmentCount),
            "losses/q_values": meanQ / Double(environmentCount),
            "charts/epsilon": Double(explorationRate),
            "charts/learning_rate": Double(learningRate),
        ])
        return ParallelAgentStep(actions: act(observations), info: info)
    }

    /// ε-greedy on the training stream; remembers states and actions for the next update.
    private func act(_ observations: [Float]) -> [Action] {
        let epsilon = explorationRate
        for env in 0..<environmentCount {
            let s = state(observations[env])
            lastStates[env] = s
            lastActions[env] = explorationRNG.nextFloat() < epsilon
                ? explorationRNG.nextInt(below: actionCount) : greedyAction(s, rng: &explorationRNG)
        }
        return lastActions.map { .discrete($0) }
    }

    private func greedy(_ observations: [Float]) -> [Action] {
        observations.map { .discrete(greedyAction(state($0), rng: &evaluationRNG)) }
    }

    /// argmax_a Q(s, a), uniformly among tied actions.
    private func greedyAction(_ s: Int, rng: inout RandomSource) -> Int {
        let row = s * actionCount
        var best = 0, ties = 1
        for a in 1..<actionCount {
            if table[row + a] > table[row + best] {
                best = a
                ties = 1
            } else if table[row + a] == table[row + best] {
                ties += 1
                if rng.nextInt(below: ties) == 0 { best = a }  // reservoir sampling over the ties
            }
        }
        return best
    }

    private func maxValue(_ s: Int) -> Float {
        table[(s * actionCount)..<((s + 1) * actionCount)].max()!
    }

    private func state(_ observation: Float) -> Int {
        let s = Int(observation)
        precondition(s >= 0 && s < stateCount && Float(s) == observation, "q_learning: observation \(observation) is not a state index in 0..<\(stateCount)")
        return s
    }

    public func save(to writer: CheckpointWriter) throws {
        try writer.write(table, shape: [stateCount, actionCount], "q_table")
        try writer.write(explorationRNG.state, "rng/exploration")
        try writer.write(evaluationRNG.state, "rng/evaluation")
        try writer.write(lastStates, "last_states")
        try writer.write(lastActions, "last_actions")
        try writer.write([frames, started ? 1 : 0], "counters")
    }

    public func restore(from reader: CheckpointReader) throws {
        table = try reader.floats("q_table", count: stateCount * actionCount)
        explorationRNG = try reader.randomSource("rng/exploration")
        evaluationRNG = try reader.randomSource("rng/evaluation")
        let states = try reader.indices("last_states", below: stateCount), actions = try reader.indices("last_actions", below: actionCount)
        guard states.count == environmentCount, actions.count == environmentCount else {
            throw CheckpointError.shapeMismatch(entry: reader.path("last_states"), expected: environmentCount, found: states.count)
        }
        (lastStates, lastActions) = (states, actions)
        let counters = try reader.ints("counters")
        guard counters.count == 2 else { throw CheckpointError.shapeMismatch(entry: reader.path("counters"), expected: 2, found: counters.count) }
        (frames, started) = (counters[0], counters[1] != 0)
    }
}
