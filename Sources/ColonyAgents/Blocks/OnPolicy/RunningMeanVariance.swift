/// Running per-element mean and variance of batches of vectors (Chan et al.'s parallel update),
/// as Stable-Baselines3's `RunningMeanStd`: it starts from count 1e-4, mean 0, variance 1.
/// Cost: O(rows × width) per update.
public struct RunningMeanVariance: Sendable, Equatable {
    public private(set) var count: Double = 1e-4
    public private(set) var mean: [Double]
    public private(set) var variance: [Double]

    public init(width: Int) {
        mean = [Double](repeating: 0, count: width)
        variance = [Double](repeating: 1, count: width)
    }

    public var width: Int { mean.count }

    /// Absorbs `rows` vectors stored row-major in `values`.
    public mutating func update(_ values: [Float], rows: Int) {
        let width = self.width
        precondition(values.count == rows * width && rows > 0, "RunningMeanVariance: \(values.count) values for \(rows) rows of \(width)")
        let batchCount = Double(rows)
        let total = count + batchCount
        for j in 0..<width {
            var batchMean = 0.0
            for row in 0..<rows { batchMean += Double(values[row * width + j]) }
            batchMean /= batchCount
            var batchVariance = 0.0
            for row in 0..<rows {
                let d = Double(values[row * width + j]) - batchMean
                batchVariance += d * d
            }
            batchVariance /= batchCount
            let delta = batchMean - mean[j]
            mean[j] += delta * batchCount / total
            variance[j] = (variance[j] * count + batchVariance * batchCount + delta * delta * count * batchCount / total) / total
        }
        count = total
    }

    func save(to writer: CheckpointWriter) throws {
        try writer.write(count, "count")
        try writer.write(mean, "mean")
        try writer.write(variance, "variance")
    }

    mutating func restore(from reader: CheckpointReader) throws {
        let mean = try reader.doubles("mean"), variance = try reader.doubles("variance")
        guard mean.count == width, variance.count == width else {
            throw CheckpointError.shapeMismatch(entry: reader.path("mean"), expected: width, found: mean.count)
        }
        (count, self.mean, self.variance) = (try reader.double("count"), mean, variance)
    }
}
