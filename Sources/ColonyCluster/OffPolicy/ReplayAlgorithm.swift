import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

/// The learner's half of a replay-based algorithm (`apex_dqn`, `apex_sac`): one update per sampled
/// batch, the parameters that workers act with, and the evaluation policy.
protocol ReplayLearnerCore: AnyObject, Checkpointable {
    /// Transitions per update (the sample request's size).
    var batchSize: Int { get }
    /// What `ReplayActor.setParameters` takes: the acting network's flat parameters.
    var actingParameters: [Float] { get }
    /// Importance-sampling exponent β at `frame` (ignored by uniform tables).
    func importanceExponent(atFrame frame: Int) -> Double
    /// One update on `batch`; new priorities for its items when the table is prioritized.
    func learn(_ batch: TransitionBatch) -> (info: AgentInfo, priorities: [Float]?)
    /// The evaluation policy (no exploration) on `count` observations.
    func evaluationActions(_ observations: [Float], count: Int) -> [Action]
}

/// A worker's half: acting on a batch of observations with the newest parameters, and the initial
/// priorities of the transitions it inserts.
protocol ReplayActor: AnyObject {
    var parameterCount: Int { get }
    /// Takes the learner's parameters of `version` (version 0: the learner has not updated yet).
    func setParameters(_ parameters: [Float], version: Int)
    /// Actions for the environments and their encoding as stored in replay (`count × actionSize`).
    func act(_ observations: [Float], count: Int) -> (actions: [Action], stored: [Float])
    /// Initial priorities of `batch`'s transitions.
    func priorities(for batch: TransitionBatch) -> [Float]
}

/// Builds both halves from a cluster file's settings.
enum ReplayAlgorithm {
    static func learnerCore(_ settings: ClusterSettings) throws -> any ReplayLearnerCore {
        switch settings.algorithm {
        case "apex_dqn": try ApeXDQNLearnerCore(settings: settings)
        case "apex_sac": try DistributedSACLearnerCore(settings: settings)
        default: throw AgentError("\(settings.algorithm) does not train from a replay server")
        }
    }

    /// The actor of worker `index`; `actors` is how many workers the run has (Ape-X's N).
    static func actor(_ settings: ClusterSettings, index: Int, actors: Int, seed: UInt64) throws -> any ReplayActor {
        switch settings.algorithm {
        case "apex_dqn": try ApeXDQNActor(settings: settings, index: index, actors: actors, seed: seed)
        case "apex_sac": try DistributedSACActor(settings: settings, seed: seed)
        default: throw AgentError("\(settings.algorithm) does not act for a replay server")
        }
    }

    /// n of the n-step transitions workers build (1 where the algorithm has no `n_step`).
    static func nStep(_ settings: ClusterSettings) -> Int {
        settings.configuration.schema.key("n_step") != nil ? settings.configuration.int("n_step") : 1
    }
}
