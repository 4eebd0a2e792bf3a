import ColonyNumerics

/// N in-process copies of one environment stepped together on the calling thread, with automatic
/// reset; the `VectorEnvironment` that `VectorEnvironments.make` builds.
///
/// Auto-reset is Gymnasium's *same-step* mode: when environment `i` finishes, it is reset within
/// the same `step` call, so `observations` row `i` already holds the first observation of its next
/// episode, while `rewards[i]`, `terminated[i]` and `truncated[i]` describe the finished step and
/// `finalObservations[i]` holds the last observation of the finished episode (Gymnasium's
/// `final_obs`). That makes bootstrapping direct:
///
/// ```swift
/// try envs.step(actions)
/// for i in 0..<envs.count {
///     var target = envs.rewards[i]
///     if !envs.terminated[i] {   // not terminal: bootstrap, from the final state if truncated
///         target += gamma * value(envs.finalObservations[i] ?? Array(envs.observation(i)))
///     }
/// }
/// ```
///
/// `finalObservations[i]` is non-nil exactly for the environments that finished in the last step,
/// and `completedEpisodes` lists their returns and lengths. Every copy draws its resets from its
/// own `split()` of the seed's stream. Snapshots need every copy to be a `SnapshottableEnvironment`.
/// Like `Environment`, one owner, not thread-safe.
public final class LocalVectorEnvironment: VectorEnvironment {
    /// The copies. Stepping or resetting them directly bypasses the episode bookkeeping.
    public let environments: [any Environment]
    public let count: Int
    public let id: String
    /// The spaces of one copy.
    public let observationSpace: Space
    public let actionSpace: Space
    /// Floats per observation row.
    public let observationCount: Int

    public var observations: [Float] { buffers.observations }
    public var rewards: [Double] { buffers.rewards }
    public var terminated: [Bool] { buffers.terminated }
    public var truncated: [Bool] { buffers.truncated }
    /// The last observation of each episode that finished in the last step; nil elsewhere.
    public var finalObservations: [[Float]?] { buffers.finalObservations }
    /// The episodes that finished in the last step, in environment order.
    public var completedEpisodes: [EpisodeRecord] { buffers.completedEpisodes }

    private var buffers = VectorStepBuffers()
    private var continuousScratch: [[Float]]

    /// `count` copies of the registered `id`, seeded from `seed` and reset. Copies registered
    /// without a time limit get `defaultMaxEpisodeSteps`, if given.
    public convenience init(id: String, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int? = nil) throws {
        precondition(count > 0, "a vector environment needs at least one environment")
        var environments: [any Environment] = []
        for _ in 0..<count {
            let environment = try Environments.make(id, seed: 0)
            if environment.maxEpisodeSteps == nil { environment.maxEpisodeSteps = defaultMaxEpisodeSteps }
            environments.append(environment)
        }
        self.init(environments: environments, seed: seed)
    }

    /// Wraps distinct instances with identical spaces, re-seeds them from `seed` and resets them.
    public init(environments: [any Environment], seed: UInt64) {
        precondition(!environments.isEmpty, "a vector environment needs at least one environment")
        precondition(
            Set(environments.map { ObjectIdentifier($0) }).count == environments.count,
            "each environment instance may appear only once")
        let first = environments[0]
        precondition(
            environments.allSatisfy { $0.observationSpace == first.observationSpace && $0.actionSpace == first.actionSpace },
            "all environments of a vector must have the same spaces")
        self.environments = environments
        count = environments.count
        id = first.id
        observationSpace = first.observationSpace
        actionSpace = first.actionSpace
        observationCount = first.observationCount
        continuousScratch = [[Float]](repeating: [Float](repeating: 0, count: actionSpace.elementCount), count: count)
        reset(seed: seed)
    }

    /// Resets every copy and the bookkeeping. A seed gives copy `i` the `i`-th `split()` of
    /// `RandomSource(seed:)` (a copy that is not snapshottable is reset with that stream's first
    /// number as its seed); nil continues each copy's own stream.
    public func reset(seed: UInt64? = nil) {
        var seeds = [UInt64?](repeating: nil, count: count)
        if let seed {
            var root = RandomSource(seed: seed)
            for (i, (environment, stream)) in zip(environments, root.split(count: count)).enumerated() {
                if let snapshottable = environment as? any SnapshottableEnvironment {
                    snapshottable.randomSource = stream
                } else {
                    var stream = stream
                    seeds[i] = stream.next()
                }
            }
        }
        var fresh = VectorStepBuffers(count: count, observationCount: observationCount)
        let width = observationCount
        fresh.observations.withUnsafeMutableBufferPointer { rows in
            for (i, environment) in environments.enumerated() {
                environment.reset(seed: seeds[i], observation: UnsafeMutableBufferPointer(rebasing: rows[(i * width)..<((i + 1) * width)]))
            }
        }
        buffers = fresh
    }

    /// Steps every copy with its action (`actions.count == count`).
    /// Every action is checked before any copy steps, so an invalid one changes nothing.
    public func step(_ actions: [Action]) throws {
        precondition(actions.count == count, "expected \(count) actions, got \(actions.count)")
        for (i, action) in actions.enumerated() where !actionSpace.accepts(action) {
            throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: action, space: actionSpace)
        }
        try stepAll { actions[$0] }
    }

    /// Steps every copy of a discrete-action environment; the allocation-free path.
    public func step(discrete actions: [Int]) throws {
        precondition(actions.count == count, "expected \(count) actions, got \(actions.count)")
        for (i, action) in actions.enumerated() where !actionSpace.accepts(.discrete(action)) {
            throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: .discrete(action), space: actionSpace)
        }
        try stepAll { .discrete(actions[$0]) }
    }

    /// Steps every copy of a box-action environment; `actions` is `count × actionSpace.elementCount`,
    /// row-major.
    public func step(continuous actions: [Float]) throws {
        let width = actionSpace.elementCount
        precondition(actions.count == count * width, "expected \(count * width) action values, got \(actions.count)")
        for i in 0..<count {
            for j in 0..<width { continuousScratch[i][j] = actions[i * width + j] }
            let action = Action.continuous(continuousScratch[i])
            if !actionSpace.accepts(action) {
                throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: action, space: actionSpace)
            }
        }
        try stepAll { .continuous(continuousScratch[$0]) }
    }

    public typealias Snapshot = VectorEnvironmentSnapshot

    /// The copies that can be snapshotted: all of them, or nil.
    private var snapshottableEnvironments: [any SnapshottableEnvironment]? {
        let copies = environments.compactMap { $0 as? any SnapshottableEnvironment }
        return copies.count == count ? copies : nil
    }

    /// Each copy's state, step count and random stream with the observations and running episode
    /// statistics; nil unless every copy is a `SnapshottableEnvironment`.
    public func snapshot() -> Snapshot? {
        guard let environments = snapshottableEnvironments else { return nil }
        return Snapshot(
            states: environments.map(\.state), elapsedSteps: environments.map(\.elapsedSteps),
            randomStates: environments.map(\.randomSource.state), observations: buffers.observations,
            episodeReturns: buffers.episodeReturns, episodeLengths: buffers.episodeLengths)
    }

    /// Continues from `snapshot` (taken from a vector of the same id and size).
    /// Throws `EnvironmentError.notSnapshottable` unless every copy is a `SnapshottableEnvironment`.
    public func restore(_ snapshot: Snapshot) throws {
        guard let environments = snapshottableEnvironments else { throw EnvironmentError.notSnapshottable(environment: id) }
        // Snapshots come from checkpoint files: a wrong one is an error, never a precondition.
        let sizes = [snapshot.states.count, snapshot.elapsedSteps.count, snapshot.randomStates.count, snapshot.episodeReturns.count, snapshot.episodeLengths.count]
        guard sizes.allSatisfy({ $0 == count }), snapshot.observations.count == count * observationCount else {
            throw EnvironmentError.invalidSnapshot(environment: id, reason: "it is of another vector shape than \(count) copies")
        }
        for (i, environment) in environments.enumerated() {
            if let problem = environment.stateProblem(snapshot.states[i]) { throw EnvironmentError.invalidSnapshot(environment: id, reason: "copy \(i): \(problem)") }
            let random = snapshot.randomStates[i]
            guard random.count == 4, random.contains(where: { $0 != 0 }) else {
                throw EnvironmentError.invalidSnapshot(environment: id, reason: "copy \(i): a generator state must be four words, not all zero")
            }
        }
        for (i, environment) in environments.enumerated() {
            environment.state = snapshot.states[i]
            environment.elapsedSteps = snapshot.elapsedSteps[i]
            environment.randomSource = RandomSource(state: snapshot.randomStates[i])
        }
        var fresh = VectorStepBuffers(count: count, observationCount: observationCount)
        fresh.observations = snapshot.observations
        fresh.episodeReturns = snapshot.episodeReturns
        fresh.episodeLengths = snapshot.episodeLengths
        buffers = fresh
    }

    /// A small ASCII drawing of copy `index`.
    public func render(_ index: Int) -> String { environments[index].render() }

    @inline(__always)
    private func stepAll(_ action: (Int) -> Action) throws {
        var b = VectorStepBuffers()
        swap(&b, &buffers)
        defer { swap(&b, &buffers) }
        for i in b.finishedIndices { b.finalObservations[i] = nil }
        b.finishedIndices.removeAll(keepingCapacity: true)
        b.completedEpisodes.removeAll(keepingCapacity: true)
        let width = observationCount, count = self.count
        try environments.withUnsafeBufferPointer { environments in
            try b.observations.withUnsafeMutableBufferPointer { rows in
                for i in 0..<count {
                    let row = UnsafeMutableBufferPointer(rebasing: rows[(i * width)..<((i + 1) * width)])
                    let environment = environments[i]
                    let outcome = try environment.step(action(i), observation: row)
                    b.rewards[i] = outcome.reward
                    b.terminated[i] = outcome.terminated
                    b.truncated[i] = outcome.truncated
                    b.episodeReturns[i] += outcome.reward
                    b.episodeLengths[i] += 1
                    if outcome.terminated || outcome.truncated {
                        b.finalObservations[i] = Array(row)
                        b.finishedIndices.append(i)
                        b.completedEpisodes.append(EpisodeRecord(
                            environmentIndex: i, episodeReturn: b.episodeReturns[i],
                            length: b.episodeLengths[i], terminated: outcome.terminated))
                        b.episodeReturns[i] = 0
                        b.episodeLengths[i] = 0
                        environment.reset(seed: nil, observation: row)
                    }
                }
            }
        }
    }
}
