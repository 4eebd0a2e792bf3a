import ColonyNumerics

/// The rollout being collected: a `TrajectoryBatch` filled one vector step at a time.
///
/// A step is opened by `beginStep` (the encoded observations the agent acts on, its actions and
/// their log-probabilities go into row `stepCount`) and closed by `completeStep` (rewards, episode
/// ends, and the next observations, which become row `stepCount + 1`; once T steps are in, that is
/// row T, the bootstrap row). So the in-flight state an agent must checkpoint is exactly this
/// object: the batch, the step count, whether a step is open, the frame counter, the acting RNG
/// and the reward scaler's statistics.
public final class Rollout: Checkpointable {
    public private(set) var batch: TrajectoryBatch
    /// Completed steps in `batch`.
    public private(set) var stepCount = 0
    /// Environment frames completed in train mode.
    public private(set) var frames = 0
    /// The stream the behaviour policy samples from.
    public var rng: RandomSource
    /// Scales rewards before they are stored (nil: stored as the environment gives them).
    public let rewardScaler: RewardScaler?
    /// Whether `beginStep` has opened a step that `completeStep` has not closed yet.
    public private(set) var isStepOpen = false

    public init(steps: Int, environments: Int, observationSize: Int, actionSize: Int, rng: RandomSource, rewardScaler: RewardScaler? = nil) {
        batch = TrajectoryBatch(steps: steps, environments: environments, observationSize: observationSize, actionSize: actionSize)
        self.rng = rng
        self.rewardScaler = rewardScaler
    }

    public var isFull: Bool { stepCount == batch.steps }

    /// Drops the partial rollout: after a reset the environments start new episodes, so its last
    /// step would have no successor.
    public func restart() {
        clear()
        isStepOpen = false
    }

    /// Starts the next rollout after an update; the bootstrap observations become row 0 when acted on.
    public func clear() {
        stepCount = 0
        batch.truncationIndices.removeAll(keepingCapacity: true)
        batch.truncationObservations.removeAll(keepingCapacity: true)
    }

    /// Counts a vector step taken in train mode that no open step records (the agent had not acted on its observations).
    public func countUnrecordedStep() {
        frames += batch.environments
    }

    /// Opens step `stepCount`: the encoded observations acted on, the encoded actions and log μ(a|x).
    public func beginStep(observations: [Float], actions: [Float], logProbs: [Float]) {
        precondition(!isFull, "Rollout: the update must consume a full rollout before the next step")
        let (n, t) = (batch.environments, stepCount)
        let (observationSize, actionSize) = (batch.observationSize, batch.actionSize)
        batch.observations.replaceSubrange(t * n * observationSize..<(t + 1) * n * observationSize, with: observations)
        batch.actions.replaceSubrange(t * n * actionSize..<(t + 1) * n * actionSize, with: actions)
        batch.behaviourLogProbs.replaceSubrange(t * n..<(t + 1) * n, with: logProbs)
        isStepOpen = true
    }

    /// Closes the open step with what the environments returned. `encode` turns a truncated
    /// episode's last observation into network input; `nextObservations` are already encoded.
    public func completeStep(
        rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?], nextObservations: [Float],
        encode: ([Float]) -> [Float]
    ) {
        precondition(isStepOpen, "call reset(observations:) before step(...) in train mode")
        let (n, t) = (batch.environments, stepCount)
        let rewards = rewardScaler?.scale(rewards, terminated: terminated, truncated: truncated) ?? rewards
        for i in 0..<n {
            let index = t * n + i
            batch.rewards[index] = Float(rewards[i])
            batch.terminated[index] = terminated[i]
            batch.truncated[index] = truncated[i]
            if truncated[i] && !terminated[i], let final = finalObservations[i] {
                batch.truncationIndices.append(index)
                batch.truncationObservations.append(contentsOf: encode(final))
            }
        }
        stepCount += 1
        frames += n
        let size = n * batch.observationSize
        batch.observations.replaceSubrange(stepCount * size..<(stepCount + 1) * size, with: nextObservations)
        isStepOpen = false
    }

    public func save(to writer: CheckpointWriter) throws {
        try batch.save(to: writer.group("batch"))
        try writer.write(stepCount, "step_count")
        try writer.write(frames, "frames")
        try writer.write([isStepOpen], "step_open")
        try writer.write(rng.state, "rng")
        try rewardScaler?.save(to: writer.group("reward_scaler"))
    }

    public func restore(from reader: CheckpointReader) throws {
        try batch.restore(from: reader.group("batch"))
        let stepCount = try reader.int("step_count")
        guard (0...batch.steps).contains(stepCount) else {
            throw CheckpointError.shapeMismatch(entry: reader.path("step_count"), expected: batch.steps, found: stepCount)
        }
        self.stepCount = stepCount
        frames = try reader.int("frames")
        isStepOpen = try reader.bools("step_open") == [true]
        rng = try reader.randomSource("rng")
        try rewardScaler?.restore(from: reader.group("reward_scaler"))
    }
}
