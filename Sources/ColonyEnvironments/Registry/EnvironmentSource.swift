/// What a run needs to know of an environment before building it: its spaces and limits.
public struct EnvironmentDescription: Sendable, Equatable {
    /// The id as the run names it (`gym:` prefix included).
    public var id: String
    public var observationSpace: Space
    public var actionSpace: Space
    /// The time limit the environment applies itself; nil for none.
    public var maxEpisodeSteps: Int?
    /// Emulator frames after which the simulator itself truncates an episode, whatever the wrappers make of a step
    /// (ALE's `max_num_frames_per_episode`, 108,000 for v5 games: 30 minutes of play); nil for none.
    public var episodeFrameLimit: Int?
    /// Whether episodes end by themselves: a time limit or a simulator's frame limit. Evaluations give the others one.
    public var endsEpisodesItself: Bool { maxEpisodeSteps != nil || episodeFrameLimit != nil }
    /// The return at which the task counts as solved, if registered.
    public var rewardThreshold: Double?
    /// Whether its vectors can be snapshotted (native environments) or resume with fresh episodes.
    public var isSnapshottable: Bool
    /// What the environment's `render` offers: `ansi` (text), `rgb_array` (frames); native ones draw text.
    public var renderModes: [String]
    /// Whether its vectors step in other processes (`beginStep` returns before they finish), so a
    /// caller gains by acting on one vector while another steps.
    public var stepsConcurrently: Bool

    public init(
        id: String, observationSpace: Space, actionSpace: Space, maxEpisodeSteps: Int?, rewardThreshold: Double?, isSnapshottable: Bool,
        renderModes: [String] = ["ansi"], stepsConcurrently: Bool = false, episodeFrameLimit: Int? = nil
    ) {
        self.id = id
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.maxEpisodeSteps = maxEpisodeSteps
        self.episodeFrameLimit = episodeFrameLimit
        self.rewardThreshold = rewardThreshold
        self.isSnapshottable = isSnapshottable
        self.renderModes = renderModes
        self.stepsConcurrently = stepsConcurrently
    }
}

/// A family of environment ids and how to build vectors of them. Ids without a scheme are the
/// native registry's; `gym:<id>` is the Python environment host's. A new family (another
/// simulator's bridge, say) is one conformer and one `VectorEnvironments.register` call.
public protocol EnvironmentSource: Sendable {
    /// The prefix before the first `:` of the ids this source serves (`gym`); `""` for bare ids.
    var scheme: String { get }
    /// Spaces and limits of `settings.id`, without stepping anything.
    func describe(_ settings: EnvironmentSettings) throws -> EnvironmentDescription
    /// `count` environments, seeded from `seed` and reset. Environments without a time limit of
    /// their own get `defaultMaxEpisodeSteps`, if given; `renderMode` (one of the description's
    /// `renderModes`) is how `renderFrame` draws them.
    func makeVector(_ settings: EnvironmentSettings, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int?, renderMode: String?) throws -> any VectorEnvironment
}

/// The native environments of `Environments`, stepped in-process.
struct NativeEnvironmentSource: EnvironmentSource {
    var scheme: String { "" }

    func describe(_ settings: EnvironmentSettings) throws -> EnvironmentDescription {
        try rejectHostSettings(settings)
        let environment = try Environments.make(settings.id, seed: 0)
        return EnvironmentDescription(
            id: settings.id, observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
            maxEpisodeSteps: environment.maxEpisodeSteps, rewardThreshold: Environments.spec(settings.id)?.rewardThreshold,
            isSnapshottable: environment is any SnapshottableEnvironment)
    }

    func makeVector(_ settings: EnvironmentSettings, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int?, renderMode: String?) throws -> any VectorEnvironment {
        try rejectHostSettings(settings)
        if let renderMode, renderMode != "ansi" {
            throw EnvironmentError.unsupportedRenderMode(environment: settings.id, mode: renderMode, available: ["ansi"])
        }
        return try LocalVectorEnvironment(id: settings.id, count: count, seed: seed, defaultMaxEpisodeSteps: defaultMaxEpisodeSteps)
    }

    /// Keyword arguments and wrappers mean nothing to a native environment: saying so beats ignoring them.
    private func rejectHostSettings(_ settings: EnvironmentSettings) throws {
        if !settings.kwargs.isEmpty || !settings.wrappers.isEmpty || !settings.infoKeys.isEmpty {
            throw EnvironmentSettingsError.invalid(
                key: settings.kwargs.isEmpty ? (settings.wrappers.isEmpty ? "info_keys" : "wrappers") : "kwargs",
                expected: "nothing for the native environment \(settings.id); use gym:\(settings.id) to build it with Gymnasium")
        }
    }
}
