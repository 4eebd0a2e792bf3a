import ColonyAgents
import ColonyEnvironments
import ColonyStorage

/// A training checkpoint: the agent (`agent/...`) plus the loop around it (`extra/...`), so that a
/// resumed run continues exactly where the saved one was. Layout of `extra/` (h5py):
/// - `environment` (string), `environment_settings` (JSON: kwargs, wrappers, ...), `frames`, `episodes`
/// - `pending_actions` [N × action size]: the actions chosen for the next step
/// - `returns100_window`: returns of the current incomplete 100-episode window
/// - `vector/states` [N × state size], `vector/elapsed_steps`, `vector/random_states` [N × 4],
///   `vector/observations`, `vector/episode_returns`, `vector/episode_lengths`; absent where the
///   environments cannot be snapshotted (a resumed run then starts fresh episodes)
enum TrainingCheckpoint {
    static func save(agent: any ParallelAgent, environments: any VectorEnvironment, returns100: ReturnsCSV, state: LoopState, environment: EnvironmentSettings, to path: String) throws {
        try AgentCheckpoint.save(agent, to: path) { extra in
            try extra.write(environment.id, "environment")
            try extra.write(environment.json, "environment_settings")
            try extra.write(state.frames, "frames")
            try extra.write(state.episodes, "episodes")
            let width = environments.actionSpace.elementCount
            try extra.write(state.actions.flatMap(\.encoded), shape: [state.actions.count, width], "pending_actions")
            try extra.write(returns100.pendingReturns, "returns100_window")
            guard let snapshot = environments.snapshot() else { return }
            let vector = extra.group("vector")
            let stateSize = snapshot.states.first?.count ?? 0
            try vector.write(snapshot.states.flatMap { $0 }, "states")
            try vector.write([Int64(snapshot.states.count), Int64(stateSize)], "states_shape")
            try vector.write(snapshot.elapsedSteps, "elapsed_steps")
            try vector.write(snapshot.randomStates.flatMap { $0 }, "random_states")
            try vector.write(snapshot.observations, "observations")
            try vector.write(snapshot.episodeReturns, "episode_returns")
            try vector.write(snapshot.episodeLengths, "episode_lengths")
        }
    }

    /// Restores the agent and the loop; returns whether the environments continue their saved
    /// episodes. Where the checkpoint holds no environment snapshot or the environments cannot
    /// restore one, they keep their fresh episodes and `state.actions` is left alone (the caller
    /// asks the agent for the actions of the fresh observations).
    @discardableResult
    static func load(agent: any ParallelAgent, environments: any VectorEnvironment, returns100: ReturnsCSV, state: inout LoopState, from path: String) throws -> Bool {
        var loaded = state
        let freshActions = state.actions
        var continuesEpisodes = false
        try AgentCheckpoint.load(agent, from: path) { extra in
            loaded.frames = try extra.int("frames")
            loaded.episodes = try extra.int("episodes")
            let encoded = try extra.floats("pending_actions")
            let width = environments.actionSpace.elementCount
            guard encoded.count == environments.count * width else {
                throw CheckpointError.shapeMismatch(entry: extra.path("pending_actions"), expected: environments.count * width, found: encoded.count)
            }
            loaded.actions = (0..<environments.count).map { i in
                let values = Array(encoded[(i * width)..<((i + 1) * width)])
                return environments.actionSpace.isDiscrete ? .discrete(Int(values[0])) : .continuous(values)
            }
            returns100.pendingReturns = try extra.doubles("returns100_window")
            guard extra.contains("vector"), environments.snapshot() != nil else {
                loaded.actions = freshActions
                return
            }
            continuesEpisodes = true
            let vector = extra.group("vector")
            let shape = try vector.ints("states_shape")
            let flatStates = try vector.doubles("states")
            let flatRandom = try vector.uint64s("random_states")
            guard shape.count == 2, shape[0] == environments.count, flatStates.count == shape[0] * shape[1], flatRandom.count == 4 * shape[0] else {
                throw CheckpointError.shapeMismatch(entry: vector.path("states"), expected: environments.count, found: shape.first ?? 0)
            }
            try environments.restore(VectorEnvironmentSnapshot(
                states: (0..<shape[0]).map { Array(flatStates[($0 * shape[1])..<(($0 + 1) * shape[1])]) },
                elapsedSteps: try vector.ints("elapsed_steps"),
                randomStates: (0..<shape[0]).map { Array(flatRandom[($0 * 4)..<(($0 + 1) * 4)]) },
                observations: try vector.floats("observations", count: environments.count * environments.observationCount),
                episodeReturns: try vector.doubles("episode_returns"),
                episodeLengths: try vector.ints("episode_lengths")))
        }
        // Rows written after this checkpoint (a run killed later) would be written again: drop them.
        try returns100.truncate(afterFrame: loaded.frames)
        state = loaded
        return continuesEpisodes
    }

    /// The environment a checkpoint was trained on (for `colony eval`); checkpoints from before
    /// environment settings existed hold only the id.
    static func environment(of path: String) throws -> EnvironmentSettings {
        let file = try HDF5File.open(path)
        if let json = try? file.readString(at: "extra/environment_settings") { return try EnvironmentSettings(json: json) }
        return EnvironmentSettings(id: try file.readString(at: "extra/environment"))
    }
}
