import ColonyEnvironments

/// Turns environment observations into network inputs: Discrete observations become one-hot rows;
/// Box observations pass through, or, with `normalizes`, are standardised by running statistics
/// as Stable-Baselines3's `VecNormalize` does (clip((x − μ) / √(σ² + 1e-8), ±10), statistics
/// updated from every training observation batch, starting from count 1e-4, μ = 0, σ² = 1).
///
/// Cost per call: O(rows × inputSize). The statistics are part of the agent's checkpoint.
public final class ObservationEncoder: Checkpointable {
    public let space: Space
    /// Floats per encoded row: `space.flatDimension`.
    public let inputSize: Int
    public let normalizes: Bool
    private var statistics: RunningMeanVariance

    /// Throws for an observation space no network can read (an empty Box).
    public init(space: Space, normalizes: Bool, agent: String) throws {
        guard space.flatDimension >= 1 else { throw AgentError("\(agent) needs observations with at least one element, got \(space)") }
        if case .multiDiscrete = space { throw AgentError("\(agent) cannot encode MultiDiscrete observations, got \(space)") }
        self.space = space
        inputSize = space.flatDimension
        self.normalizes = normalizes && !space.isDiscrete
        statistics = RunningMeanVariance(width: inputSize)
    }

    /// Encodes `rows` observations (row-major, `space.elementCount` floats each). With
    /// `updateStatistics` (training) the running mean and variance first absorb this batch.
    public func encode(_ observations: [Float], rows: Int, updateStatistics: Bool) -> [Float] {
        precondition(observations.count == rows * space.elementCount, "ObservationEncoder: \(observations.count) values for \(rows) rows of \(space)")
        if let classes = space.discreteCount {
            var encoded = [Float](repeating: 0, count: rows * classes)
            for row in 0..<rows { encoded[row * classes + Int(observations[row])] = 1 }
            return encoded
        }
        guard normalizes else { return observations }
        if updateStatistics { statistics.update(observations, rows: rows) }
        var encoded = observations
        let width = inputSize
        for j in 0..<width {
            let (mean, scale) = (statistics.mean[j], 1 / (statistics.variance[j] + 1e-8).squareRoot())
            for row in 0..<rows {
                encoded[row * width + j] = Float(Swift.min(Swift.max((Double(observations[row * width + j]) - mean) * scale, -10), 10))
            }
        }
        return encoded
    }

    public func save(to writer: CheckpointWriter) throws {
        if normalizes { try statistics.save(to: writer) }
    }

    public func restore(from reader: CheckpointReader) throws {
        if normalizes { try statistics.restore(from: reader) }
    }
}
