/// Turns a stream of one-step experience from N environments into n-step transitions
/// (s_t, a_t, Σ_{k<m} γ^k r_{t+k}, s_{t+m}, γ^m or 0), m ≤ n, handing each to `emit`.
///
/// At termination the remaining partial windows are flushed with discount 0; at truncation they are
/// flushed with γ^m so that the learner bootstraps from the final observation.
public struct NStepAccumulator {
    public typealias Emit = (_ observation: ArraySlice<Float>, _ action: ArraySlice<Float>, _ reward: Float, _ next: ArraySlice<Float>, _ discount: Float) -> Void

    private struct Pending {
        var observation: [Float]
        var action: [Float]
        var rewards: [Float] = []
    }

    public let steps: Int
    public let gamma: Float
    private var windows: [[Pending]]

    public init(steps: Int, gamma: Float, environments: Int) {
        precondition(steps >= 1)
        self.steps = steps
        self.gamma = gamma
        windows = Array(repeating: [], count: environments)
    }

    /// Records that environment `env` took `action` in `observation` and received `reward`, arriving at
    /// `next` (the final observation if the episode ended). Emits every transition that is now complete.
    public mutating func record(env: Int, observation: ArraySlice<Float>, action: ArraySlice<Float>, reward: Float, next: ArraySlice<Float>, terminated: Bool, truncated: Bool, emit: Emit) {
        windows[env].append(Pending(observation: Array(observation), action: Array(action)))
        for i in windows[env].indices { windows[env][i].rewards.append(reward) }
        if terminated || truncated {
            for pending in windows[env] { emitWindow(pending, next: next, terminated: terminated, emit: emit) }
            windows[env].removeAll(keepingCapacity: true)
        } else if windows[env].count == steps {
            emitWindow(windows[env].removeFirst(), next: next, terminated: false, emit: emit)
        }
    }

    private func emitWindow(_ pending: Pending, next: ArraySlice<Float>, terminated: Bool, emit: Emit) {
        var total: Float = 0
        var discount: Float = 1
        for r in pending.rewards {
            total += discount * r
            discount *= gamma
        }
        emit(pending.observation[...], pending.action[...], total, next, terminated ? 0 : discount)
    }

    /// Drops partial windows (at a reset that does not come from the environment).
    public mutating func clear() {
        for i in windows.indices { windows[i].removeAll() }
    }

    /// Writes the windows in flight, so a restored accumulator emits exactly what this one would:
    /// per environment its window count (`window_counts`), then per window, oldest first, its reward
    /// count (`reward_counts`) and, concatenated, observations, actions and rewards.
    public func save(to writer: CheckpointWriter) throws {
        let pending = windows.flatMap { $0 }
        try writer.write([steps, windows.count], "shape")
        try writer.write(windows.map(\.count), "window_counts")
        try writer.write(pending.map(\.rewards.count), "reward_counts")
        try writer.write(pending.flatMap(\.observation), "observations")
        try writer.write(pending.flatMap(\.action), "actions")
        try writer.write(pending.flatMap(\.rewards), "rewards")
    }

    /// Restores what `save` wrote; throws when it was saved for another n or number of environments.
    /// (A struct cannot adopt the class-bound `Checkpointable`; this is the same pair of methods.)
    public mutating func restore(from reader: CheckpointReader) throws {
        let shape = try reader.ints("shape")
        guard shape == [steps, windows.count] else {
            throw CheckpointError.shapeMismatch(entry: reader.path("shape"), expected: steps, found: shape.first ?? -1)
        }
        let windowCounts = try reader.ints("window_counts")
        let rewardCounts = try reader.ints("reward_counts")
        let rewards = try reader.floats("rewards", count: rewardCounts.reduce(0, +))
        let observations = try reader.floats("observations")
        let actions = try reader.floats("actions")
        let total = rewardCounts.count
        guard windowCounts.count == windows.count, windowCounts.reduce(0, +) == total, total == 0 || (observations.count % total == 0 && actions.count % total == 0) else {
            throw CheckpointError.shapeMismatch(entry: reader.path("window_counts"), expected: windows.count, found: windowCounts.count)
        }
        let observationSize = total == 0 ? 0 : observations.count / total
        let actionSize = total == 0 ? 0 : actions.count / total
        var next = 0, rewardOffset = 0
        for env in windows.indices {
            windows[env].removeAll()
            for _ in 0..<windowCounts[env] {
                windows[env].append(Pending(
                    observation: Array(observations[(next * observationSize)..<((next + 1) * observationSize)]),
                    action: Array(actions[(next * actionSize)..<((next + 1) * actionSize)]),
                    rewards: Array(rewards[rewardOffset..<(rewardOffset + rewardCounts[next])])))
                rewardOffset += rewardCounts[next]
                next += 1
            }
        }
    }
}
