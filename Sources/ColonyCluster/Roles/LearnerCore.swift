import ColonyAgents

/// What the trajectory- or gradient-fed learner process learns with: the run's registered
/// `DistributedLearner`, fed what the algorithm's data flow delivers.
final class LearnerCore {
    let learner: any DistributedLearner

    init(settings: ClusterSettings) throws {
        learner = try settings.makeLearner()
        let flow = try settings.distributed.dataFlow
        switch flow {
        case .trajectories where learner is any TrajectoryLearner: break
        case .gradients where learner is any GradientLearner: break
        default: throw AgentError("\(settings.algorithm)'s learner does not take \(flow)")
        }
    }

    /// The checkpointed learning state (the networks with their optimizer state, group `networks`).
    var networks: any Checkpointable { learner }
    var parameters: [Float] { learner.actingParameters }
    var parameterCount: Int { learner.parameterCount }

    /// IMPALA: checks a received unroll once, against the learner's networks.
    func validate(_ batch: TrajectoryBatch) throws -> ValidatedTrajectory {
        guard let learner = learner as? any TrajectoryLearner else { throw AgentError("this learner takes gradients, not trajectories") }
        return try learner.validate(batch)
    }

    /// IMPALA: one update on validated unrolls.
    func learn(_ unrolls: [ValidatedTrajectory]) throws -> AgentInfo {
        guard let learner = learner as? any TrajectoryLearner else { throw AgentError("this learner takes gradients, not trajectories") }
        return learner.learn(unrolls)
    }

    /// A3C: one optimizer step with a worker's gradient.
    func apply(_ gradient: [Float]) throws -> AgentInfo {
        guard let learner = learner as? any GradientLearner else { throw AgentError("this learner takes trajectories, not gradients") }
        return learner.apply(gradient)
    }
}
