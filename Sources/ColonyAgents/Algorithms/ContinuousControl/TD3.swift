import ColonyNumerics

// Twin Delayed DDPG (Fujimoto et al., 2018, "Addressing Function Approximation Error in
// Actor-Critic Methods"), read like cleanrl/td3_continuous_action.py: the configuration, the
// agent, then the learner's update in phases. TD3 is DDPG plus three tricks, each marked below:
// clipped double Q (the minimum of twin target critics), target policy smoothing (clipped noise on
// the target action) and delayed policy updates (actor and targets every `policy_delay` critic
// updates). With the tricks switched off the same learner is DDPG, as in Stable-Baselines3.

/// TD3: a deterministic tanh actor trained through the first of two critics.
public final class TD3: OffPolicyContinuousAgent {
    public static let schema = ConfigurationSchema(
        agent: "td3",
        keys: OffPolicyConfigurationKeys.shared(
            totalFrames: 20_000, hiddenSizes: [64, 64], learningRate: 1e-3, batchSize: 256, learningStarts: 1_000,
            trained: "the actor and the critics")
            + TD3Learner.explorationAndDelayKeys(policyDelay: 2, policyDelayNote: "delayed policy updates") + [
            ConfigurationKey("target_policy_noise", .double(0.2), "σ of the noise on the target action (target policy smoothing)", range: 0...10),
            ConfigurationKey("target_noise_clip", .double(0.5), "bound on the target action noise", range: 0...10),
        ],
        reconfigurable: [
            "learning_rate", "gamma", "tau", "batch_size", "learning_starts", "train_freq", "gradient_steps", "exploration_noise",
            "policy_delay", "target_policy_noise", "target_noise_clip",
        ], resizable: ["hidden_sizes"], sharesReplay: true, perturbsParameters: true)

    public let id = "td3"
    public let driver: OffPolicyDriver
    public let learner: TD3Learner

    public init(configuration: Configuration, context: AgentContext) throws {
        (driver, learner) = try TD3Learner.makeAgentParts(
            configuration: configuration, context: context, algorithm: "td3", twinCritics: true,
            targetPolicyNoise: configuration.float("target_policy_noise"), targetNoiseClip: configuration.float("target_noise_clip"))
    }
}

/// The deterministic-policy learner of TD3 and DDPG: a tanh actor μ(s) ∈ [−1, 1]ᵈ and one or two
/// critics, each with a Polyak target.
public final class TD3Learner: ContinuousActorCriticLearner {
    public struct Options: Sendable, Equatable {
        /// Two critics whose target minimum is bootstrapped from (clipped double Q); false: one critic.
        public var twinCritics: Bool
        /// σ̃ of the Gaussian noise on the target action (target policy smoothing); 0 turns it off.
        public var targetPolicyNoise: Float
        /// The noise is clipped to [−c, c] before it is added.
        public var targetNoiseClip: Float
        /// Critic updates per actor-and-target update (delayed policy updates); 1 updates every step.
        public var policyDelay: Int
        /// σ of the Gaussian exploration noise added to μ(s) when acting in train mode.
        public var explorationNoise: Float

        public init(twinCritics: Bool, targetPolicyNoise: Float, targetNoiseClip: Float, policyDelay: Int, explorationNoise: Float) {
            self.twinCritics = twinCritics
            self.targetPolicyNoise = targetPolicyNoise
            self.targetNoiseClip = targetNoiseClip
            self.policyDelay = policyDelay
            self.explorationNoise = explorationNoise
        }
    }

    public let options: Options
    public let observationSize: Int
    public let actionSize: Int
    /// s ↦ μ(s) = tanh(·) ∈ [−1, 1]ᵈ, with a Polyak target μ'.
    public let actor: Approximation<any Network>
    public let critics: QCritics
    public let tau: Float
    /// Critic updates so far; the actor updates when it is a multiple of `policyDelay`.
    public private(set) var criticUpdates = 0
    /// Target policy smoothing noise.
    private var rng: RandomSource

    public init(
        observationSize: Int, actionSize: Int, hiddenSizes: [Int], activation: Activation, learningRate: Float, tau: Float,
        options: Options, initializationRNG: inout RandomSource, learningRNG: RandomSource
    ) {
        self.options = options
        self.observationSize = observationSize
        self.actionSize = actionSize
        let network = MLP(
            sizes: [observationSize] + hiddenSizes + [actionSize], hidden: activation, output: .tanh,
            initialization: .torchLinearDefault, rng: &initializationRNG)
        actor = Approximation(name: "actor", model: network, optimizer: Adam(), schedule: .constant(learningRate), target: network.copy())
        critics = QCritics(
            count: options.twinCritics ? 2 : 1, observationSize: observationSize, actionSize: actionSize,
            hiddenSizes: hiddenSizes, activation: activation, learningRate: learningRate, rng: &initializationRNG)
        self.tau = tau
        rng = learningRNG
    }

    /// The keys TD3 and DDPG share beyond `OffPolicyConfigurationKeys.shared`.
    static func explorationAndDelayKeys(policyDelay: Int, policyDelayNote: String) -> [ConfigurationKey] {
        [
            ConfigurationKey(
                "exploration_noise", .double(0.1), "σ of the Gaussian noise on training actions, in units of half the action range",
                range: 0...10),
            ConfigurationKey("policy_delay", .int(policyDelay), "critic updates per actor and target update (\(policyDelayNote))", range: 1...1e6),
        ]
    }

    /// The driver and learner of a TD3-family agent; `exploration_noise`, `policy_delay` and the
    /// network keys come from `configuration`.
    static func makeAgentParts(
        configuration: Configuration, context: AgentContext, algorithm: String, twinCritics: Bool, targetPolicyNoise: Float,
        targetNoiseClip: Float
    ) throws -> (OffPolicyDriver, TD3Learner) {
        var streams = OffPolicyRandomStreams(seed: context.seed)
        let driver = try OffPolicyDriver(configuration: configuration, context: context, algorithm: algorithm, streams: streams)
        let options = Options(
            twinCritics: twinCritics, targetPolicyNoise: targetPolicyNoise, targetNoiseClip: targetNoiseClip,
            policyDelay: configuration.int("policy_delay"), explorationNoise: configuration.float("exploration_noise"))
        let learner = TD3Learner(
            observationSize: driver.observationSize, actionSize: driver.actionScaling.dimension,
            hiddenSizes: configuration.intList("hidden_sizes"), activation: OffPolicyConfigurationKeys.activation(configuration),
            learningRate: configuration.float("learning_rate"), tau: configuration.float("tau"), options: options,
            initializationRNG: &streams.initialization, learningRNG: streams.learning)
        return (driver, learner)
    }

    /// μ(s), plus N(0, σ²) exploration noise clipped to [−1, 1] when exploring.
    public func act(observations: [Float], count: Int, explore: Bool, rng: inout RandomSource) -> [Float] {
        var actions = actor.model.actingOutputs(observations, count: count)
        if explore {
            for index in actions.indices {
                actions[index] = Swift.min(Swift.max(actions[index] + options.explorationNoise * rng.normal(), -1), 1)
            }
        }
        return actions
    }

    public func learn(from batch: TransitionBatch) -> AgentInfo {
        let count = batch.count

        // Phase 1: targets y = r + γ(1 − d)·min_k Q'_k(s', a') with a' = clip(μ'(s') + clip(ε, −c, c), −1, 1)
        // (clipped double Q and target policy smoothing; DDPG: y = r + γ(1 − d)·Q'(s', μ'(s'))).
        let noise = options.targetPolicyNoise > 0 ? (0..<(count * actionSize)).map { _ in options.targetPolicyNoise * rng.normal() } : nil
        let targets = targetValues(batch, noise: noise)

        // Phase 2: every critic regresses on y.
        let critic = critics.regress(observations: batch.observations, actions: batch.actions, targets: targets, count: count)
        criticUpdates += 1
        var info = AgentInfo(["losses/qf_loss": Double(critic.loss), "losses/q_values": Double(critic.meanQ)])

        // Phase 3 (delayed policy update): the actor ascends Q_1: minimize −mean_i Q_1(s_i, μ(s_i)).
        if criticUpdates % options.policyDelay == 0 {
            info["losses/actor_loss"] = Double(accumulateActorGradients(observations: batch.observations, count: count))
            actor.step()

            // Phase 4 (delayed with the actor): Polyak averaging of the target actor and critics.
            actor.updateTarget(tau: tau)
            critics.updateTargets(tau: tau)
        }
        return info
    }

    // MARK: Phases, separately testable

    /// y_i = r_i + discount_i·min_k Q'_k(s'_i, clip(μ'(s'_i) + clip(ε_i, −c, c), −1, 1)); `noise` nil: ε = 0.
    func targetValues(_ batch: TransitionBatch, noise: [Float]?) -> [Float] {
        let count = batch.count
        var nextActions = actor.target!.forward(Tensor(shape: [count, observationSize], scalars: batch.nextObservations)).scalars
        if let noise {
            let c = options.targetNoiseClip
            for index in nextActions.indices {
                nextActions[index] = Swift.min(Swift.max(nextActions[index] + Swift.min(Swift.max(noise[index], -c), c), -1), 1)
            }
        }
        let nextQ = critics.targetMinimum(observations: batch.nextObservations, actions: nextActions, count: count)
        return (0..<count).map { i in batch.rewards[i] + batch.discounts[i] * nextQ[i] }
    }

    /// Adds ∂L/∂θ_actor for L = −(1/B)·Σ_i Q_1(s_i, μ(s_i)) (the deterministic policy gradient, through
    /// the critic's action gradient) into the actor's gradients and returns L.
    func accumulateActorGradients(observations: [Float], count: Int) -> Float {
        let actions = actor.model.forward(Tensor(shape: [count, observationSize], scalars: observations))
        let q = critics.actionGradient(observations: observations, actions: actions.scalars, count: count, reduction: .first)
        let inverseCount = 1 / Float(count)
        actor.model.backward(Tensor(shape: [count, actionSize], scalars: q.gradient.map { -$0 * inverseCount }))
        return -q.values.reduce(0, +) * inverseCount
    }

    public func save(to writer: CheckpointWriter) throws {
        try actor.save(to: writer)
        try critics.save(to: writer)
        try writer.write(criticUpdates, "critic_updates")
        try writer.write(rng.state, "rng")
    }

    public func restore(from reader: CheckpointReader) throws {
        try actor.restore(from: reader)
        try critics.restore(from: reader)
        criticUpdates = try reader.int("critic_updates")
        rng = try reader.randomSource("rng")
    }
}
