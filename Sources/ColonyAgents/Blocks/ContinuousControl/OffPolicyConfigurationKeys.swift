import ColonyNumerics

/// The configuration keys SAC, TD3 and DDPG share, with per-algorithm defaults.
enum OffPolicyConfigurationKeys {
    /// Keys read by `OffPolicyDriver` and by the networks, in the order `colony config` prints them;
    /// `trained` names what `learning_rate` applies to.
    static func shared(
        totalFrames: Int, hiddenSizes: [Int], learningRate: Double, batchSize: Int, learningStarts: Int, trained: String
    ) -> [ConfigurationKey] {
        [
            ConfigurationKey("num_envs", .int(1), "environments the trainer steps in parallel (updates per frame stay the same)", range: 1...4096),
            ConfigurationKey("total_frames", .int(totalFrames), "environment frames the trainer runs for", range: 1...1e12),
            ConfigurationKey("hidden_sizes", .intList(hiddenSizes), "hidden layer widths of the actor and of each critic", range: 1...65536),
            ConfigurationKey("activation", .string("relu"), "nonlinearity after each hidden layer", choices: ["relu", "tanh"]),
            ConfigurationKey("learning_rate", .double(learningRate), "Adam learning rate of \(trained)", range: 0...1),
            ConfigurationKey("gamma", .double(0.99), "discount factor γ", range: 0...1),
            ConfigurationKey("tau", .double(0.005), "Polyak coefficient of the target networks: θ' ← τθ + (1 − τ)θ'", range: 0...1),
            ConfigurationKey("buffer_size", .int(1_000_000), "replay capacity in transitions (oldest evicted first)", range: 1...1e9),
            ConfigurationKey("batch_size", .int(batchSize), "transitions per gradient step, sampled uniformly from replay", range: 1...1e6),
            ConfigurationKey("learning_starts", .int(learningStarts), "frames of uniformly random actions before training starts", range: 0...1e12),
            ConfigurationKey("train_freq", .int(1), "frames between training rounds", range: 1...1e9),
            ConfigurationKey("gradient_steps", .int(1), "gradient steps per training round", range: 0...1e6),
        ]
    }

    static func activation(_ configuration: Configuration) -> Activation {
        Activation(rawValue: configuration.string("activation"))!
    }
}
