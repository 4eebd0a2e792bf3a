/// A trajectory batch that a learner has checked against its networks (sizes, truncations, action
/// shape and range): the learner process validates each received unroll once, when it is decoded,
/// and learns from it without checking again.
public struct ValidatedTrajectory: Sendable {
    public let batch: TrajectoryBatch

    /// Only a learner's `validate` (or concatenation of validated batches) makes one.
    init(checked batch: TrajectoryBatch) { self.batch = batch }

    /// T·N, the steps in the batch.
    public var count: Int { batch.count }
    /// T, the unroll length.
    public var steps: Int { batch.steps }

    /// Validated unrolls of the same length side by side (still valid: same shapes, truncations moved along).
    public static func concatenating(_ batches: [ValidatedTrajectory]) -> ValidatedTrajectory {
        ValidatedTrajectory(checked: TrajectoryBatch.concatenating(batches.map(\.batch)))
    }
}

extension TrajectoryBatch {
    /// Unrolls of the same length side by side: N = ΣN_i, entry t·N + offset_i + n.
    public static func concatenating(_ batches: [TrajectoryBatch]) -> TrajectoryBatch {
        precondition(!batches.isEmpty)
        if batches.count == 1 { return batches[0] }
        let first = batches[0]
        let (steps, obs, act) = (first.steps, first.observationSize, first.actionSize)
        precondition(batches.allSatisfy { $0.steps == steps && $0.observationSize == obs && $0.actionSize == act })
        let total = batches.reduce(0) { $0 + $1.environments }
        var result = TrajectoryBatch(steps: steps, environments: total, observationSize: obs, actionSize: act)
        var offset = 0
        var truncations: [(index: Int, observation: ArraySlice<Float>)] = []
        for batch in batches {
            let n = batch.environments
            for t in 0...steps {
                for e in 0..<n {
                    let source = (t * n + e) * obs, target = (t * total + offset + e) * obs
                    result.observations.replaceSubrange(target..<(target + obs), with: batch.observations[source..<(source + obs)])
                    guard t < steps else { continue }
                    let (from, to) = (t * n + e, t * total + offset + e)
                    result.actions.replaceSubrange((to * act)..<((to + 1) * act), with: batch.actions[(from * act)..<((from + 1) * act)])
                    result.rewards[to] = batch.rewards[from]
                    result.terminated[to] = batch.terminated[from]
                    result.truncated[to] = batch.truncated[from]
                    result.behaviourLogProbs[to] = batch.behaviourLogProbs[from]
                }
            }
            for (k, index) in batch.truncationIndices.enumerated() {
                let (t, e) = (index / n, index % n)
                truncations.append((t * total + offset + e, batch.truncationObservations[(k * obs)..<((k + 1) * obs)]))
            }
            offset += n
        }
        truncations.sort { $0.index < $1.index }
        result.truncationIndices = truncations.map(\.index)
        result.truncationObservations = truncations.flatMap(\.observation)
        return result
    }
}
