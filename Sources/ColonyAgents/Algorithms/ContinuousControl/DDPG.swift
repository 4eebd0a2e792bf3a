// Deep Deterministic Policy Gradient (Lillicrap et al., 2016), read like
// cleanrl/ddpg_continuous_action.py. As in Stable-Baselines3, DDPG is `TD3Learner` with TD3's
// tricks switched off: one critic, no target policy smoothing, and (by default) the actor and the
// targets updated on every critic update. The update phases are in TD3.swift.

/// DDPG: a deterministic tanh actor trained through one critic, with Gaussian exploration noise.
public final class DDPG: OffPolicyContinuousAgent {
    public static let schema = ConfigurationSchema(
        agent: "ddpg",
        keys: OffPolicyConfigurationKeys.shared(
            totalFrames: 30_000, hiddenSizes: [64, 64], learningRate: 1e-3, batchSize: 256, learningStarts: 1_000,
            trained: "the actor and the critic")
            + TD3Learner.explorationAndDelayKeys(policyDelay: 1, policyDelayNote: "1: original DDPG; CleanRL uses 2"),
        reconfigurable: [
            "learning_rate", "gamma", "tau", "batch_size", "learning_starts", "train_freq", "gradient_steps", "exploration_noise",
            "policy_delay",
        ], resizable: ["hidden_sizes"], sharesReplay: true, perturbsParameters: true)

    public let id = "ddpg"
    public let driver: OffPolicyDriver
    public let learner: TD3Learner

    public init(configuration: Configuration, context: AgentContext) throws {
        (driver, learner) = try TD3Learner.makeAgentParts(
            configuration: configuration, context: context, algorithm: "ddpg", twinCritics: false, targetPolicyNoise: 0, targetNoiseClip: 0)
    }
}
