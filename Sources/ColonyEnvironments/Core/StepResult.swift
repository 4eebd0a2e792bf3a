/// Gymnasium's `(observation, reward, terminated, truncated)`, for the convenient array API.
public struct StepResult: Sendable, Equatable {
    public var observation: [Float]
    public var reward: Double
    public var terminated: Bool
    public var truncated: Bool

    public init(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }

    public var isDone: Bool { terminated || truncated }
}
