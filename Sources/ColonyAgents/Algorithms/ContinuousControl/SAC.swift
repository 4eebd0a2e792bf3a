import ColonyNumerics
import Foundation

// Soft Actor-Critic with automatic entropy tuning (Haarnoja et al., 2018, "Soft Actor-Critic
// Algorithms and Applications"), read like cleanrl/sac_continuous_action.py: the configuration,
// the agent, then the learner's update in phases (soft Bellman targets, twin-critic regression,
// reparameterized actor update, temperature update, Polyak averaging).
//
// Conventions as in Stable-Baselines3: actions live in the squashed space [−1, 1]ᵈ for the
// networks and the replay buffer (`BoxActionScaling` maps them to the Box), log π is the density
// of the squashed action, and the actor is updated on every gradient step.

/// SAC: a tanh-Gaussian policy trained against the minimum of two soft Q critics, with the
/// entropy temperature α tuned toward the target entropy −dim(A).
public final class SAC: OffPolicyContinuousAgent {
    public static let schema = ConfigurationSchema(
        agent: "sac",
        keys: OffPolicyConfigurationKeys.shared(
            totalFrames: 20_000, hiddenSizes: [64, 64], learningRate: 1e-3, batchSize: 256, learningStarts: 1_000,
            trained: "the actor, the critics and log α") + [
            ConfigurationKey("autotune", .bool(true), "tune the temperature α toward the target entropy −dim(A) (SAC v2)"),
            ConfigurationKey("initial_alpha", .double(1.0), "starting temperature α when autotune is on", range: 1e-8...1e8),
            ConfigurationKey("alpha", .double(0.2), "fixed temperature α when autotune is off", range: 0...1e8),
        ],
        reconfigurable: ["learning_rate", "gamma", "tau", "batch_size", "learning_starts", "train_freq", "gradient_steps", "alpha"], resizable: ["hidden_sizes"], sharesReplay: true, perturbsParameters: true)

    public let id = "sac"
    public let driver: OffPolicyDriver
    public let learner: SACLearner

    public init(configuration: Configuration, context: AgentContext) throws {
        var streams = OffPolicyRandomStreams(seed: context.seed)
        driver = try OffPolicyDriver(configuration: configuration, context: context, algorithm: "sac", streams: streams)
        learner = SACLearner(
            configuration: configuration, observationSize: driver.observationSize, actionSize: driver.actionScaling.dimension,
            initializationRNG: &streams.initialization, learningRNG: streams.learning)
    }
}

extension SACLearner {
    /// The learner a `sac` configuration describes (hidden_sizes, activation, learning_rate, tau,
    /// autotune, initial_alpha, alpha): what `SAC` trains in one process, and what a distributed SAC
    /// learner and its workers build from the same configuration.
    public convenience init(configuration: Configuration, observationSize: Int, actionSize: Int,
                            initializationRNG: inout RandomSource, learningRNG: RandomSource) {
        self.init(
            observationSize: observationSize, actionSize: actionSize,
            hiddenSizes: configuration.intList("hidden_sizes"), activation: OffPolicyConfigurationKeys.activation(configuration),
            learningRate: configuration.float("learning_rate"), tau: configuration.float("tau"),
            temperature: configuration.bool("autotune")
                ? .automatic(initial: configuration.float("initial_alpha")) : .fixed(configuration.float("alpha")),
            initializationRNG: &initializationRNG, learningRNG: learningRNG)
    }
}

/// SAC's networks and update: everything a learner process needs, fed with `TransitionBatch`es.
public final class SACLearner: ContinuousActorCriticLearner {
    /// How the entropy temperature α is set.
    public enum Temperature: Sendable, Equatable {
        case fixed(Float)
        /// log α is learned, starting at log(initial).
        case automatic(initial: Float)
    }

    public let observationSize: Int
    public let actionSize: Int
    /// s ↦ [μ(s), log σ(s)]: `2·actionSize` outputs; log σ is clamped to [−20, 2] by `TanhGaussian`.
    public let actor: Approximation<any Network>
    /// Twin soft Q critics with Polyak targets; SAC has no target actor.
    public let critics: QCritics
    /// The learned log α (automatic temperature), nil when α is fixed.
    public let logAlpha: Approximation<ParameterVector>?
    /// H̄ = −dim(A), the entropy the temperature update steers toward.
    public let targetEntropy: Float
    public let tau: Float
    private let fixedAlpha: Float
    /// Reparameterization noise of the updates.
    private var rng: RandomSource

    public init(
        observationSize: Int, actionSize: Int, hiddenSizes: [Int], activation: Activation, learningRate: Float, tau: Float,
        temperature: Temperature, initializationRNG: inout RandomSource, learningRNG: RandomSource
    ) {
        self.observationSize = observationSize
        self.actionSize = actionSize
        let network = MLP(
            sizes: [observationSize] + hiddenSizes + [2 * actionSize], hidden: activation, output: .identity,
            initialization: .torchLinearDefault, rng: &initializationRNG)
        actor = Approximation(name: "actor", model: network, optimizer: Adam(), schedule: .constant(learningRate))
        critics = QCritics(
            count: 2, observationSize: observationSize, actionSize: actionSize, hiddenSizes: hiddenSizes, activation: activation,
            learningRate: learningRate, rng: &initializationRNG)
        switch temperature {
        case .fixed(let alpha):
            logAlpha = nil
            fixedAlpha = alpha
        case .automatic(let initial):
            logAlpha = Approximation(
                name: "log_alpha", model: ParameterVector([Foundation.log(initial)]), optimizer: Adam(), schedule: .constant(learningRate))
            fixedAlpha = initial
        }
        targetEntropy = -Float(actionSize)
        self.tau = tau
        rng = learningRNG
    }

    /// The current temperature α.
    public var alpha: Float { logAlpha.map { Foundation.exp($0.model.parameters[0]) } ?? fixedAlpha }

    /// A sample of π(·|s) when exploring, tanh(μ(s)) otherwise.
    public func act(observations: [Float], count: Int, explore: Bool, rng: inout RandomSource) -> [Float] {
        let policy = self.policy(actor.model.actingOutputs(observations, count: count), count: count)
        return explore ? policy.sample(rng: &rng).actions : policy.mode
    }

    public func learn(from batch: TransitionBatch) -> AgentInfo {
        let count = batch.count
        let alpha = self.alpha

        // Phase 1: soft Bellman targets y = r + γ(1 − d)·(min_k Q'_k(s', a') − α·log π(a'|s')), a' ~ π(·|s').
        let targets = softTargets(batch, noise: standardNormal(count * actionSize))

        // Phase 2: both critics regress on y (clipped double Q: the targets took their minimum).
        let critic = critics.regress(observations: batch.observations, actions: batch.actions, targets: targets, count: count)

        // Phase 3: actor, reparameterized: minimize mean_i [α·log π(ã_i|s_i) − min_k Q_k(s_i, ã_i)], ã = tanh(μ + σε).
        let policyStep = accumulateActorGradients(observations: batch.observations, noise: standardNormal(count * actionSize), count: count)
        actor.step()

        var info = AgentInfo([
            "losses/qf_loss": Double(critic.loss), "losses/q_values": Double(critic.meanQ),
            "losses/actor_loss": Double(policyStep.loss), "losses/alpha": Double(alpha),
        ])

        // Phase 4: temperature: minimize −log α·mean_i (log π(ã_i|s_i) + H̄), so α grows when the entropy is below H̄.
        if let logAlpha {
            info["losses/alpha_loss"] = Double(accumulateTemperatureGradient(logProbs: policyStep.logProbs))
            logAlpha.step()
        }

        // Phase 5: Polyak averaging of the target critics.
        critics.updateTargets(tau: tau)
        return info
    }

    // MARK: Phases, separately testable

    /// y_i = r_i + discount_i·(min_k Q'_k(s'_i, a'_i) − α·log π(a'_i|s'_i)) with a' the squashed sample for noise ε.
    func softTargets(_ batch: TransitionBatch, noise: [Float]) -> [Float] {
        let count = batch.count
        let next = policy(actor.model.forward(Tensor(shape: [count, observationSize], scalars: batch.nextObservations)).scalars, count: count)
            .sample(noise: noise)
        let nextQ = critics.targetMinimum(observations: batch.nextObservations, actions: next.actions, count: count)
        let alpha = self.alpha
        return (0..<count).map { i in batch.rewards[i] + batch.discounts[i] * (nextQ[i] - alpha * next.logProb[i]) }
    }

    /// Adds ∂L/∂θ_actor for L = (1/B)·Σ_i [α·log π(ã_i|s_i) − min_k Q_k(s_i, ã_i)], ã_i = tanh(μ_i + σ_i ε_i),
    /// into the actor's gradients. Returns L and log π(ã_i|s_i). The critics are left unchanged.
    func accumulateActorGradients(observations: [Float], noise: [Float], count: Int) -> (loss: Float, logProbs: [Float]) {
        let d = actionSize
        let policy = policy(actor.model.forward(Tensor(shape: [count, observationSize], scalars: observations)).scalars, count: count)
        let sample = policy.sample(noise: noise)
        let q = critics.actionGradient(observations: observations, actions: sample.actions, count: count, reduction: .minimum)
        let alpha = self.alpha
        let inverseCount = 1 / Float(count)
        // TanhGaussian differentiates α'·Σ log π + f(a); here α' = α/B and ∂f/∂a = −(∂Q/∂a)/B.
        let gradients = policy.gradients(
            noise: noise, actionGradient: q.gradient.map { -$0 * inverseCount }, logProbWeight: alpha * inverseCount)
        var outputGradient = [Float](repeating: 0, count: count * 2 * d)
        var loss: Double = 0
        for row in 0..<count {
            for j in 0..<d {
                outputGradient[row * 2 * d + j] = gradients.mean[row * d + j]
                outputGradient[row * 2 * d + d + j] = gradients.logStd[row * d + j]
            }
            loss += Double(alpha * sample.logProb[row] - q.values[row]) / Double(count)
        }
        actor.model.backward(Tensor(shape: [count, 2 * d], scalars: outputGradient))
        return (Float(loss), sample.logProb)
    }

    /// Sets ∂L/∂log α for L = −log α·(1/B)·Σ_i (log π_i + H̄) (SB3's entropy-coefficient loss) and returns L.
    func accumulateTemperatureGradient(logProbs: [Float]) -> Float {
        guard let logAlpha else { return 0 }
        let meanShortfall = Float(logProbs.reduce(0.0) { $0 + Double($1 + targetEntropy) } / Double(logProbs.count))
        logAlpha.model.gradients[0] += -meanShortfall
        return -logAlpha.model.parameters[0] * meanShortfall
    }

    /// The tanh-Gaussian of actor outputs `count × [μ, log σ]`.
    func policy(_ outputs: [Float], count: Int) -> TanhGaussian {
        let d = actionSize
        var mean = [Float](repeating: 0, count: count * d)
        var logStd = [Float](repeating: 0, count: count * d)
        for row in 0..<count {
            for j in 0..<d {
                mean[row * d + j] = outputs[row * 2 * d + j]
                logStd[row * d + j] = outputs[row * 2 * d + d + j]
            }
        }
        return TanhGaussian(mean: mean, logStd: logStd, batchSize: count, dimension: d)
    }

    private func standardNormal(_ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            rng.fillNormal(buffer)
            initialized = count
        }
    }

    public func save(to writer: CheckpointWriter) throws {
        try actor.save(to: writer)
        try critics.save(to: writer)
        try logAlpha?.save(to: writer)
        try writer.write(rng.state, "rng")
    }

    public func restore(from reader: CheckpointReader) throws {
        try actor.restore(from: reader)
        try critics.restore(from: reader)
        try logAlpha?.restore(from: reader)
        rng = try reader.randomSource("rng")
    }
}
