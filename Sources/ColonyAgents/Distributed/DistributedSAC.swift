import ColonyEnvironments
import ColonyNumerics

/// SAC (Haarnoja et al., 2018) with Ape-X's layout: workers sample from their copy of the actor and
/// insert transitions into a uniform table; the learner makes SAC's updates on sampled batches.
enum DistributedSACAlgorithm {
    static let algorithm = DistributedAlgorithm(
        id: "apex_sac", agent: "sac", summary: "soft actor-critic from a shared uniform replay server",
        dataFlow: .replayTransitions, replaySampling: .uniform,
        makeLearner: { try DistributedSACLearnerCore(setup: $0) },
        makeActor: { try DistributedSACActor(setup: $0, slot: $1) })
}

/// Distributed SAC's learner: SAC's update (twin soft critics, reparameterized actor, automatic
/// temperature) on uniform batches from the replay server; workers act with its actor.
final class DistributedSACLearnerCore: ReplayLearnerCore {
    let learner: SACLearner
    let batchSize: Int
    private let scaling: BoxActionScaling

    init(setup: DistributedSetup) throws {
        let c = setup.configuration
        scaling = try BoxActionScaling(actionSpace: setup.actionSpace, algorithm: "apex_sac")
        var initialization = RandomSource(seed: setup.seed)
        let learning = initialization.split()
        learner = SACLearner(configuration: c, observationSize: setup.observationSize, actionSize: setup.actionSize,
                             initializationRNG: &initialization, learningRNG: learning)
        batchSize = c.int("batch_size")
    }

    var actingParameters: [Float] { learner.actor.model.parameters }

    func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        learner.actor.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    var layerStackEntries: [LayerStackEntry] { ([learner.actor] + learner.critics.members).flatMap { $0.layerStackEntries(under: "") } }

    func importanceExponent(atFrame frame: Int) -> Double { 0 }

    func learn(_ batch: TransitionBatch) -> (info: AgentInfo, priorities: [Float]?) {
        (learner.learn(from: batch), nil)
    }

    func evaluationActions(_ observations: [Float], count: Int) -> [Action] {
        var unused = RandomSource(seed: 0)
        return scaling.environmentActions(learner.act(observations: observations, count: count, explore: false, rng: &unused), count: count)
    }

    func save(to writer: CheckpointWriter) throws { try learner.save(to: writer) }
    func restore(from reader: CheckpointReader) throws { try learner.restore(from: reader) }
}

/// A distributed SAC worker: samples from its copy of the actor, or uniformly random actions until
/// the learner has made its first update (SAC's warm-up; the replay server's min_size is the
/// single-process `learning_starts`). Stores squashed actions; every priority is 1 (uniform table).
final class DistributedSACActor: ReplayActor {
    private let learner: SACLearner
    private let scaling: BoxActionScaling
    private var rng: RandomSource
    private var trained = false

    init(setup: DistributedSetup, slot: ActorSlot) throws {
        let c = setup.configuration
        scaling = try BoxActionScaling(actionSpace: setup.actionSpace, algorithm: "apex_sac")
        rng = RandomSource(seed: slot.seed)
        var initialization = rng.split()
        learner = SACLearner(configuration: c, observationSize: setup.observationSize, actionSize: setup.actionSize,
                             initializationRNG: &initialization, learningRNG: rng.split())
    }

    var parameterCount: Int { learner.actor.model.parameterCount }

    func setParameters(_ parameters: [Float], version: Int) {
        learner.actor.model.parameters = parameters
        trained = version > 0
    }

    func act(_ observations: [Float], count: Int) -> (actions: [Action], stored: [Float]) {
        let squashed = trained
            ? learner.act(observations: observations, count: count, explore: true, rng: &rng)
            : scaling.randomSquashedActions(count: count, rng: &rng)
        return (scaling.environmentActions(squashed, count: count), squashed)
    }

    func priorities(for batch: TransitionBatch) -> [Float] { [Float](repeating: 1, count: batch.count) }

    var explorationRate: Double? { nil }
    /// SAC has no `n_step`: one-step transitions.
    var nStep: Int { 1 }
}
