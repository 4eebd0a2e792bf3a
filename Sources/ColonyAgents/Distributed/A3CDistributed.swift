import ColonyEnvironments
import ColonyNumerics

/// A3C (Mnih et al., 2016) as a cluster: workers compute A2C's gradient on each unroll with their
/// copy of the networks and send it; the learner applies each gradient as it arrives.
enum A3CDistributed {
    static let algorithm = DistributedAlgorithm(
        id: "a3c", agent: "a2c", summary: "asynchronous advantage actor-critic; workers send A2C gradients",
        dataFlow: .gradients,
        makeLearner: { setup in try A3CLearner(setup) },
        makeActor: { setup, slot in
            let loss = A2CLoss(configuration: setup.configuration)
            return try RemoteRolloutAgent(
                configuration: setup.configuration, context: setup.actorContext(slot), makeOptimizer: A2C.optimizerFactory(setup.configuration)
            ) { batch, networks in
                let info = loss.accumulateGradients(networks, batch: batch)
                let gradient = networks.flatGradients
                networks.discardGradients()
                return (.gradient(gradient, frames: batch.count), info)
            }
        })
}

/// A3C's learner: the shared actor-critic (A2C's networks and optimizer), stepped with each
/// worker's gradient.
final class A3CLearner: GradientLearner {
    let networks: ActorCritic

    init(_ setup: DistributedSetup) throws {
        let c = setup.configuration
        networks = try OnPolicyComponents(
            agent: c.agent, configuration: c, context: setup.learnerContext, steps: c.int("n_steps"), updatesPerRollout: 1,
            makeOptimizer: A2C.optimizerFactory(c)
        ).networks
    }

    var actingParameters: [Float] { networks.flatParameters }
    var parameterCount: Int { networks.parameterCount }

    func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        networks.perturbPolicy(standardDeviation: standardDeviation, random: &random)
    }

    var layerStackEntries: [LayerStackEntry] { networks.layerStackEntries(under: "") }

    func apply(_ gradient: [Float]) -> AgentInfo {
        networks.setGradients(gradient)
        let norm = networks.step()
        return AgentInfo(["losses/grad_norm": Double(norm), "charts/learning_rate": Double(networks.learningRate)])
    }

    /// The learner's state is its networks with their optimizer state (group `networks` of a learner checkpoint).
    func save(to writer: CheckpointWriter) throws { try networks.save(to: writer) }
    func restore(from reader: CheckpointReader) throws { try networks.restore(from: reader) }
}
