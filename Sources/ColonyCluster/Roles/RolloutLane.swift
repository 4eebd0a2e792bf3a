import ColonyAgents
import ColonyEnvironments
import Foundation

/// Some of a rollout worker's environments with the actor that acts on them. A worker has one lane,
/// or two halves stepped in turn where its environments step in other processes (Python hosts):
/// while one half's hosts step, the actor computes the other half's actions — Sample Factory's
/// double buffering, which hides inference behind environment time and vice versa.
final class RolloutLane {
    let environments: any VectorEnvironment
    private(set) var agent: RemoteRolloutAgent
    /// Unrolls dropped because a restarted host cut episodes in the middle of them.
    private(set) var droppedUnrolls = 0

    init(environments: any VectorEnvironment, agent: RemoteRolloutAgent) {
        self.environments = environments
        self.agent = agent
    }

    /// The lanes of worker `index`: two when the environment steps in other processes, the worker
    /// has at least two environments and `env.double_buffer` is on; one otherwise.
    static func make(settings: ClusterSettings, index: Int) throws -> [RolloutLane] {
        let total = settings.environmentsPerWorker
        var environmentSettings = settings.environmentSettings
        let description = try VectorEnvironments.describe(environmentSettings)
        let laneCount = description.stepsConcurrently && environmentSettings.doubleBuffer && total >= 2 ? 2 : 1
        if laneCount > 1 {
            environmentSettings.hosts = max(1, (environmentSettings.hosts ?? ProcessInfo.processInfo.activeProcessorCount) / laneCount)
        }
        let seed = settings.seed &+ 7919 &* UInt64(index + 1) &+ UInt64.random(in: 0...1_000_000)
        return try (0..<laneCount).map { lane in
            let count = total / laneCount + (lane < total % laneCount ? 1 : 0)
            let environments = try VectorEnvironments.make(environmentSettings, count: count, seed: seed &+ UInt64(lane) &* 104_729)
            return RolloutLane(environments: environments, agent: try makeAgent(settings: settings, index: index, environments: count))
        }
    }

    private static func makeAgent(settings: ClusterSettings, index: Int, environments: Int) throws -> RemoteRolloutAgent {
        guard let agent = try settings.makeActor(index: index, seed: UInt64.random(in: 0...UInt64.max), environments: environments) as? RemoteRolloutAgent else {
            throw AgentError("\(settings.algorithm)'s actor does not collect rollouts")
        }
        return agent
    }

    /// Goes on with a new actor built from `settings` (a held member's next interval): the step in flight finishes,
    /// the new actor starts its first unroll at the observations it produced, the old actor's unfinished unroll is
    /// dropped. The environments keep their episodes; returns the ones that step finished.
    func restart(with settings: ClusterSettings, index: Int) throws -> [EpisodeRecord] {
        try environments.finishStep()
        let episodes = environments.completedEpisodes
        agent = try Self.makeAgent(settings: settings, index: index, environments: environments.count)
        try environments.beginStep(agent.reset(observations: environments.observations))
        return episodes
    }

    /// Fresh episodes, the actor's first actions, and the first step started.
    func start() throws {
        try environments.reset(seed: nil)
        try environments.beginStep(agent.reset(observations: environments.observations))
    }

    /// Finishes the step in flight, lets the actor observe it and starts the next one; returns the
    /// episodes that finished. Where a restarted host cut episodes, the unroll in progress is
    /// dropped (counted) rather than sent with a seam in it.
    func advance() throws -> [EpisodeRecord] {
        try environments.finishStep()
        let actions: [Action]
        if environments.interruptedIndices.isEmpty {
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations
            ).actions
        } else {
            droppedUnrolls += 1
            actions = agent.reset(observations: environments.observations)
        }
        let episodes = environments.completedEpisodes
        try environments.beginStep(actions)
        return episodes
    }
}
