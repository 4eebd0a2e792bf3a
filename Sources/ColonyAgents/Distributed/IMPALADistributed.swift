import ColonyEnvironments
import ColonyNumerics

/// IMPALA as a cluster (Espeholt et al., 2018): workers send whole unrolls with their behaviour
/// log-probabilities; the learner corrects for their policy lag with V-trace.
enum IMPALADistributed {
    static let algorithm = DistributedAlgorithm(
        id: "impala", agent: "impala", summary: "V-trace actor-critic; workers send unrolls, the learner batches them",
        dataFlow: .trajectories,
        makeLearner: { setup in try IMPALALearner(configuration: setup.configuration, context: setup.learnerContext) },
        makeActor: { setup, slot in
            try RemoteRolloutAgent(
                configuration: setup.configuration, context: setup.actorContext(slot),
                makeOptimizer: IMPALALearner.optimizerFactory(setup.configuration)
            ) { batch, _ in (.trajectory(batch), AgentInfo()) }
        })
}

extension IMPALALearner: TrajectoryLearner {
    public var actingParameters: [Float] { networks.flatParameters }
    public var parameterCount: Int { networks.parameterCount }
    public func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        networks.perturbPolicy(standardDeviation: standardDeviation, random: &random)
    }
    public var layerStackEntries: [LayerStackEntry] { networks.layerStackEntries(under: "") }
    /// The learner's state is its networks with their optimizer state (group `networks` of a learner checkpoint).
    public func save(to writer: CheckpointWriter) throws { try networks.save(to: writer) }
    public func restore(from reader: CheckpointReader) throws { try networks.restore(from: reader) }
}

extension DistributedSetup {
    /// The context a learner's networks are built in: the seed of the run, so that a restarted
    /// learner without a checkpoint starts from the same networks.
    var learnerContext: AgentContext {
        AgentContext(observationSpace: observationSpace, actionSpace: actionSpace, environmentCount: environmentsPerWorker, seed: seed)
    }

    /// An actor's context: its own seed (its networks are replaced by the learner's before it acts).
    func actorContext(_ slot: ActorSlot) -> AgentContext {
        AgentContext(observationSpace: observationSpace, actionSpace: actionSpace, environmentCount: environmentsPerWorker, seed: slot.seed)
    }
}
