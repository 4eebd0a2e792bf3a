/// The configuration keys PPO, A2C and IMPALA share. Each algorithm's schema lists them with its
/// own defaults; the meaning (what `colony config <agent>` prints) is written once, here.
enum OnPolicyKeys {
    static func numEnvs(_ value: Int) -> ConfigurationKey {
        ConfigurationKey("num_envs", .int(value), "parallel environments the trainer runs this algorithm with", range: 1...4096)
    }

    static func learningRate(_ value: Double) -> ConfigurationKey {
        ConfigurationKey("learning_rate", .double(value), "optimizer step size (the start value when anneal_lr is on)", range: 0...1)
    }

    static func annealLearningRate(_ value: Bool) -> ConfigurationKey {
        ConfigurationKey("anneal_lr", .bool(value), "decay the learning rate linearly to 0 over total_frames (rl-zoo's lin_ schedules)")
    }

    static func totalFrames(_ value: Int) -> ConfigurationKey {
        ConfigurationKey("total_frames", .int(value), "the training budget in frames, over which anneal_lr decays the learning rate", range: 1...1e15)
    }

    static func gamma(_ value: Double) -> ConfigurationKey {
        ConfigurationKey("gamma", .double(value), "discount factor of future rewards", range: 0...1)
    }

    static func gaeLambda(_ value: Double) -> ConfigurationKey {
        ConfigurationKey("gae_lambda", .double(value), "λ of generalized advantage estimation (1: n-step returns, 0: one-step TD)", range: 0...1)
    }

    /// ent_coef, vf_coef and max_grad_norm: how the loss terms are weighted and the gradient clipped.
    static func lossWeights(entropy: Double, value: Double, maxGradientNorm: Double) -> [ConfigurationKey] {
        [
            ConfigurationKey("ent_coef", .double(entropy), "weight of the entropy bonus in the loss", range: 0...10),
            ConfigurationKey("vf_coef", .double(value), "weight of the value (baseline) loss in the total loss", range: 0...100),
            ConfigurationKey("max_grad_norm", .double(maxGradientNorm), "global L2 norm all gradients are clipped to together (0: no clipping)", range: 0...1e9),
        ]
    }

    /// The networks' shape (64-64 tanh by default, as SB3's MlpPolicy) and the input and reward normalisation.
    static func networksAndNormalization(normalizeRewards: Bool = false) -> [ConfigurationKey] {
        [
            EncoderArchitecture.key,
            ActorCritic.Layout.key,
            ConfigurationKey("hidden_sizes", .intList([64, 64]), "hidden layer widths of the policy and value networks (mlp encoder)", range: 1...65536),
            ConfigurationKey("activation", .string("tanh"), "nonlinearity of the hidden layers", choices: ["tanh", "relu"]),
            ConfigurationKey("log_std_init", .double(0), "initial log σ of the Gaussian policy (Box action spaces only)", range: -20...5),
            ConfigurationKey("normalize_observations", .bool(false), "standardise Box observations by running mean and variance (SB3 VecNormalize, clip 10)"),
            ConfigurationKey("normalize_rewards", .bool(normalizeRewards), "scale rewards by the running std of the discounted return (SB3 VecNormalize, clip 10)"),
        ]
    }
}

extension ActorCritic.Layout {
    /// The `trunk` key: which layers the policy and the critic share.
    static let key = ConfigurationKey(
        "trunk", .string("auto"),
        "layers the policy and the value function share: shared (one network with both heads: CleanRL's Atari agent, SB3's CnnPolicy; "
            + "a minibatch costs one pass instead of two), separate (no shared layers: SB3's MlpPolicy); auto: shared with a "
            + "convolutional encoder, separate with mlp",
        choices: ["auto"] + allCases.map(\.rawValue))

    /// The layout the `trunk` key's value names, `auto` resolved for `encoder`.
    init(trunk: String, encoder: EncoderArchitecture) {
        self = Self(rawValue: trunk) ?? (encoder == .mlp ? .separate : .shared)
    }
}
