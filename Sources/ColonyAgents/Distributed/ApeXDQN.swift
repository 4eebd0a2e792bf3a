import ColonyEnvironments
import ColonyNumerics

/// Ape-X DQN (Horgan et al., 2018): ε_i-greedy workers insert n-step transitions with their own TD
/// errors as priorities; the learner samples proportionally to priority.
enum ApeXDQNDistributed {
    static let algorithm = DistributedAlgorithm(
        id: "apex_dqn", agent: "dqn", summary: "distributed prioritized replay DQN; workers insert transitions with priorities",
        dataFlow: .replayTransitions, replaySampling: .prioritized(alphaKey: "priority_alpha"),
        makeLearner: { try ApeXDQNLearnerCore(setup: $0) },
        makeActor: { try ApeXDQNActor(setup: $0, slot: $1) })

    static func actionCount(_ setup: DistributedSetup) throws -> Int {
        guard case .discrete(let actionCount) = setup.actionSpace else {
            throw AgentError("apex_dqn needs a discrete action space; \(setup.environment) has \(setup.actionSpace) (use apex_sac)")
        }
        return actionCount
    }
}

/// Ape-X DQN's learner (Horgan et al., 2018): double-Q (as configured) n-step updates on prioritized
/// batches from the replay server, new priorities |δ| + ε for the sampled keys, and a target network
/// synced on the same frame clock as single-process DQN.
///
/// The target syncs as often as in single-process DQN, counted in updates: there it syncs on the
/// frame clock (`target_update_interval` frames) between training rounds and stays fixed during each
/// round of `gradient_steps` updates. At samples_per_insert r and batch B an update consumes B / r
/// frames' worth of data, so the period is max(gradient_steps, interval · r / B) updates (the zoo's
/// CartPole: max(128, 10 · 32 / 64) = 128). Syncing every few updates instead lets Q diverge.
final class ApeXDQNLearnerCore: ReplayLearnerCore {
    let learner: DQNLearner
    let batchSize: Int
    private let priorityEpsilon: Float
    private let tau: Float
    let updatesPerTargetSync: Int
    private let beta: Schedule
    private var updatesSinceTargetSync = 0

    init(setup: DistributedSetup) throws {
        let c = setup.configuration
        let actionCount = try ApeXDQNDistributed.actionCount(setup)
        var rng = RandomSource(seed: setup.seed)
        learner = try DQNLearner(configuration: c, observationSpace: setup.observationSpace, actionCount: actionCount, rng: &rng)
        batchSize = c.int("batch_size")
        priorityEpsilon = c.float("priority_epsilon")
        tau = c.float("tau")
        let framesPerUpdate = Double(batchSize) / setup.samplesPerInsert
        let updatesPerRound = c.int("gradient_steps") > 0 ? c.int("gradient_steps") : c.int("train_freq")
        updatesPerTargetSync = max(1, updatesPerRound, Int((Double(c.int("target_update_interval")) / framesPerUpdate).rounded()))
        beta = .linearDecay(from: c.float("priority_beta_start"), to: c.float("priority_beta_end"), over: setup.frames)
    }

    var actingParameters: [Float] { learner.online.parameters }

    func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        learner.approximation.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    var layerStackEntries: [LayerStackEntry] { learner.approximation.layerStackEntries() }

    func importanceExponent(atFrame frame: Int) -> Double { Double(beta.value(at: frame)) }

    func learn(_ batch: TransitionBatch) -> (info: AgentInfo, priorities: [Float]?) {
        let step = learner.learn(from: batch)
        updatesSinceTargetSync += 1
        if updatesSinceTargetSync >= updatesPerTargetSync {
            updatesSinceTargetSync = 0
            learner.updateTarget(tau: tau)
        }
        let info = AgentInfo([
            "losses/td_loss": step.loss, "losses/q_values": step.meanQ,
            "losses/grad_norm": Double(step.gradientNorm), "charts/learning_rate": Double(learner.learningRate),
        ])
        return (info, step.tdErrors.map { abs($0) + priorityEpsilon })
    }

    func evaluationActions(_ observations: [Float], count: Int) -> [Action] {
        var actions = [Int](repeating: 0, count: count)
        learner.online.greedyActions(observations, count: count, into: &actions)
        return actions.map { .discrete($0) }
    }

    func save(to writer: CheckpointWriter) throws {
        try learner.save(to: writer)
        try writer.write(updatesSinceTargetSync, "updates_since_target_sync")
    }

    func restore(from reader: CheckpointReader) throws {
        try learner.restore(from: reader)
        updatesSinceTargetSync = try reader.int("updates_since_target_sync")
    }
}

/// An Ape-X worker's policy: ε_i-greedy on its copy of the online network, with the per-worker
/// ε_i = ε^(1 + α·i/(N−1)), and initial priorities |δ| + ε from its own TD errors (its copy serves as
/// online and target network, as the paper's actors compute them).
final class ApeXDQNActor: ReplayActor {
    let epsilon: Double
    private let learner: DQNLearner
    private let priorityEpsilon: Float
    private var rng: RandomSource
    private var greedy: [Int]

    init(setup: DistributedSetup, slot: ActorSlot) throws {
        let c = setup.configuration
        let actionCount = try ApeXDQNDistributed.actionCount(setup)
        rng = RandomSource(seed: slot.seed)
        var initialization = rng.split()
        learner = try DQNLearner(configuration: c, observationSpace: setup.observationSpace, actionCount: actionCount, rng: &initialization)
        epsilon = apeXEpsilon(actor: slot.index, actors: slot.actors, base: setup.epsilon, alpha: setup.epsilonAlpha)
        priorityEpsilon = c.float("priority_epsilon")
        nStep = c.int("n_step")
        greedy = []
    }

    let nStep: Int
    var explorationRate: Double? { epsilon }

    var parameterCount: Int { learner.online.parameters.count }

    func setParameters(_ parameters: [Float], version: Int) {
        learner.online.parameters = parameters
        learner.target.parameters = parameters
    }

    func act(_ observations: [Float], count: Int) -> (actions: [Action], stored: [Float]) {
        if greedy.count != count { greedy = [Int](repeating: 0, count: count) }
        learner.online.greedyActions(observations, count: count, into: &greedy)
        let actionCount = learner.online.actionCount
        var chosen = greedy
        for env in 0..<count where Double(rng.nextFloat()) < epsilon { chosen[env] = rng.nextInt(below: actionCount) }
        return (chosen.map { .discrete($0) }, chosen.map(Float.init))
    }

    func priorities(for batch: TransitionBatch) -> [Float] {
        learner.tdErrors(for: batch).map { abs($0) + priorityEpsilon }
    }
}
