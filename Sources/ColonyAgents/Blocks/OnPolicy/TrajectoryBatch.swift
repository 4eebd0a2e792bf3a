/// T steps of N environments (or N unrolls of one actor or many), time-major: the data of one
/// on-policy update, and what an IMPALA actor sends its learner. Entry t·N + n is environment n at step t.
///
/// Observations have T + 1 rows: x_0 … x_{T−1} were acted on, x_T is the observation after the last
/// step, from which the update bootstraps. Where an episode ended at step t, row t + 1 already holds
/// the next episode's first observation (same-step auto-reset); if it was truncated rather than
/// terminated, its last observation is kept in `truncationObservations` so that its value can be
/// bootstrapped. Actions are encoded (see `PolicyHead`).
public struct TrajectoryBatch: Sendable, Equatable {
    public let steps: Int
    public let environments: Int
    public let observationSize: Int
    public let actionSize: Int
    /// (T + 1) × N × observationSize.
    public var observations: [Float]
    /// T × N × actionSize.
    public var actions: [Float]
    /// T × N each.
    public var rewards: [Float]
    public var terminated: [Bool]
    public var truncated: [Bool]
    /// log μ(a_t|x_t) under the policy that acted (the behaviour policy).
    public var behaviourLogProbs: [Float]
    /// Entries t·N + n where an episode was truncated but not terminated, ascending ...
    public var truncationIndices: [Int]
    /// ... and the last observation of each of those episodes, row-major.
    public var truncationObservations: [Float]

    /// A zero-filled batch with no truncations.
    public init(steps: Int, environments: Int, observationSize: Int, actionSize: Int) {
        precondition(steps >= 1 && environments >= 1 && observationSize >= 1 && actionSize >= 1, "TrajectoryBatch needs positive sizes")
        self.steps = steps
        self.environments = environments
        self.observationSize = observationSize
        self.actionSize = actionSize
        let count = steps * environments
        observations = [Float](repeating: 0, count: (count + environments) * observationSize)
        actions = [Float](repeating: 0, count: count * actionSize)
        rewards = [Float](repeating: 0, count: count)
        terminated = [Bool](repeating: false, count: count)
        truncated = [Bool](repeating: false, count: count)
        behaviourLogProbs = [Float](repeating: 0, count: count)
        truncationIndices = []
        truncationObservations = []
    }

    /// T·N, the number of steps in the batch.
    public var count: Int { steps * environments }

    /// Whether each step ended its episode (terminated or truncated): where returns stop.
    public var ended: [Bool] { zip(terminated, truncated).map { $0 || $1 } }

    /// x_0 … x_{T−1}, the observations that were acted on: `count × observationSize`.
    public var stepObservations: [Float] { Array(observations[0..<(count * observationSize)]) }

    /// Every observation whose value an update needs, in the order `splitValues` expects:
    /// x_0 … x_T, then the truncated episodes' last observations.
    public var valueObservations: [Float] { observations + truncationObservations }
    public var valueObservationCount: Int { count + environments + truncationIndices.count }

    /// Splits values of `valueObservations` into V(x_t) and V(x_{t+1}) of the same episode for each
    /// step: the next row's value, or the final observation's where the episode was truncated. (Where
    /// it terminated the next value is the next episode's, which returns must ignore.)
    public func splitValues(_ values: [Float]) -> (values: [Float], nextValues: [Float]) {
        precondition(values.count == valueObservationCount, "TrajectoryBatch: \(values.count) values for \(valueObservationCount) observations")
        var nextValues = Array(values[environments..<(count + environments)])
        for (k, index) in truncationIndices.enumerated() { nextValues[index] = values[count + environments + k] }
        return (Array(values[0..<count]), nextValues)
    }

    /// Checks that every array has the size the shape says and that truncations are in range;
    /// a learner calls it before using a batch from elsewhere.
    public func validate() throws {
        let count = self.count
        let sizes = [
            ("observations", observations.count, (count + environments) * observationSize),
            ("actions", actions.count, count * actionSize), ("rewards", rewards.count, count),
            ("terminated", terminated.count, count), ("truncated", truncated.count, count),
            ("behaviour_log_probs", behaviourLogProbs.count, count),
            ("truncation_observations", truncationObservations.count, truncationIndices.count * observationSize),
        ]
        for (name, found, expected) in sizes where found != expected {
            throw AgentError("trajectory batch field '\(name)' has \(found) values, expected \(expected) for \(steps) steps × \(environments) environments")
        }
        guard truncationIndices.allSatisfy({ (0..<count).contains($0) }), zip(truncationIndices, truncationIndices.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw AgentError("trajectory batch truncation indices must be ascending and inside 0..<\(count)")
        }
    }
}

extension TrajectoryBatch {
    func save(to writer: CheckpointWriter) throws {
        try writer.write(observations, "observations")
        try writer.write(actions, "actions")
        try writer.write(rewards, "rewards")
        try writer.write(terminated, "terminated")
        try writer.write(truncated, "truncated")
        try writer.write(behaviourLogProbs, "behaviour_log_probs")
        // Only non-empty datasets are written: HDF5 has no buffer to hand for zero values.
        try writer.write(truncationIndices.count, "truncation_count")
        if !truncationIndices.isEmpty {
            try writer.write(truncationIndices, "truncation_indices")
            try writer.write(truncationObservations, "truncation_observations")
        }
    }

    /// Reads a batch of this shape; a batch of another shape is an error.
    mutating func restore(from reader: CheckpointReader) throws {
        observations = try reader.floats("observations", count: observations.count)
        actions = try reader.floats("actions", count: actions.count)
        rewards = try reader.floats("rewards", count: rewards.count)
        terminated = try reader.bools("terminated")
        truncated = try reader.bools("truncated")
        behaviourLogProbs = try reader.floats("behaviour_log_probs", count: behaviourLogProbs.count)
        let truncations = try reader.int("truncation_count")
        truncationIndices = truncations > 0 ? try reader.ints("truncation_indices") : []
        truncationObservations = truncations > 0 ? try reader.floats("truncation_observations", count: truncations * observationSize) : []
        try validate()
    }
}
