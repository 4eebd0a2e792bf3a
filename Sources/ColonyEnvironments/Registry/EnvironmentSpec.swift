import ColonyNumerics

/// How `Environments.make` builds one id: a factory plus Gymnasium's registration metadata.
public struct EnvironmentSpec: Sendable {
    public let id: String
    /// The `TimeLimit` applied by `make`; nil for none (as Gymnasium registers CliffWalking).
    public let maxEpisodeSteps: Int?
    /// Gymnasium's `reward_threshold`, the return at which the task counts as solved.
    public let rewardThreshold: Double?
    /// Builds an environment seeded with the given seed, without a time limit.
    public let factory: @Sendable (UInt64) -> any Environment

    public init(
        id: String, maxEpisodeSteps: Int?, rewardThreshold: Double? = nil,
        factory: @escaping @Sendable (UInt64) -> any Environment
    ) {
        precondition(maxEpisodeSteps.map { $0 > 0 } ?? true, "maxEpisodeSteps must be positive")
        self.id = id
        self.maxEpisodeSteps = maxEpisodeSteps
        self.rewardThreshold = rewardThreshold
        self.factory = factory
    }
}
