import ColonyEnvironments
import ColonyNumerics

/// A `ParallelAgent` made of an `OffPolicyDriver` (acting, replay, when to train) and a
/// `ContinuousActorCriticLearner` (networks and updates). Conforming types declare `id`,
/// `driver` and `learner`; this extension supplies the rest of `ParallelAgent`.
public protocol OffPolicyContinuousAgent: ReplaySharing, ParameterPerturbing, ArchitectureResizing {
    associatedtype Learner: ContinuousActorCriticLearner
    var driver: OffPolicyDriver { get }
    var learner: Learner { get }
}

extension OffPolicyContinuousAgent {
    public var configuration: Configuration { driver.configuration }
    public var environmentCount: Int { driver.environmentCount }
    public var observationSpace: Space { driver.observationSpace }
    public var actionSpace: Space { driver.actionSpace }
    public var frames: Int { driver.frames }
    public var mode: AgentMode {
        get { driver.mode }
        set { driver.mode = newValue }
    }

    public func reset(observations: [Float]) -> [Action] {
        driver.reset(observations: observations, learner: learner)
    }

    public func step(
        observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]
    ) -> ParallelAgentStep {
        driver.step(
            observations: observations, rewards: rewards, terminated: terminated, truncated: truncated,
            finalObservations: finalObservations, learner: learner)
    }

    /// One gradient step on a batch from elsewhere (a replay server); see `ContinuousActorCriticLearner`.
    @discardableResult
    public func learn(from batch: TransitionBatch) -> AgentInfo { learner.learn(from: batch) }

    public func save(to writer: CheckpointWriter) throws {
        try driver.save(to: writer.group("driver"))
        try learner.save(to: writer.group("learner"))
    }

    public func restore(from reader: CheckpointReader) throws {
        try driver.restore(from: reader.group("driver"))
        try learner.restore(from: reader.group("learner"))
    }

    public func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        learner.actor.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    /// The actor and every critic, with their targets and moments: all one `hidden_sizes` wide.
    public var layerStackEntries: [LayerStackEntry] {
        ([learner.actor] + learner.critics.members).flatMap { $0.layerStackEntries(under: "learner") }
    }

    public func saveReplay(to writer: CheckpointWriter) throws { try driver.replay.save(to: writer) }
    public func restoreReplay(from reader: CheckpointReader) throws { try driver.replay.restore(from: reader) }
}
