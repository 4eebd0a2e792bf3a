import Foundation
import Synchronization

/// `gym:<id>`: any environment `gymnasium.make` builds, served by Python environment hosts.
struct GymnasiumEnvironmentSource: EnvironmentSource {
    static let prefix = "gym:"
    var scheme: String { "gym" }

    /// Starts one host for one environment, reads its spec and closes it; cached per settings,
    /// since a run describes its environment several times (command, trainer, evaluation).
    func describe(_ settings: EnvironmentSettings) throws -> EnvironmentDescription {
        let key = Self.cacheKey(settings)
        if let cached = Self.descriptions.withLock({ $0[key] }) { return cached }
        var probeSettings = settings
        probeSettings.hosts = 1
        let probe = try RemoteVectorEnvironment(probeSettings, count: 1, seed: 0)
        let description = EnvironmentDescription(
            id: settings.id, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace,
            maxEpisodeSteps: probe.maxEpisodeSteps, rewardThreshold: probe.rewardThreshold,
            isSnapshottable: false, renderModes: probe.renderModes, stepsConcurrently: true, episodeFrameLimit: probe.episodeFrameLimit)
        Self.descriptions.withLock { $0[key] = description }
        return description
    }

    func makeVector(_ settings: EnvironmentSettings, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int?, renderMode: String?) throws -> any VectorEnvironment {
        var settings = settings
        // An Atari game ends by itself at ALE's frame limit: a cap of a thousand steps would cut Pong's full games
        // (thousands of steps), whose returns the papers report.
        if let defaultMaxEpisodeSteps, settings.kwargs["max_episode_steps"] == nil, try !describe(settings).endsEpisodesItself {
            settings.kwargs["max_episode_steps"] = .int(defaultMaxEpisodeSteps)
        }
        if let renderMode, case let available = try describe(settings).renderModes, !available.contains(renderMode) {
            throw EnvironmentError.unsupportedRenderMode(environment: settings.id, mode: renderMode, available: available)
        }
        return try RemoteVectorEnvironment(settings, count: count, seed: seed, renderMode: renderMode)
    }

    private static let descriptions = Mutex<[String: EnvironmentDescription]>([:])

    /// Everything that decides what the host builds.
    private static func cacheKey(_ settings: EnvironmentSettings) -> String {
        let python = PythonInterpreter.resolve(settings)
        let parts = settings.assignments.filter { !["hosts", "step_timeout_seconds", "max_restarts", "transport", "double_buffer", "shared_memory"].contains($0.key) }
        return python + "|" + parts.map { "\($0.key)=\($0.value)" }.joined(separator: "|")
    }
}
