import ColonyEnvironments
import ColonyNumerics

/// IMPALA (Espeholt et al., 2018) in one process: the actors' policy lags the learner's by
/// `policy_lag` updates, as it does when workers act with parameters fetched a few updates ago,
/// and V-trace corrects the off-policy returns and policy gradient for that lag.
///
/// Each update: N unrolls of T steps by the behaviour policy μ (`RolloutAgent`) → the learner step
/// (`IMPALALearner.learn`: importance weights, V-trace targets, one gradient step) → the behaviour
/// policy takes the learner's parameters from `policy_lag` updates ago (a FIFO of versions).
/// With policy_lag = 0 it is on-policy (log ρ = 0) and V-trace reduces to n-step returns.
/// Rewards are scaled by the running std of the discounted return by default (normalize_rewards),
/// which keeps the critic's targets near unit scale; on CartPole that makes learning markedly steadier.
public final class IMPALA: RolloutAgent {
    public static let schema = ConfigurationSchema(agent: "impala", keys: [
        OnPolicyKeys.numEnvs(8),
        ConfigurationKey("unroll_length", .int(20), "steps per unroll (T); each update learns from one unroll of each of the num_envs environments", range: 1...1e6),
        ConfigurationKey("policy_lag", .int(2), "updates by which the acting (behaviour) policy lags the learner; V-trace corrects for it", range: 0...10_000),
        OnPolicyKeys.learningRate(1e-3),
        OnPolicyKeys.annealLearningRate(false),
        OnPolicyKeys.totalFrames(500_000),
        OnPolicyKeys.gamma(0.99),
        ConfigurationKey("rho_bar", .double(1), "ρ̄: truncation of the importance weights in the V-trace targets and the policy gradient", range: 0...1e9),
        ConfigurationKey("c_bar", .double(1), "c̄: truncation of the V-trace trace-cutting weights", range: 0...1e9),
    ] + OnPolicyKeys.lossWeights(entropy: 0.01, value: 0.5, maxGradientNorm: 0.5) + [
        ConfigurationKey("optimizer", .string("adam"), "the optimizer of both networks", choices: ["adam", "rmsprop"]),
        ConfigurationKey("rms_prop_alpha", .double(0.99), "smoothing constant α of RMSProp (optimizer = \"rmsprop\")", range: 0...1),
        ConfigurationKey("optimizer_epsilon", .double(1e-5), "ε of the optimizer, added outside the square root (PyTorch)", range: 0...1),
    ] + OnPolicyKeys.networksAndNormalization(normalizeRewards: true),
    reconfigurable: [
        "learning_rate", "anneal_lr", "gamma", "rho_bar", "c_bar", "ent_coef", "vf_coef", "max_grad_norm", "rms_prop_alpha", "optimizer_epsilon",
    ], perturbsParameters: true)

    public let id = "impala"
    public let configuration: Configuration
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public let learner: IMPALALearner
    public let rollout: Rollout
    public let encoder: ObservationEncoder
    /// The learner's networks; eval mode plays their current policy.
    public var networks: ActorCritic { learner.networks }
    /// Acts with the learner's policy parameters from `policyLag` updates ago.
    public let behaviourPolicy: StochasticPolicy
    public let policyLag: Int
    /// The learner's policy parameters of the last policy_lag + 1 versions, oldest (the behaviour policy's) first.
    private var parameterHistory: [[Float]]

    public init(configuration: Configuration, context: AgentContext) throws {
        self.configuration = configuration
        actionSpace = context.actionSpace
        let components = try OnPolicyComponents(
            agent: id, configuration: configuration, context: context, steps: configuration.int("unroll_length"), updatesPerRollout: 1,
            makeOptimizer: IMPALALearner.optimizerFactory(configuration))
        (rollout, encoder) = (components.rollout, components.encoder)
        learner = IMPALALearner(networks: components.networks, configuration: configuration)
        behaviourPolicy = components.networks.policy.copy()
        policyLag = configuration.int("policy_lag")
        parameterHistory = [behaviourPolicy.parameters]
    }

    public func update() -> AgentInfo {
        // Learn from the N unrolls the behaviour policy collected.
        var info = learner.learnValidated(rollout.batch)
        // Lag: the behaviour policy now takes the parameters from policy_lag updates ago.
        parameterHistory.append(networks.policy.parameters)
        if parameterHistory.count > policyLag + 1 { parameterHistory.removeFirst() }
        behaviourPolicy.parameters = parameterHistory[0]
        info["charts/policy_lag"] = Double(parameterHistory.count - 1)
        return info
    }

    public func save(to writer: CheckpointWriter) throws {
        try saveRolloutAgent(to: writer)
        try writer.write(parameterHistory.count, "behaviour/version_count")
        for (index, parameters) in parameterHistory.enumerated() { try writer.write(parameters, "behaviour/version_\(index)") }
    }

    public func restore(from reader: CheckpointReader) throws {
        try restoreRolloutAgent(from: reader)
        let versions = try reader.int("behaviour/version_count")
        guard (1...policyLag + 1).contains(versions) else {
            throw CheckpointError.shapeMismatch(entry: reader.path("behaviour/version_count"), expected: policyLag + 1, found: versions)
        }
        parameterHistory = try (0..<versions).map { try reader.floats("behaviour/version_\($0)", count: behaviourPolicy.parameterCount) }
        behaviourPolicy.parameters = parameterHistory[0]
    }
}

/// The IMPALA learner step, separate from acting: learns from a batch of trajectories and the
/// behaviour log-probabilities they were acted with, wherever they came from (this process's
/// lagged policy, or remote workers).
///
///   log ρ_t = log π(a_t|x_t) − log μ(a_t|x_t)
///   V-trace (§4.1): v_s = V(x_s) + Σ_t γ^(t−s) (Π c_i) ρ_t (r_t + γ V(x_{t+1}) − V(x_t)),
///     ρ_t = min(ρ̄, π/μ), c_i = min(c̄, π/μ)
///   L = −mean(ρ_s (r_s + γ v_{s+1} − V(x_s)) · log π(a_s|x_s)) + vf_coef · ½ · mean((v_s − V(x_s))²) − ent_coef · mean(H)
public final class IMPALALearner {
    public let networks: ActorCritic
    private let gamma: Float
    private let rhoBar: Float
    private let cBar: Float
    private let entropyCoefficient: Float
    private let valueCoefficient: Float

    /// A learner with freshly initialised networks for an `impala` configuration (what a
    /// distributed learner process builds); the same seed gives the same networks as `IMPALA`'s.
    public convenience init(configuration: Configuration, context: AgentContext) throws {
        let components = try OnPolicyComponents(
            agent: "impala", configuration: configuration, context: context, steps: configuration.int("unroll_length"),
            updatesPerRollout: 1, makeOptimizer: IMPALALearner.optimizerFactory(configuration))
        self.init(networks: components.networks, configuration: configuration)
    }

    init(networks: ActorCritic, configuration: Configuration) {
        self.networks = networks
        gamma = configuration.float("gamma")
        rhoBar = configuration.float("rho_bar")
        cBar = configuration.float("c_bar")
        entropyCoefficient = configuration.float("ent_coef")
        valueCoefficient = configuration.float("vf_coef")
    }

    static func optimizerFactory(_ configuration: Configuration) -> () -> any Optimizer {
        let (epsilon, alpha) = (configuration.float("optimizer_epsilon"), configuration.float("rms_prop_alpha"))
        return configuration.string("optimizer") == "rmsprop" ? { RMSProp(alpha: alpha, epsilon: epsilon) } : { Adam(epsilon: epsilon) }
    }

    /// log ρ_t = log π(a_t|x_t) − log μ(a_t|x_t) for every step, π the learner's current policy.
    public func logRhos(_ batch: TrajectoryBatch) -> [Float] {
        let distribution = networks.policy.distribution(observations: batch.stepObservations, count: batch.count)
        return zip(distribution.logProb(actions: batch.actions), batch.behaviourLogProbs).map { $0 - $1 }
    }

    /// One learner step on `batch`. Returns the step's scalars. Throws, changing nothing, when the
    /// batch is malformed or does not fit these networks.
    public func learn(_ batch: TrajectoryBatch) throws -> AgentInfo {
        learn(try validate(batch))
    }

    /// One learner step on a batch already checked against these networks.
    public func learn(_ batch: ValidatedTrajectory) -> AgentInfo { learnValidated([batch.batch]) }

    /// One learner step on validated unrolls (a distributed learner's `batch_unrolls`), each used
    /// where it was decoded.
    public func learn(_ unrolls: [ValidatedTrajectory]) -> AgentInfo { learnValidated(unrolls.map(\.batch)) }

    /// Checks that `batch` is well formed and fits these networks (a batch from elsewhere).
    public func validate(_ batch: TrajectoryBatch) throws -> ValidatedTrajectory {
        try batch.validate()
        let (inputSize, actionSize) = (networks.policy.network.inputSize, networks.policy.head.actionSize)
        guard batch.observationSize == inputSize, batch.actionSize == actionSize else {
            throw AgentError("trajectory batch has \(batch.observationSize)-float observations and \(batch.actionSize)-float actions; this learner needs \(inputSize) and \(actionSize)")
        }
        if case .categorical(let count) = networks.policy.head,
           let action = batch.actions.first(where: { !($0 >= 0 && $0 < Float(count) && $0.rounded() == $0) }) {
            throw AgentError("trajectory batch holds action \(action), which is not one of the \(count) discrete actions")
        }
        return ValidatedTrajectory(checked: batch)
    }

    /// `learn` on a batch known to fit (this process's own rollout).
    func learnValidated(_ batch: TrajectoryBatch) -> AgentInfo { learnValidated([batch]) }

    /// One step on several unrolls (of any lengths) as one batch, without first concatenating them: the
    /// network inputs are filled from the unrolls one after another (unroll-major rows; the copy of the
    /// observations a single batch makes too), V-trace runs per unroll (along each environment's column,
    /// so nothing crosses unrolls), and the loss is the mean over every step. With one unroll this is
    /// exactly the single-batch step.
    func learnValidated(_ unrolls: [TrajectoryBatch]) -> AgentInfo {
        precondition(!unrolls.isEmpty, "IMPALALearner: an update needs at least one unroll")
        let total = unrolls.reduce(0) { $0 + $1.count }
        let valueRows = unrolls.reduce(0) { $0 + $1.valueObservationCount }
        let scale = 1 / Float(total)
        let learningRate = networks.learningRate

        var valueObservations: [Float] = [], actions: [Float] = [], behaviourLogProbs: [Float] = []
        var valueRowOfStep: [Int] = []  // where each step's x_t sits among the critic's rows
        valueRowOfStep.reserveCapacity(total)
        if unrolls.count == 1 {
            let batch = unrolls[0]
            (valueObservations, actions, behaviourLogProbs) = (batch.valueObservations, batch.actions, batch.behaviourLogProbs)
            valueRowOfStep += 0..<batch.count
        } else {
            valueObservations.reserveCapacity(valueRows * unrolls[0].observationSize)
            for batch in unrolls {
                valueRowOfStep += (valueObservations.count / batch.observationSize)..<(valueObservations.count / batch.observationSize + batch.count)
                valueObservations += batch.observations
                valueObservations += batch.truncationObservations
                actions += batch.actions
                behaviourLogProbs += batch.behaviourLogProbs
            }
        }

        // The learner's policy on every step, its critic on every observation (bootstrap rows included).
        let (distribution, valueOutputs) = networks.evaluate(observations: valueObservations, count: valueRows, policyRows: valueRowOfStep)

        // Importance weights of the learner's policy against the behaviour policy that acted.
        let logRhos = zip(distribution.logProb(actions: actions), behaviourLogProbs).map { $0 - $1 }

        // V-trace targets and policy-gradient advantages per unroll; terminations cut the discount.
        var values: [Float] = [], targetValues: [Float] = [], advantages: [Float] = []
        var (stepOffset, valueOffset) = (0, 0)
        for batch in unrolls {
            let (unrollValues, nextValues) = batch.splitValues(Array(valueOutputs[valueOffset..<(valueOffset + batch.valueObservationCount)]))
            let targets = vtrace(
                logRhos: Array(logRhos[stepOffset..<(stepOffset + batch.count)]), rewards: batch.rewards, values: unrollValues,
                nextValues: nextValues, discounts: batch.terminated.map { $0 ? 0 : gamma }, ended: batch.ended,
                steps: batch.steps, environments: batch.environments, rhoBar: rhoBar, cBar: cBar, policyRhoBar: rhoBar)
            values += unrollValues
            targetValues += targets.values
            advantages += targets.policyAdvantages
            stepOffset += batch.count
            valueOffset += batch.valueObservationCount
        }

        // One step on L = −mean(A^pg·log π) + vf_coef·½·mean((v_s − V)²) − ent_coef·mean(H).
        let valueLoss = ActorCritic.squaredErrorLoss(values: values, targets: targetValues, coefficient: 0.5 * valueCoefficient)
        var valueGradient = valueLoss.gradient
        if unrolls.count > 1 {
            valueGradient = [Float](repeating: 0, count: valueRows)
            for (step, row) in valueRowOfStep.enumerated() { valueGradient[row] = valueLoss.gradient[step] }
        }
        networks.backward(
            distribution, actions: actions, logProbWeights: advantages.map { -$0 * scale },
            entropyWeight: -entropyCoefficient * scale, valueGradient: valueGradient)
        let gradientNorm = networks.step()

        let logProbs = zip(logRhos, behaviourLogProbs).map { $0 + $1 }
        var info = AgentInfo.actorCritic(
            policyLoss: -OnPolicyStatistics.mean(zip(advantages, logProbs).map { $0 * $1 }),
            valueLoss: valueLoss.loss, entropy: OnPolicyStatistics.mean(distribution.entropy()),
            learningRate: learningRate, gradientNorm: gradientNorm)
        info["charts/mean_abs_log_rho"] = Double(OnPolicyStatistics.mean(logRhos.map(abs)))
        info["losses/explained_variance"] = Double(OnPolicyStatistics.explainedVariance(values: values, returns: targetValues))
        return info
    }
}
