import ColonyNumerics

/// What every on-policy agent builds from its configuration and context: the observation encoder,
/// the actor–critic networks, the rollout, and a spare random stream. The keys read here are
/// those of `OnPolicyKeys`.
struct OnPolicyComponents {
    let head: PolicyHead
    let encoder: ObservationEncoder
    let networks: ActorCritic
    let rollout: Rollout
    /// An independent stream for the algorithm's own use (PPO's minibatch shuffling).
    let rng: RandomSource

    /// - Parameters:
    ///   - steps: T, the rollout length.
    ///   - updatesPerRollout: optimizer steps per rollout, so that anneal_lr reaches 0 at total_frames.
    init(
        agent: String, configuration: Configuration, context: AgentContext, steps: Int, updatesPerRollout: Int,
        makeOptimizer: () -> any Optimizer
    ) throws {
        head = try PolicyHead(actionSpace: context.actionSpace, agent: agent)
        encoder = try ObservationEncoder(
            space: context.observationSpace, normalizes: configuration.bool("normalize_observations"), agent: agent)
        let activation: Activation = configuration.string("activation") == "relu" ? .relu : .tanh
        let builder = try ObservationNetworkBuilder(
            configuration: configuration, observationSpace: context.observationSpace, encodedSize: encoder.inputSize, agent: agent)
        let hiddenSizes = configuration.intList("hidden_sizes")
        let learningRate = configuration.float("learning_rate")
        let framesPerRollout = steps * context.environmentCount
        let rollouts = Swift.max(1, (configuration.int("total_frames") + framesPerRollout - 1) / framesPerRollout)
        let schedule: Schedule = configuration.bool("anneal_lr")
            ? .linearDecay(from: learningRate, to: 0, over: rollouts * updatesPerRollout) : .constant(learningRate)
        let maxGradientNorm = configuration.float("max_grad_norm")
        var root = RandomSource(seed: context.seed)
        var initialization = root.split()
        networks = ActorCritic(
            head: head, logStdInit: configuration.float("log_std_init"),
            layout: ActorCritic.Layout(trunk: configuration.string("trunk"), encoder: builder.architecture),
            makeNetwork: { outputs, hidden, output, rng in
                builder.make(outputs: outputs, hiddenSizes: hiddenSizes, activation: activation, initialization: hidden, outputInitialization: output, rng: &rng)
            },
            makeOptimizer: makeOptimizer, schedule: schedule,
            maxGradientNorm: maxGradientNorm > 0 ? maxGradientNorm : nil, rng: &initialization)
        let rewardScaler = configuration.bool("normalize_rewards")
            ? RewardScaler(environments: context.environmentCount, gamma: configuration.double("gamma")) : nil
        rollout = Rollout(
            steps: steps, environments: context.environmentCount, observationSize: encoder.inputSize, actionSize: head.actionSize,
            rng: root.split(), rewardScaler: rewardScaler)
        rng = root.split()
    }
}
