/// Scales training rewards by the running standard deviation of the discounted return, as
/// Stable-Baselines3's `VecNormalize(norm_reward=True)`: per environment G ← γ·G + r, the running
/// variance absorbs the N returns of each step, the reward becomes clip(r / √(Var(G) + 1e-8), ±10),
/// and G restarts at 0 when an episode ends. Keeps value targets near unit scale whatever the
/// environment's reward scale. Cost: O(N) per step.
public final class RewardScaler: Checkpointable {
    public let gamma: Double
    private var returns: [Double]
    private var statistics = RunningMeanVariance(width: 1)
    private var scratch: [Float]

    public init(environments: Int, gamma: Double) {
        self.gamma = gamma
        returns = [Double](repeating: 0, count: environments)
        scratch = [Float](repeating: 0, count: environments)
    }

    /// The scaled rewards of one vector step; updates the statistics.
    public func scale(_ rewards: [Double], terminated: [Bool], truncated: [Bool]) -> [Double] {
        for i in returns.indices {
            returns[i] = returns[i] * gamma + rewards[i]
            scratch[i] = Float(returns[i])
        }
        statistics.update(scratch, rows: returns.count)
        let scale = 1 / (statistics.variance[0] + 1e-8).squareRoot()
        var scaled = rewards
        for i in returns.indices {
            scaled[i] = Swift.min(Swift.max(rewards[i] * scale, -10), 10)
            if terminated[i] || truncated[i] { returns[i] = 0 }
        }
        return scaled
    }

    public func save(to writer: CheckpointWriter) throws {
        try writer.write(returns, "returns")
        try statistics.save(to: writer)
    }

    public func restore(from reader: CheckpointReader) throws {
        let returns = try reader.doubles("returns")
        guard returns.count == self.returns.count else {
            throw CheckpointError.shapeMismatch(entry: reader.path("returns"), expected: self.returns.count, found: returns.count)
        }
        self.returns = returns
        try statistics.restore(from: reader)
    }
}
