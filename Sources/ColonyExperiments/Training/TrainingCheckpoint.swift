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
    static func load(agent: any ParallelAgent, environments: any VectorEnvironment, returns100: ReturnsCSV, state: inout LoopState, from path: String,
                     reseeding: RandomStreamReseeding? = nil) throws -> Bool {
        var loaded = state
        let freshActions = state.actions
        var continuesEpisodes = false
        try AgentCheckpoint.load(agent, from: path, reseeding: reseeding) { extra in
            // The environment entries are read (and checked) though resuming uses the run's own
            // settings: a damaged one is noticed now, not at a later `colony eval` of this file.
            _ = try extra.string("environment")
            if extra.contains("environment_settings") { _ = try EnvironmentSettings(json: try extra.string("environment_settings")) }
            loaded.frames = try extra.int("frames")
            loaded.episodes = try extra.int("episodes")
            let encoded = try extra.floats("pending_actions")
            let width = environments.actionSpace.elementCount
            guard encoded.count == environments.count * width else {
                throw CheckpointError.shapeMismatch(entry: extra.path("pending_actions"), expected: environments.count * width, found: encoded.count)
            }
            if case .discrete(let actionCount) = environments.actionSpace {
                try extra.checkDiscreteActions(encoded, actionCount: actionCount, entry: "pending_actions")
            }
            loaded.actions = (0..<environments.count).map { i in
                let values = Array(encoded[(i * width)..<((i + 1) * width)])
                return environments.actionSpace.isDiscrete ? .discrete(Int(values[0])) : .continuous(values)
            }
            returns100.pendingReturns = try extra.doubles("returns100_window")
            guard extra.contains("vector"), let fresh = environments.snapshot() else {
                loaded.actions = freshActions
                return
            }
            continuesEpisodes = true
            try environments.restore(try snapshot(extra.group("vector"), like: fresh, environments: environments))
        }
        // Rows written after this checkpoint (a run killed later) would be written again: drop them.
        try returns100.truncate(afterFrame: loaded.frames)
        state = loaded
        return continuesEpisodes
    }

    /// Reads the environments' snapshot, checked against a fresh one of the same vector (counts,
    /// state sizes, generator states), so the environments' own preconditions never see a damaged file.
    private static func snapshot(_ vector: CheckpointReader, like fresh: VectorEnvironmentSnapshot, environments: any VectorEnvironment) throws -> VectorEnvironmentSnapshot {
        let count = environments.count, stateSize = fresh.states.first?.count ?? 0
        let shape = try vector.ints("states_shape")
        guard shape == [count, stateSize] else {
            throw CheckpointError.shapeMismatch(entry: vector.path("states_shape"), expected: count, found: shape.first ?? 0)
        }
        let flatStates = try vector.doubles("states")
        let flatRandom = try vector.uint64s("random_states")
        let elapsedSteps = try vector.ints("elapsed_steps")
        let episodeReturns = try vector.doubles("episode_returns")
        let episodeLengths = try vector.ints("episode_lengths")
        for (name, found, expected) in [
            ("states", flatStates.count, count * stateSize), ("random_states", flatRandom.count, 4 * count),
            ("elapsed_steps", elapsedSteps.count, count), ("episode_returns", episodeReturns.count, count),
            ("episode_lengths", episodeLengths.count, count),
        ] where found != expected {
            throw CheckpointError.shapeMismatch(entry: vector.path(name), expected: expected, found: found)
        }
        var randomStates = (0..<count).map { Array(flatRandom[($0 * 4)..<(($0 + 1) * 4)]) }
        if let index = randomStates.firstIndex(where: { $0.allSatisfy { $0 == 0 } }) {
            throw vector.invalid("random_states", "holds an all-zero generator state for environment \(index)")
        }
        if let reseeding = vector.reseeding {
            randomStates = (0..<count).map { reseeding.source(for: vector.path("random_states/\($0)")).state }
        }
        return VectorEnvironmentSnapshot(
            states: (0..<count).map { Array(flatStates[($0 * stateSize)..<(($0 + 1) * stateSize)]) },
            elapsedSteps: elapsedSteps, randomStates: randomStates,
            observations: try vector.floats("observations", count: count * environments.observationCount),
            episodeReturns: episodeReturns, episodeLengths: episodeLengths)
    }

    /// The environment a checkpoint was trained on (for `colony eval`); checkpoints from before
    /// environment settings existed hold only the id.
    static func environment(of path: String) throws -> EnvironmentSettings {
        let file = try HDF5File.open(path)
        // Only a missing entry falls back to the id: a damaged one is an error, not other settings.
        if file.contains("extra/environment_settings") { return try EnvironmentSettings(json: try file.readString(at: "extra/environment_settings")) }
        return EnvironmentSettings(id: try file.readString(at: "extra/environment"))
    }
}
