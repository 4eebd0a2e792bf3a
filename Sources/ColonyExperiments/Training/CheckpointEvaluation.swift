import ColonyAgents
import ColonyEnvironments
import ColonyStorage
import Foundation

/// Loads a training checkpoint into a fresh agent and evaluates it (`colony eval`).
public struct CheckpointEvaluation {
    public let agent: any ParallelAgent
    public let environmentSettings: EnvironmentSettings
    public var environment: String { environmentSettings.id }

    public init(checkpoint path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError("no checkpoint at \(path); a run keeps them in runs/<agent>/<env>/seed-<s>/checkpoints/")
        }
        let header = try AgentCheckpoint.Header(path: path)
        let configuration = try ConfigurationSources.configuration(fromSavedTOML: header.configurationTOML, source: path)
        environmentSettings = try TrainingCheckpoint.environment(of: path)
        let probe = try VectorEnvironments.describe(environmentSettings)
        agent = try Agents.makeParallel(
            configuration, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace,
            environments: configuration.int("num_envs"), seed: 0)
        try AgentCheckpoint.load(agent, from: path)
    }

    /// Returns of `episodes` deterministic evaluation episodes.
    public func returns(episodes: Int, seed: UInt64) throws -> [Double] {
        try AgentRunner.evaluate(agent, environment: environmentSettings, episodes: episodes, seed: seed)
    }

    /// Plays one evaluation episode in the first environment, handing each text frame to `draw`.
    public func render(seed: UInt64, draw: (String, Int, Double) -> Void) throws -> Double {
        agent.mode = .eval
        let environments = try VectorEnvironments.make(id: environment, count: agent.environmentCount, seed: seed)
        var actions = agent.reset(observations: environments.observations)
        var total = 0.0
        var step = 0
        draw(environments.render(0), step, total)
        while true {
            try environments.step(actions)
            step += 1
            total += environments.rewards[0]
            if let finished = environments.completedEpisodes.first(where: { $0.environmentIndex == 0 }) {
                draw(environments.render(0), step, finished.episodeReturn)
                return finished.episodeReturn
            }
            draw(environments.render(0), step, total)
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations).actions
        }
    }
}
