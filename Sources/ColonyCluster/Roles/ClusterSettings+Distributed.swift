import ColonyAgents
import ColonyEnvironments

extension ClusterSettings {
    /// What the algorithm's learner and actor factories need from this run.
    func distributedSetup() throws -> DistributedSetup {
        let probe = try VectorEnvironments.describe(environmentSettings)
        var setup = DistributedSetup(
            configuration: configuration, environment: environment, observationSpace: probe.observationSpace,
            actionSpace: probe.actionSpace, environmentsPerWorker: environmentsPerWorker, frames: frames, seed: seed)
        if let replay {
            setup.samplesPerInsert = replay.table.rateLimiter.samplesPerInsert
            setup.epsilon = replay.epsilon
            setup.epsilonAlpha = replay.epsilonAlpha
        }
        return setup
    }

    /// This run's learner; with `configuration`, the learner this run would have with that `[agent]` configuration.
    func makeLearner(configuration: Configuration? = nil) throws -> any DistributedLearner {
        var setup = try distributedSetup()
        if let configuration { setup.configuration = configuration }
        return try distributed.makeLearner(setup)
    }

    /// The actor of worker `index` (of `max(workers, index + 1)`), with its own seed, for
    /// `environments` environments (default: the worker's `environmentsPerWorker`).
    func makeActor(index: Int, seed: UInt64, environments: Int? = nil) throws -> any DistributedActor {
        var setup = try distributedSetup()
        if let environments { setup.environmentsPerWorker = environments }
        return try distributed.makeActor(setup, ActorSlot(index: index, actors: max(workers, index + 1), seed: seed))
    }
}

extension ClusterSettings {
    /// The learner of a replay-based run.
    func makeReplayLearner() throws -> any ReplayLearnerCore {
        guard let learner = try makeLearner() as? any ReplayLearnerCore else { throw AgentError("\(algorithm) does not train from a replay server") }
        return learner
    }

    /// The actor of worker `index` of a replay-based run.
    func makeReplayActor(index: Int, seed: UInt64) throws -> any ReplayActor {
        guard let actor = try makeActor(index: index, seed: seed) as? any ReplayActor else { throw AgentError("\(algorithm) does not act for a replay server") }
        return actor
    }
}
