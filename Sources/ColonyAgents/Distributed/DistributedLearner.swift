import ColonyEnvironments
import ColonyNumerics

/// The learner's half of a distributed algorithm, transport-free (Acme's `Learner` and
/// `VariableSource`): it updates on data the learner process has received and validated, and is
/// the source of the flat parameters that actors act with. Its checkpoint is the learner's state.
public protocol DistributedLearner: AnyObject, Checkpointable {
    /// What actors take in `DistributedActor.setParameters`: the acting network's flat parameters.
    var actingParameters: [Float] { get }
    var parameterCount: Int { get }
    /// Adds N(0, σ²) to every parameter of the network actors act with (a population's parameter mutation of a member
    /// that trains as a cluster): the policy of IMPALA and A3C, Ape-X's online Q-network, SAC's actor. Targets,
    /// critics and optimizer moments stay.
    func perturbActingParameters(standardDeviation: Float, random: inout RandomSource)
    /// Every entry of the learner's checkpoint group laid out as one of its layer stacks (parameters, targets,
    /// optimizer moments), for carrying a checkpoint into another `hidden_sizes` (`ArchitectureCarry`).
    var layerStackEntries: [LayerStackEntry] { get }
}

/// A learner that updates on whole unrolls (IMPALA).
public protocol TrajectoryLearner: DistributedLearner {
    /// Checks a received unroll once: well formed and fitting this learner's networks.
    func validate(_ batch: TrajectoryBatch) throws -> ValidatedTrajectory
    /// One update on validated unrolls (the mean loss over all their steps); each is used as it
    /// was decoded, never concatenated into a copy.
    func learn(_ unrolls: [ValidatedTrajectory]) -> AgentInfo
}

/// A learner that applies actors' gradients (A3C).
public protocol GradientLearner: DistributedLearner {
    /// One optimizer step with a gradient of `parameterCount` values.
    func apply(_ gradient: [Float]) -> AgentInfo
}

/// A learner that samples transitions from a replay table (Ape-X DQN, distributed SAC).
public protocol ReplayLearnerCore: DistributedLearner {
    /// Transitions per update (the sample request's size).
    var batchSize: Int { get }
    /// Importance-sampling exponent β at `frame` (ignored by uniform tables).
    func importanceExponent(atFrame frame: Int) -> Double
    /// One update on `batch`; new priorities for its items when the table is prioritized.
    func learn(_ batch: TransitionBatch) -> (info: AgentInfo, priorities: [Float]?)
    /// The evaluation policy (no exploration) on `count` observations.
    func evaluationActions(_ observations: [Float], count: Int) -> [Action]
}

extension ReplayLearnerCore {
    public var parameterCount: Int { actingParameters.count }
}
