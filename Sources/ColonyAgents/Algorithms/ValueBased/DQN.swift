import ColonyEnvironments
import ColonyNumerics

/// Deep Q-learning (Mnih et al., 2015) with the Rainbow-era options that each are one key:
/// double Q (van Hasselt et al., 2016), a dueling head (Wang et al., 2016), n-step returns
/// (Sutton, 1988; Hessel et al., 2018) and proportional prioritized replay (Schaul et al., 2016).
///
/// Reads like CleanRL's `dqn.py` with SB3's schedule semantics: the configuration, then acting
/// (ε-greedy over N environments), storing transitions, and the update in phases — sample, targets,
/// TD error, loss, backward, priorities, target sync. Every count is in frames (environment steps
/// summed over the N environments), so `train_freq`, `gradient_steps`, `learning_starts` and
/// `target_update_interval` mean the same whatever N is. Defaults are rl-baselines3-zoo's CartPole-v1.
public final class DQN: ReplaySharing, ParameterPerturbing, ArchitectureResizing {
    public static let schema = ConfigurationSchema(agent: "dqn", keys: [
        ConfigurationKey("num_envs", .int(1), "environments the trainer steps together (the agent acts on all of them with one forward pass)", range: 1...4096),
        ConfigurationKey("total_frames", .int(50_000), "frames the schedules (ε decay, importance-sampling β) are laid out over", range: 1...1e12),
        EncoderArchitecture.key,
        ConfigurationKey("hidden_sizes", .intList([256, 256]), "widths of the Q-network's hidden ReLU layers (the torso when dueling; mlp encoder)", range: 1...65_536),
        ConfigurationKey("learning_rate", .double(2.3e-3), "Adam step size", range: 0...1),
        ConfigurationKey("adam_epsilon", .double(1e-8), "Adam's ε (PyTorch's default)", range: 0...1),
        ConfigurationKey("gamma", .double(0.99), "discount factor γ", range: 0...1),
        ConfigurationKey("loss", .string("huber"), "TD loss: huber (smooth L1, error clipping of Mnih et al.) or mse", choices: DQNLearner.Loss.allCases.map(\.rawValue)),
        ConfigurationKey("max_grad_norm", .double(10), "clip the gradients' global L2 norm to this (0: no clipping)", range: 0...1e9),
        ConfigurationKey("double_q", .bool(false), "double DQN: the online network picks the next action, the target network evaluates it"),
        ConfigurationKey("dueling", .bool(false), "dueling head: Q = V + A − mean(A) from separate value and advantage streams"),
        ConfigurationKey("n_step", .int(1), "n-step returns: bootstrap from the state n steps ahead with γⁿ", range: 1...1000),
        ConfigurationKey("prioritized_replay", .bool(false), "proportional prioritized replay with importance-sampling weights"),
        ConfigurationKey("priority_alpha", .double(0.6), "priority exponent α: P(i) ∝ (|δ_i| + ε)^α", range: 0...10),
        ConfigurationKey("priority_beta_start", .double(0.4), "importance-sampling exponent β at frame 0", range: 0...1),
        ConfigurationKey("priority_beta_end", .double(1.0), "importance-sampling exponent β at total_frames (linear in between)", range: 0...1),
        ConfigurationKey("priority_epsilon", .double(1e-6), "added to |δ| so that no transition has zero priority", range: 0...1),
        ConfigurationKey("buffer_size", .int(100_000), "replay capacity in transitions (oldest evicted first)", range: 1...1e9),
        ConfigurationKey("batch_size", .int(64), "transitions per gradient step", range: 1...1e6),
        ConfigurationKey("learning_starts", .int(1000), "frames of uniformly random actions before the first update", range: 0...1e12),
        ConfigurationKey("train_freq", .int(256), "frames between training rounds", range: 1...1e9),
        ConfigurationKey("gradient_steps", .int(128), "gradient steps per training round (-1: one per frame collected since the last round)", range: -1...1e9),
        ConfigurationKey("target_update_interval", .int(10), "frames between target-network updates", range: 1...1e12),
        ConfigurationKey("tau", .double(1.0), "target update coefficient: θ⁻ ← τθ + (1 − τ)θ⁻ (1: hard copy)", range: 0...1),
        ConfigurationKey("exploration_initial_eps", .double(1.0), "ε of the ε-greedy policy at frame 0", range: 0...1),
        ConfigurationKey("exploration_final_eps", .double(0.04), "ε after the decay", range: 0...1),
        ConfigurationKey("exploration_fraction", .double(0.16), "fraction of total_frames over which ε decays linearly", range: 0...1),
    ], reconfigurable: [
        "learning_rate", "adam_epsilon", "gamma", "loss", "max_grad_norm", "double_q", "batch_size", "learning_starts", "train_freq",
        "gradient_steps", "target_update_interval", "tau", "exploration_initial_eps", "exploration_final_eps", "exploration_fraction",
    ], resizable: ["hidden_sizes"], sharesReplay: true, perturbsParameters: true)

    public let id = "dqn"
    public let configuration: Configuration
    public let environmentCount: Int
    public let observationSpace: Space
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public private(set) var frames = 0

    // Hyperparameters, read once.
    private let actionCount: Int
    private let gamma: Float
    /// When it acts at random and how many gradient steps it takes, as SAC and TD3 do.
    private let schedule: OffPolicySchedule
    private let targetUpdateInterval: Int
    private let tau: Float
    private let exploration: Schedule
    private let priorityBeta: Schedule

    // Blocks.
    public let learner: DQNLearner
    public let replay: ReplayBuffer
    private var nStepReturns: NStepAccumulator?

    // Independent random streams (one seed reproduces the run; one stream's draws never shift another's).
    private var explorationRNG: RandomSource
    private var replayRNG: RandomSource

    // What the agent acted on, to build the next transitions; frame counters of the schedules.
    private var lastObservations: [Float]
    private var lastActions: [Int]
    private var encodedActions: [Float]
    private var greedyScratch: [Int]
    /// The minibatch `train` samples into, reused from step to step.
    private var batch: TransitionBatch
    /// Per buffer slot, its row in the current round's shared bootstrap values; -1 outside a round.
    private var distinctRow: [Int] = []
    private var started = false
    private var framesSinceTargetUpdate = 0

    public init(configuration: Configuration, context: AgentContext) throws {
        precondition(configuration.agent == Self.schema.agent, "DQN needs a dqn configuration, got \(configuration.agent)")
        self.configuration = configuration
        environmentCount = context.environmentCount
        observationSpace = context.observationSpace
        actionSpace = context.actionSpace
        actionCount = try discreteCount(of: context.actionSpace, agent: "dqn", role: "action")

        let c = configuration
        gamma = c.float("gamma")
        schedule = OffPolicySchedule(
            learningStarts: c.int("learning_starts"), trainFrequency: c.int("train_freq"),
            gradientSteps: c.int("gradient_steps"), batchSize: c.int("batch_size"))
        targetUpdateInterval = c.int("target_update_interval")
        tau = c.float("tau")
        let totalFrames = c.int("total_frames")
        exploration = explorationSchedule(
            initial: c.float("exploration_initial_eps"), final: c.float("exploration_final_eps"),
            fraction: c.double("exploration_fraction"), totalFrames: totalFrames)
        priorityBeta = .linearDecay(from: c.float("priority_beta_start"), to: c.float("priority_beta_end"), over: totalFrames)

        var root = RandomSource(seed: context.seed)
        var networkRNG = root.split()
        explorationRNG = root.split()
        replayRNG = root.split()

        let observationSize = context.observationSpace.elementCount
        learner = try DQNLearner(configuration: c, observationSpace: context.observationSpace, actionCount: actionCount, rng: &networkRNG)
        let storesBytes = context.observationSpace.storesAsBytes
        try ReplayBuffer.checkFitsMemory(capacity: c.int("buffer_size"), observationSize: observationSize, actionSize: 1, storesBytes: storesBytes,
                                         chunkSize: context.observationSpace.replayChunkSize, agent: id)
        replay = ReplayBuffer(
            capacity: c.int("buffer_size"), observationSize: observationSize, actionSize: 1,
            prioritized: c.bool("prioritized_replay")
                ? PrioritizedReplayOptions(alpha: c.double("priority_alpha"), epsilon: c.double("priority_epsilon")) : nil,
            storesBytes: storesBytes, chunkSize: context.observationSpace.replayChunkSize)
        let n = c.int("n_step")
        nStepReturns = n > 1 ? NStepAccumulator(steps: n, gamma: gamma, environments: environmentCount) : nil

        lastObservations = [Float](repeating: 0, count: environmentCount * observationSize)
        lastActions = [Int](repeating: 0, count: environmentCount)
        encodedActions = [Float](repeating: 0, count: environmentCount)
        greedyScratch = [Int](repeating: 0, count: environmentCount)
        batch = TransitionBatch(count: schedule.batchSize, observationSize: observationSize, actionSize: 1)
    }

    /// ε of the behaviour policy at the current frame.
    public var explorationRate: Float { exploration.value(at: frames) }

    // MARK: Acting

    public func reset(observations: [Float]) -> [Action] {
        precondition(observations.count == environmentCount * observationSize, "expected \(environmentCount) × \(observationSize) observations")
        guard mode == .train else { return greedy(observations) }
        nStepReturns?.clear()  // partial windows of abandoned episodes are not transitions
        started = true
        return act(observations)
    }

    public func step(
        observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]
    ) -> ParallelAgentStep {
        precondition(observations.count == environmentCount * observationSize, "expected \(environmentCount) × \(observationSize) observations")
        guard mode == .train else { return ParallelAgentStep(actions: greedy(observations)) }
        precondition(started, "call reset(observations:) before step")
        let previousFrames = frames
        frames += environmentCount
        store(observations: observations, rewards: rewards, terminated: terminated, truncated: truncated, finalObservations: finalObservations)

        // Target sync on the frame clock, as SB3 does it (every target_update_interval frames,
        // whether or not a gradient step happened in between).
        framesSinceTargetUpdate += environmentCount
        if framesSinceTargetUpdate >= targetUpdateInterval {
            framesSinceTargetUpdate %= targetUpdateInterval
            learner.updateTarget(tau: tau)
        }

        // Train every train_freq frames once learning_starts frames have passed.
        var info = AgentInfo()
        let steps = schedule.gradientStepsDue(from: previousFrames, to: frames)
        if replay.count > 0 && steps > 0 { info = train(gradientSteps: steps) }
        return ParallelAgentStep(actions: act(observations), info: info)
    }

    /// ε-greedy actions on the training stream (uniformly random before learning_starts), remembered
    /// with their observations for the next transitions. One coin per environment; one batched
    /// forward for the environments that exploit.
    private func act(_ observations: [Float]) -> [Action] {
        let epsilon = schedule.actsRandomly(afterFrames: frames) ? 1 : explorationRate
        var computedGreedy = false
        for env in 0..<environmentCount {
            if explorationRNG.nextFloat() < epsilon {
                lastActions[env] = explorationRNG.nextInt(below: actionCount)
            } else {
                if !computedGreedy {
                    learner.online.greedyActions(observations, count: environmentCount, into: &greedyScratch)
                    computedGreedy = true
                }
                lastActions[env] = greedyScratch[env]
            }
        }
        // Copied into our own buffer: holding the caller's array would make its next step copy it.
        lastObservations.withUnsafeMutableBufferPointer { target in
            observations.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }
        return lastActions.map { .discrete($0) }
    }

    /// The evaluation policy: argmax_a Q(s, a), touching no training state.
    private func greedy(_ observations: [Float]) -> [Action] {
        var actions = [Int](repeating: 0, count: environmentCount)
        learner.online.greedyActions(observations, count: environmentCount, into: &actions)
        return actions.map { .discrete($0) }
    }

    // MARK: Storing

    /// One transition per environment (s, a, r, s′, γ or 0): s′ is the final observation when the
    /// episode ended (a truncated one bootstraps from it), n-step windows when n > 1.
    private func store(observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]) {
        let size = observationSize, replay = self.replay
        for env in 0..<environmentCount {
            encodedActions[env] = Float(lastActions[env])
            let observation = lastObservations[(env * size)..<((env + 1) * size)]
            let action = encodedActions[env..<(env + 1)]
            let next = finalObservations[env].map { $0[...] } ?? observations[(env * size)..<((env + 1) * size)]
            let reward = Float(rewards[env])
            if nStepReturns != nil {
                nStepReturns!.record(
                    env: env, observation: observation, action: action, reward: reward, next: next,
                    terminated: terminated[env], truncated: truncated[env]
                ) { observation, action, reward, next, discount in
                    replay.add(observation: observation, action: action, reward: reward, nextObservation: next, discount: discount)
                }
            } else {
                replay.add(observation: observation, action: action, reward: reward, nextObservation: next, discount: terminated[env] ? 0 : gamma)
            }
        }
    }

    // MARK: Training

    private var batchSize: Int { schedule.batchSize }

    private func train(gradientSteps: Int) -> AgentInfo {
        let beta = Double(priorityBeta.value(at: frames))
        // 0. Plain DQN targets with uniform replay: every target of this round bootstraps from the same
        // target network (it syncs on the frame clock, between rounds), so draw the round's minibatches
        // up front and evaluate max_a Q_target(s′, a) once per distinct transition.
        let round = gradientSteps > 1 && replay.prioritized == nil && !learner.doubleQ ? sharedBootstrapValues(steps: gradientSteps) : nil
        var loss = 0.0, meanQ = 0.0
        for index in 0..<gradientSteps {
            let step: DQNLearner.Step
            if let round {
                // 1–5 with the round's draws and bootstrap values.
                let rows = round.indices[(index * batchSize)..<((index + 1) * batchSize)]
                replay.gather(rows, into: &batch)
                step = learner.learn(from: batch, bootstrapValues: rows.map { round.values[distinctRow[$0]] })
            } else {
                // 1. Sample: uniform, or proportional to priority with importance weights (β annealed to 1).
                replay.sample(batchSize, rng: &replayRNG, beta: beta, into: &batch)
                // 2–5. Targets (double Q / n-step discount), TD error, Huber loss, backward, Adam step.
                step = learner.learn(from: batch)
            }
            // 6. Priorities from the new TD errors: p_i = (|δ_i| + ε)^α (a no-op for uniform replay).
            replay.updatePriorities(indices: batch.indices, tdErrors: step.tdErrors)
            loss += step.loss
            meanQ += step.meanQ
        }
        // 7. The target sync runs on the frame clock in `step`.
        if let round { for slot in round.indices { distinctRow[slot] = -1 } }
        return AgentInfo([
            "losses/td_loss": loss / Double(gradientSteps),
            "losses/q_values": meanQ / Double(gradientSteps),
            "charts/epsilon": Double(explorationRate),
            "charts/learning_rate": Double(learner.learningRate),
        ])
    }

    /// The round's `steps × batchSize` uniform draws (the very draws `sample` would make one batch at a
    /// time) and the bootstrap value of each distinct transition among them, at `distinctRow[slot]`.
    /// The values are computed in forwards of `batchSize` rows, the per-step shape, so each comes out as
    /// it would in its own step. Early on, with a small buffer, most draws repeat; at 50k transitions
    /// one in ten still does.
    private func sharedBootstrapValues(steps: Int) -> (indices: [Int], values: [Float]) {
        let indices = replay.uniformIndices(steps * batchSize, rng: &replayRNG)
        if distinctRow.count != replay.capacity { distinctRow = [Int](repeating: -1, count: replay.capacity) }
        var distinct: [Int] = []
        for slot in indices where distinctRow[slot] < 0 {
            distinctRow[slot] = distinct.count
            distinct.append(slot)
        }
        var values = [Float]()
        values.reserveCapacity(distinct.count)
        for start in stride(from: 0, to: distinct.count, by: batchSize) {
            // The last chunk is padded with its final slot to a full batch.
            let chunk = distinct[start..<min(start + batchSize, distinct.count)]
            replay.gather(chunk + repeatElement(chunk.last!, count: batchSize - chunk.count), into: &batch)
            values.append(contentsOf: learner.bootstrapValues(for: batch).prefix(chunk.count))
        }
        return (indices, values)
    }

    // MARK: Checkpoint

    public func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        learner.approximation.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    public var layerStackEntries: [LayerStackEntry] { learner.approximation.layerStackEntries() }

    public func saveReplay(to writer: CheckpointWriter) throws { try replay.save(to: writer) }

    public func restoreReplay(from reader: CheckpointReader) throws {
        try replay.restore(from: reader)
        // Stored actions are indices into the Q-values: each must be one of this space's actions.
        try reader.checkDiscreteActions(Array(replay.storedActions), actionCount: actionCount, entry: "actions")
    }

    public func save(to writer: CheckpointWriter) throws {
        try learner.save(to: writer)
        try replay.save(to: writer.group("replay"))
        if let nStepReturns { try nStepReturns.save(to: writer.group("n_step")) }
        try writer.write(explorationRNG.state, "rng/exploration")
        try writer.write(replayRNG.state, "rng/replay")
        try writer.write(lastObservations, "last_observations")
        try writer.write(lastActions, "last_actions")
        // The second counter is the frames since the last training round, kept for the layout
        // (the schedule derives it from `frames`).
        try writer.write([frames, frames % schedule.trainFrequency, framesSinceTargetUpdate, started ? 1 : 0], "counters")
    }

    public func restore(from reader: CheckpointReader) throws {
        try learner.restore(from: reader)
        try restoreReplay(from: reader.group("replay"))
        if nStepReturns != nil {
            try nStepReturns!.restore(from: reader.group("n_step"))
            let nStep = reader.group("n_step")
            try nStep.checkDiscreteActions(try nStep.floats("actions"), actionCount: actionCount, entry: "actions")
        }
        explorationRNG = try reader.randomSource("rng/exploration")
        replayRNG = try reader.randomSource("rng/replay")
        lastObservations = try reader.floats("last_observations", count: lastObservations.count)
        let actions = try reader.indices("last_actions", below: actionCount)
        guard actions.count == environmentCount else {
            throw CheckpointError.shapeMismatch(entry: reader.path("last_actions"), expected: environmentCount, found: actions.count)
        }
        lastActions = actions
        let counters = try reader.ints("counters")
        guard counters.count == 4 else { throw CheckpointError.shapeMismatch(entry: reader.path("counters"), expected: 4, found: counters.count) }
        (frames, framesSinceTargetUpdate, started) = (counters[0], counters[2], counters[3] != 0)
    }
}
