/// A scalar that changes with the step count: learning rates, exploration ε, entropy
/// coefficients. A value, so configurations and checkpoints hold it as is.
public enum Schedule: Sendable, Equatable {
    case constant(Float)
    /// From `from` at step 0 linearly to `to` at step `over`, then constant: CleanRL's PPO
    /// learning-rate annealing (to 0) and DQN's ε decay (its `linear_schedule`).
    case linearDecay(from: Float, to: Float, over: Int)

    public func value(at step: Int) -> Float {
        switch self {
        case .constant(let value):
            return value
        case .linearDecay(let start, let end, let steps):
            precondition(steps >= 0, "linearDecay over \(steps) steps")
            if steps == 0 { return end }
            let fraction = Float(Swift.min(Swift.max(step, 0), steps)) / Float(steps)
            return start * (1 - fraction) + end * fraction  // exact at both ends
        }
    }
}

/// The name learning-rate call sites read best with; the same type serves exploration schedules.
public typealias LearningRateSchedule = Schedule
