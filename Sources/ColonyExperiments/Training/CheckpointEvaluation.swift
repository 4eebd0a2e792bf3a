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
        do {
            let header = try AgentCheckpoint.Header(path: path)
            let configuration = try ConfigurationSources.configuration(fromSavedTOML: header.configurationTOML, source: path)
            environmentSettings = try TrainingCheckpoint.environment(of: path)
            let probe = try VectorEnvironments.describe(environmentSettings)
            agent = try Agents.makeParallel(
                configuration, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace,
                environments: configuration.int("num_envs"), seed: 0)
            try AgentCheckpoint.load(agent, from: path)
        } catch let error as CheckpointError {
            throw TrainingError("\(error); evaluate another checkpoint (the run keeps numbered ones in its checkpoints/ folder)")
        } catch let error as HDF5Error {
            throw TrainingError("cannot load \(path): \(error); evaluate another checkpoint (the run keeps numbered ones in its checkpoints/ folder)")
        }
    }

    /// Returns of `episodes` deterministic evaluation episodes.
    public func returns(episodes: Int, seed: UInt64) throws -> [Double] {
        try AgentRunner.evaluate(agent, environment: environmentSettings, episodes: episodes, seed: seed)
    }

    /// What the environment can draw (`ansi` text, `rgb_array` images).
    public var renderModes: [String] { (try? VectorEnvironments.describe(environmentSettings).renderModes) ?? [] }

    /// Whether `render` draws text (native environments, Gymnasium's `ansi`) rather than images.
    public var rendersText: Bool { renderModes.contains("ansi") || !renderModes.contains("rgb_array") }

    /// Plays one evaluation episode in the first environment, handing each text frame to `draw`.
    public func render(seed: UInt64, draw: (String, Int, Double) -> Void) throws -> Double {
        try play(seed: seed, renderMode: "ansi") { frame, step, total in
            switch frame {
            case .text(let text): draw(text, step, total)
            case .image(let width, let height, _): draw("[\(width)×\(height) image]", step, total)
            }
        }
    }

    /// Plays one evaluation episode in the first environment and writes its `rgb_array` frames to
    /// `path` (.mp4 or .gif) at `fps`; returns the episode's return and the frames written.
    public func record(seed: UInt64, to path: String, fps: Double) throws -> (episodeReturn: Double, frames: Int) {
        let video = try VideoRecorder(path: path, fps: fps, python: environmentSettings.python)
        let episodeReturn = try play(seed: seed, renderMode: "rgb_array") { frame, _, _ in
            if case .image(let width, let height, let rgb) = frame { try video.append(width: width, height: height, rgb: rgb) }
        }
        try video.finish()
        return (episodeReturn, video.frames)
    }

    /// One deterministic episode of environment 0, each frame before the last step handed to
    /// `draw` with the step and the return so far.
    private func play(seed: UInt64, renderMode: String, draw: (RenderedFrame, Int, Double) throws -> Void) throws -> Double {
        agent.mode = .eval
        let environments = try VectorEnvironments.make(environmentSettings, count: agent.environmentCount, seed: seed, renderMode: renderMode)
        var actions = agent.reset(observations: environments.observations)
        var total = 0.0
        var step = 0
        try draw(try environments.renderFrame(0), step, total)
        while true {
            try environments.step(actions)
            step += 1
            total += environments.rewards[0]
            // Same-step autoreset: a finished environment already shows its next episode.
            if let finished = environments.completedEpisodes.first(where: { $0.environmentIndex == 0 }) { return finished.episodeReturn }
            try draw(try environments.renderFrame(0), step, total)
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations).actions
        }
    }
}
