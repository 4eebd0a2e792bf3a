import ColonyEnvironments
import ColonyNumerics

/// Advantage actor–critic (Mnih et al., 2016, synchronous), computed as Stable-Baselines3's A2C:
/// short rollouts, one RMSProp step per rollout on the whole batch.
///
/// Each update: rollout (T steps × N environments, `RolloutAgent`) → bootstrap and returns (GAE;
/// λ = 1 gives n-step returns bootstrapped from V(x_T)) → one gradient step on
///   L = −mean(Â·log π(a|s)) + vf_coef·mean((V − R)²) − ent_coef·mean(H) → log.
/// Defaults are rl-baselines3-zoo's CartPole-v1 hyperparameters (SB3's A2C defaults, ent_coef 0).
public final class A2C: RolloutAgent, ArchitectureResizing {
    public static let schema = ConfigurationSchema(agent: "a2c", keys: [
        OnPolicyKeys.numEnvs(8),
        ConfigurationKey("n_steps", .int(5), "steps per environment in each rollout (T); one update per n_steps × num_envs frames", range: 1...1e6),
        OnPolicyKeys.learningRate(7e-4),
        OnPolicyKeys.annealLearningRate(false),
        OnPolicyKeys.totalFrames(500_000),
        OnPolicyKeys.gamma(0.99),
        OnPolicyKeys.gaeLambda(1),
        ConfigurationKey("normalize_advantage", .bool(false), "standardise the advantages of each rollout"),
    ] + OnPolicyKeys.lossWeights(entropy: 0, value: 0.5, maxGradientNorm: 0.5) + [
        ConfigurationKey("rms_prop_alpha", .double(0.99), "smoothing constant α of RMSProp's squared-gradient average", range: 0...1),
        ConfigurationKey("rms_prop_eps", .double(1e-5), "ε of RMSProp, added outside the square root (PyTorch)", range: 0...1),
    ] + OnPolicyKeys.networksAndNormalization(),
    reconfigurable: [
        "learning_rate", "anneal_lr", "gamma", "gae_lambda", "normalize_advantage", "ent_coef", "vf_coef", "max_grad_norm",
        "rms_prop_alpha", "rms_prop_eps",
    ], resizable: ["hidden_sizes"], perturbsParameters: true)

    public let id = "a2c"
    public let configuration: Configuration
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public let networks: ActorCritic
    public let rollout: Rollout
    public let encoder: ObservationEncoder

    private let loss: A2CLoss

    public init(configuration: Configuration, context: AgentContext) throws {
        self.configuration = configuration
        actionSpace = context.actionSpace
        let components = try OnPolicyComponents(
            agent: id, configuration: configuration, context: context, steps: configuration.int("n_steps"), updatesPerRollout: 1,
            makeOptimizer: A2C.optimizerFactory(configuration))
        (networks, rollout, encoder) = (components.networks, components.rollout, components.encoder)
        loss = A2CLoss(configuration: configuration)
    }

    /// RMSProp as SB3's A2C uses it.
    static func optimizerFactory(_ configuration: Configuration) -> () -> any Optimizer {
        let (alpha, epsilon) = (configuration.float("rms_prop_alpha"), configuration.float("rms_prop_eps"))
        return { RMSProp(alpha: alpha, epsilon: epsilon) }
    }

    public func update() -> AgentInfo {
        var info = loss.accumulateGradients(networks, batch: rollout.batch)
        info["losses/grad_norm"] = Double(networks.step())
        return info
    }

    public var layerStackEntries: [LayerStackEntry] { networks.layerStackEntries(under: "networks") }

    public func save(to writer: CheckpointWriter) throws {
        try saveRolloutAgent(to: writer)
    }

    public func restore(from reader: CheckpointReader) throws {
        try restoreRolloutAgent(from: reader)
    }
}

/// A2C's loss on one rollout, L = −mean(Â·log π(a|s)) + vf_coef·mean((V − R)²) − ent_coef·mean(H),
/// with its gradient accumulated into the networks (no optimizer step): A2C steps right after it,
/// an A3C worker sends the gradient to its learner instead.
public struct A2CLoss: Sendable {
    public let gamma: Float
    public let gaeLambda: Float
    public let normalizeAdvantage: Bool
    public let entropyCoefficient: Float
    public let valueCoefficient: Float

    public init(configuration: Configuration) {
        gamma = configuration.float("gamma")
        gaeLambda = configuration.float("gae_lambda")
        normalizeAdvantage = configuration.bool("normalize_advantage")
        entropyCoefficient = configuration.float("ent_coef")
        valueCoefficient = configuration.float("vf_coef")
    }

    public func accumulateGradients(_ networks: ActorCritic, batch: TrajectoryBatch) -> AgentInfo {
        let scale = 1 / Float(batch.count)
        let learningRate = networks.learningRate

        // The critic on every observation (x_0 … x_{T−1} are trained on this forward, the bootstrap rows only
        // give targets) and the actor, log π(a_t|x_t), on the steps' rows; then GAE (λ = 1: n-step returns).
        let (distribution, criticValues) = networks.evaluate(
            observations: batch.valueObservations, count: batch.valueObservationCount, policyRows: Array(0..<batch.count))
        let (values, gae, returns) = ActorCritic.generalizedAdvantages(of: batch, criticValues: criticValues, gamma: gamma, lambda: gaeLambda)
        let advantages = normalizeAdvantage ? OnPolicyStatistics.standardized(gae) : gae
        let logProbs = distribution.logProb(actions: batch.actions)
        let entropy = OnPolicyStatistics.mean(distribution.entropy())

        // Gradient of L = −mean(Â·log π) + vf_coef·mean((V − R)²) − ent_coef·mean(H).
        let valueLoss = ActorCritic.squaredErrorLoss(values: values, targets: returns, coefficient: valueCoefficient)
        networks.backward(
            distribution, actions: batch.actions, logProbWeights: advantages.map { -$0 * scale },
            entropyWeight: -entropyCoefficient * scale, valueGradient: valueLoss.gradient)

        var info = AgentInfo.actorCritic(
            policyLoss: -OnPolicyStatistics.mean(zip(advantages, logProbs).map { $0 * $1 }), valueLoss: valueLoss.loss,
            entropy: entropy, learningRate: learningRate, gradientNorm: 0)
        info["losses/explained_variance"] = Double(OnPolicyStatistics.explainedVariance(values: values, returns: returns))
        return info
    }
}
