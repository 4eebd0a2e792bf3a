/// A trajectory batch that a learner has checked against its networks (sizes, truncations, action
/// shape and range): the learner process validates each received unroll once, when it is decoded,
/// and learns from it without checking again.
public struct ValidatedTrajectory: Sendable {
    public let batch: TrajectoryBatch

    /// Only a learner's `validate` makes one.
    init(checked batch: TrajectoryBatch) { self.batch = batch }

    /// T·N, the steps in the batch.
    public var count: Int { batch.count }
    /// T, the unroll length.
    public var steps: Int { batch.steps }
}
