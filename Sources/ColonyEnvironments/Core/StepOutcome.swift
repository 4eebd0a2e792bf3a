/// What one step returns besides the observation, which the non-allocating step path writes into
/// the caller's buffer.
public struct StepOutcome: Sendable, Equatable {
    public var reward: Double
    /// The episode reached a terminal state of the task; do not bootstrap past it.
    public var terminated: Bool
    /// The episode was cut off (the time limit); the state is not terminal, so bootstrap from it.
    public var truncated: Bool

    public init(reward: Double, terminated: Bool, truncated: Bool) {
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }

    /// The episode is over either way; reset before stepping again.
    public var isDone: Bool { terminated || truncated }
}
