import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

/// Distributed SAC's learner: SAC's update (twin soft critics, reparameterized actor, automatic
/// temperature) on uniform batches from the replay server; workers act with its actor.
final class DistributedSACLearnerCore: ReplayLearnerCore {
    let learner: SACLearner
    let batchSize: Int
    private let scaling: BoxActionScaling

    init(settings: ClusterSettings) throws {
        let c = settings.configuration, layout = settings.replay!.layout
        let probe = try Environments.make(settings.environment, seed: 0)
        scaling = try BoxActionScaling(actionSpace: probe.actionSpace, algorithm: "apex_sac")
        var initialization = RandomSource(seed: settings.seed)
        let learning = initialization.split()
        learner = SACLearner(configuration: c, observationSize: layout.observationSize, actionSize: layout.actionSize,
                             initializationRNG: &initialization, learningRNG: learning)
        batchSize = c.int("batch_size")
    }

    var actingParameters: [Float] { learner.actor.model.parameters }

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

    init(settings: ClusterSettings, seed: UInt64) throws {
        let c = settings.configuration, layout = settings.replay!.layout
        let probe = try Environments.make(settings.environment, seed: 0)
        scaling = try BoxActionScaling(actionSpace: probe.actionSpace, algorithm: "apex_sac")
        rng = RandomSource(seed: seed)
        var initialization = rng.split()
        learner = SACLearner(configuration: c, observationSize: layout.observationSize, actionSize: layout.actionSize,
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
}
