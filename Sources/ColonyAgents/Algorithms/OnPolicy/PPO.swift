import ColonyEnvironments
import Foundation
import ColonyNumerics

/// Proximal Policy Optimization (Schulman et al., 2017), clipped-surrogate variant, computed as
/// Stable-Baselines3 and CleanRL's `ppo.py` compute it. Discrete actions use a categorical policy;
/// Box actions a diagonal Gaussian with a state-independent log-std, clipped to the bounds when sent.
///
/// Each update: rollout (T steps × N environments, `RolloutAgent`) → bootstrap and GAE → flatten
/// → n_epochs passes over shuffled minibatches of the clipped objective → log.
/// Defaults are rl-baselines3-zoo's CartPole-v1 hyperparameters.
public final class PPO: RolloutAgent, ArchitectureResizing {
    public static let schema = ConfigurationSchema(agent: "ppo", keys: [
        OnPolicyKeys.numEnvs(8),
        ConfigurationKey("n_steps", .int(32), "steps per environment in each rollout (T); a rollout is n_steps × num_envs frames", range: 1...1e6),
        ConfigurationKey("batch_size", .int(256), "minibatch size of each gradient step", range: 1...1e8),
        ConfigurationKey("n_epochs", .int(20), "passes over each rollout", range: 1...1000),
        OnPolicyKeys.learningRate(1e-3),
        OnPolicyKeys.annealLearningRate(true),
        OnPolicyKeys.totalFrames(100_000),
        OnPolicyKeys.gamma(0.98),
        OnPolicyKeys.gaeLambda(0.8),
        ConfigurationKey("clip_range", .double(0.2), "ε of the clipped objective: the probability ratio is clipped to [1 − ε, 1 + ε]", range: 0...10),
        ConfigurationKey("clip_range_vf", .double(0), "clip the new value to ± this around the rollout's value, ppo2-style (0: no value clipping)", range: 0...1e9),
        ConfigurationKey("normalize_advantage", .bool(true), "standardise the advantages within each minibatch"),
        ConfigurationKey("target_kl", .double(0), "stop the epochs once a minibatch's approximate KL exceeds 1.5 × this (0: never)", range: 0...10),
    ] + OnPolicyKeys.lossWeights(entropy: 0, value: 0.5, maxGradientNorm: 0.5) + [
        ConfigurationKey("adam_epsilon", .double(1e-5), "ε of the Adam optimizer", range: 0...1),
    ] + OnPolicyKeys.networksAndNormalization(),
    reconfigurable: [
        "learning_rate", "anneal_lr", "gamma", "gae_lambda", "normalize_advantage", "ent_coef", "vf_coef", "max_grad_norm", "clip_range",
        "clip_range_vf", "target_kl", "n_epochs", "batch_size", "adam_epsilon",
    ], resizable: ["hidden_sizes"], perturbsParameters: true)

    public let id = "ppo"
    public let configuration: Configuration
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public let networks: ActorCritic
    public let rollout: Rollout
    public let encoder: ObservationEncoder

    private let epochs: Int
    private let batchSize: Int
    private let gamma: Float
    private let gaeLambda: Float
    private let clipRange: Float
    private let valueClipRange: Float
    private let normalizeAdvantage: Bool
    private let targetKL: Float
    private let entropyCoefficient: Float
    private let valueCoefficient: Float
    /// Shuffles each epoch's minibatches.
    private var shuffling: RandomSource

    public init(configuration: Configuration, context: AgentContext) throws {
        self.configuration = configuration
        actionSpace = context.actionSpace
        epochs = configuration.int("n_epochs")
        let steps = configuration.int("n_steps")
        batchSize = Swift.min(configuration.int("batch_size"), steps * context.environmentCount)
        let minibatches = (steps * context.environmentCount + batchSize - 1) / batchSize
        let epsilon = configuration.float("adam_epsilon")
        let components = try OnPolicyComponents(
            agent: id, configuration: configuration, context: context, steps: steps, updatesPerRollout: epochs * minibatches,
            makeOptimizer: { Adam(epsilon: epsilon) })
        (networks, rollout, encoder, shuffling) = (components.networks, components.rollout, components.encoder, components.rng)
        gamma = configuration.float("gamma")
        gaeLambda = configuration.float("gae_lambda")
        clipRange = configuration.float("clip_range")
        valueClipRange = configuration.float("clip_range_vf")
        normalizeAdvantage = configuration.bool("normalize_advantage")
        targetKL = configuration.float("target_kl")
        entropyCoefficient = configuration.float("ent_coef")
        valueCoefficient = configuration.float("vf_coef")
    }

    public func update() -> AgentInfo {
        let batch = rollout.batch
        let size = batch.count
        let learningRate = networks.learningRate

        // Bootstrap and GAE (Schulman et al., 2016): the critic's values of x_0 … x_T and of the truncated
        // episodes' last observations, then the advantages Â_t and the λ-returns the critic regresses on.
        let (values, advantages, returns) = networks.generalizedAdvantages(of: batch, gamma: gamma, lambda: gaeLambda)

        // Flatten: the rollout is already T·N time-major rows.
        let observations = Tensor(shape: [size, batch.observationSize], scalars: batch.stepObservations)
        let actions = Tensor(shape: [size, batch.actionSize], scalars: batch.actions)

        // Optimise: n_epochs passes over shuffled minibatches.
        var totals = LossTerms()
        var minibatchCount = 0
        var gradientNorm: Float = 0
        optimisation: for _ in 0..<epochs {
            let order = shuffling.permutation(size)
            for start in stride(from: 0, to: size, by: batchSize) {
                let rows = Array(order[start..<Swift.min(start + batchSize, size)])
                let minibatch = Minibatch(
                    observations: observations.rows(at: rows).scalars, actions: actions.rows(at: rows).scalars,
                    oldLogProbs: rows.map { batch.behaviourLogProbs[$0] }, advantages: rows.map { advantages[$0] },
                    returns: rows.map { returns[$0] }, oldValues: rows.map { values[$0] })
                let terms = accumulateGradients(minibatch)
                // Early stop (SB3's target_kl): this minibatch already moved the policy too far; no step.
                if targetKL > 0 && terms.approxKL > 1.5 * targetKL {
                    networks.discardGradients()
                    break optimisation
                }
                gradientNorm += networks.step()
                totals.add(terms)
                minibatchCount += 1
            }
        }

        // Log: means over the minibatches stepped.
        let n = Float(Swift.max(minibatchCount, 1))
        var info = AgentInfo.actorCritic(
            policyLoss: totals.policyLoss / n, valueLoss: totals.valueLoss / n, entropy: totals.entropy / n,
            learningRate: learningRate, gradientNorm: gradientNorm / n)
        info["losses/approx_kl"] = Double(totals.approxKL / n)
        info["losses/clip_fraction"] = Double(totals.clipFraction / n)
        info["losses/explained_variance"] = Double(OnPolicyStatistics.explainedVariance(values: values, returns: returns))
        return info
    }

    /// The rows of one gradient step: observations (encoded), actions (encoded), and what the
    /// rollout recorded for them.
    public struct Minibatch {
        public var observations: [Float]
        public var actions: [Float]
        public var oldLogProbs: [Float]
        public var advantages: [Float]
        public var returns: [Float]
        public var oldValues: [Float]

        public init(observations: [Float], actions: [Float], oldLogProbs: [Float], advantages: [Float], returns: [Float], oldValues: [Float]) {
            (self.observations, self.actions, self.oldLogProbs) = (observations, actions, oldLogProbs)
            (self.advantages, self.returns, self.oldValues) = (advantages, returns, oldValues)
        }

        public var count: Int { returns.count }
    }

    /// The parts of one minibatch's loss. `total` = policyLoss + vf_coef·valueLoss − ent_coef·entropy.
    public struct LossTerms {
        public var policyLoss: Float = 0
        public var valueLoss: Float = 0
        public var entropy: Float = 0
        public var approxKL: Float = 0
        public var clipFraction: Float = 0
        public var total: Float = 0

        mutating func add(_ other: LossTerms) {
            policyLoss += other.policyLoss
            valueLoss += other.valueLoss
            entropy += other.entropy
            approxKL += other.approxKL
            clipFraction += other.clipFraction
            total += other.total
        }
    }

    /// Evaluates the PPO loss on `minibatch` and adds its gradient to every parameter's gradient
    /// (no optimizer step):
    ///
    ///   r = π(a|s)/π_old(a|s),  L_clip = −mean(min(r·Â, clip(r, 1 − ε, 1 + ε)·Â))
    ///   L_V = mean((V − R)²), or with clip_range_vf = c (ppo2's value clipping)
    ///         mean(max((V − R)², (V_old + clip(V − V_old, −c, c) − R)²))
    ///   L = L_clip + vf_coef·L_V − ent_coef·mean(H)
    ///
    /// Â is standardised within the minibatch when normalize_advantage is on. approx_kl is
    /// mean((r − 1) − log r) (Schulman's low-variance estimator); clip_fraction is the share of |r − 1| > ε.
    public func accumulateGradients(_ minibatch: Minibatch) -> LossTerms {
        let count = minibatch.count
        let scale = 1 / Float(count)
        let (distribution, values) = networks.evaluate(observations: minibatch.observations, count: count)
        let logProbs = distribution.logProb(actions: minibatch.actions)
        let entropy = distribution.entropy()
        var terms = LossTerms()

        // Advantage normalisation, per minibatch.
        let advantages = normalizeAdvantage ? OnPolicyStatistics.standardized(minibatch.advantages) : minibatch.advantages

        // Clipped surrogate objective. Where the clipped term is the smaller one (r outside
        // [1 − ε, 1 + ε] on the side Â favours), the gradient is zero; elsewhere ∂L/∂log π = −r·Â/B.
        var logProbWeights = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let logRatio = logProbs[i] - minibatch.oldLogProbs[i]
            let ratio = exp(logRatio)
            let unclipped = ratio * advantages[i]
            let clipped = Swift.min(Swift.max(ratio, 1 - clipRange), 1 + clipRange) * advantages[i]
            terms.policyLoss -= Swift.min(unclipped, clipped) * scale
            if unclipped <= clipped { logProbWeights[i] = -unclipped * scale }
            terms.approxKL += ((ratio - 1) - logRatio) * scale
            if abs(ratio - 1) > clipRange { terms.clipFraction += scale }
        }

        // Value loss, optionally clipped around the rollout's values.
        var valueGradient = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let error = values[i] - minibatch.returns[i]
            var loss = error * error
            var gradient = 2 * error
            if valueClipRange > 0 {
                let change = values[i] - minibatch.oldValues[i]
                let clippedError = minibatch.oldValues[i] + Swift.min(Swift.max(change, -valueClipRange), valueClipRange) - minibatch.returns[i]
                if clippedError * clippedError > loss {
                    loss = clippedError * clippedError
                    gradient = abs(change) < valueClipRange ? 2 * clippedError : 0
                }
            }
            terms.valueLoss += loss * scale
            valueGradient[i] = valueCoefficient * gradient * scale
        }

        terms.entropy = OnPolicyStatistics.mean(entropy)
        terms.total = terms.policyLoss + valueCoefficient * terms.valueLoss - entropyCoefficient * terms.entropy
        networks.backward(
            distribution, actions: minibatch.actions, logProbWeights: logProbWeights, entropyWeight: -entropyCoefficient * scale,
            valueGradient: valueGradient)
        return terms
    }

    public var layerStackEntries: [LayerStackEntry] { networks.layerStackEntries(under: "networks") }

    public func save(to writer: CheckpointWriter) throws {
        try saveRolloutAgent(to: writer)
        try writer.write(shuffling.state, "shuffling_rng")
    }

    public func restore(from reader: CheckpointReader) throws {
        try restoreRolloutAgent(from: reader)
        shuffling = try reader.randomSource("shuffling_rng")
    }
}
