/// A batch of Gaussians with diagonal covariance over `dimension`-dimensional actions:
/// π(a|sᵢ) = Πⱼ N(aⱼ; μᵢⱼ, σᵢⱼ²) with σ = exp(logStd).
///
/// The continuous-action policy of PPO and A2C. `mean` is row-major `[batchSize × dimension]`;
/// `logStd` is either per row (`[batchSize × dimension]`, a state-dependent head) or shared by
/// every row (`[dimension]`, CleanRL's state-independent parameter); gradients with respect to a
/// shared `logStd` are summed over the batch. `logStd` is used as given (no clamping).
/// Construction computes σ and 1/σ once (one `exp` per `logStd` entry); every query is then an
/// O(batchSize · dimension) pass of multiplies and adds; the `into:` variants allocate nothing.
public struct DiagonalGaussian: Sendable {
    /// Number of rows (states).
    public let batchSize: Int
    /// Action dimension d.
    public let dimension: Int
    /// μ, row-major `[batchSize × dimension]`.
    public let mean: [Float]
    /// log σ, `[batchSize × dimension]` or shared `[dimension]`.
    public let logStd: [Float]
    /// True when `logStd` has one row shared by the whole batch (and batchSize > 1).
    public var sharesLogStd: Bool { logStdRowStride == 0 }

    /// 0 when `logStd` is shared, `dimension` otherwise: row i, column j reads `logStd[i·stride + j]`.
    private let logStdRowStride: Int
    /// exp(logStd) and exp(−logStd), shaped like `logStd`.
    private let std: [Float]
    private let inverseStd: [Float]

    /// - Parameters:
    ///   - mean: μ, `[batchSize × dimension]`.
    ///   - logStd: log σ, `[batchSize × dimension]` or `[dimension]` (shared).
    public init(mean: [Float], logStd: [Float], batchSize: Int, dimension: Int) {
        precondition(batchSize >= 0 && dimension > 0, "DiagonalGaussian needs batchSize ≥ 0 and dimension > 0")
        precondition(mean.count == batchSize * dimension,
                     "DiagonalGaussian: mean has \(mean.count) values, expected \(batchSize) × \(dimension)")
        precondition(logStd.count == batchSize * dimension || logStd.count == dimension,
                     "DiagonalGaussian: logStd has \(logStd.count) values, expected \(batchSize) × \(dimension) or \(dimension)")
        self.batchSize = batchSize
        self.dimension = dimension
        self.mean = mean
        self.logStd = logStd
        logStdRowStride = logStd.count == batchSize * dimension ? dimension : 0
        std = logStd.map { DistributionMath.exp($0) }
        inverseStd = logStd.map { DistributionMath.exp(-$0) }
    }

    /// Builds the distributions from buffers (copied); see `init(mean:logStd:batchSize:dimension:)`.
    public init(mean: UnsafeBufferPointer<Float>, logStd: UnsafeBufferPointer<Float>, batchSize: Int, dimension: Int) {
        self.init(mean: Array(mean), logStd: Array(logStd), batchSize: batchSize, dimension: dimension)
    }

    // MARK: Acting

    /// aᵢⱼ = μᵢⱼ + σᵢⱼ·εᵢⱼ for given standard-normal noise ε `[batchSize × dimension]`; overwrites `actions`.
    public func sample(noise: UnsafeBufferPointer<Float>, into actions: UnsafeMutableBufferPointer<Float>) {
        let count = batchSize * dimension
        precondition(noise.count == count && actions.count == count, "DiagonalGaussian.sample: buffers need \(count) values")
        let (d, stride) = (dimension, logStdRowStride)
        mean.withUnsafeBufferPointer { mu in
            std.withUnsafeBufferPointer { sigma in
                for row in 0..<batchSize {
                    for j in 0..<d { actions[row * d + j] = mu[row * d + j] + sigma[row * stride + j] * noise[row * d + j] }
                }
            }
        }
    }

    /// aᵢⱼ = μᵢⱼ + σᵢⱼ·εᵢⱼ for given standard-normal noise ε `[batchSize × dimension]`.
    public func sample(noise: [Float]) -> [Float] {
        let count = batchSize * dimension
        return noise.withUnsafeBufferPointer { eps in
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                sample(noise: eps, into: buffer)
                initialized = count
            }
        }
    }

    /// aᵢⱼ = μᵢⱼ + σᵢⱼ·εᵢⱼ with ε ~ N(0, 1) drawn from `rng` in row-major order.
    public func sample(rng: inout RandomSource) -> [Float] {
        let count = batchSize * dimension
        let (d, stride) = (dimension, logStdRowStride)
        return mean.withUnsafeBufferPointer { mu in
            std.withUnsafeBufferPointer { sigma in
                [Float](unsafeUninitializedCapacity: count) { actions, initialized in
                    for row in 0..<batchSize {
                        for j in 0..<d { actions[row * d + j] = mu[row * d + j] + sigma[row * stride + j] * rng.normal() }
                    }
                    initialized = count
                }
            }
        }
    }

    /// The most probable action, μ, for deterministic evaluation.
    public var mode: [Float] { mean }

    // MARK: Values

    /// log π(aᵢ|sᵢ) = Σⱼ [−½ zᵢⱼ² − log σᵢⱼ − ½ log 2π] with z = (a − μ)/σ, one value per row.
    /// At a = μ this is −½ log(2π)·d − Σ log σ. `actions` is `[batchSize × dimension]`.
    public func logProb(actions: [Float]) -> [Float] {
        precondition(actions.count == batchSize * dimension, "DiagonalGaussian.logProb: actions need \(batchSize) × \(dimension) values")
        let (d, stride) = (dimension, logStdRowStride)
        let constant = -Float(d) * DistributionMath.halfLogTwoPi
        return mean.withUnsafeBufferPointer { mu in
            logStd.withUnsafeBufferPointer { logSigma in
                inverseStd.withUnsafeBufferPointer { inverseSigma in
                    actions.withUnsafeBufferPointer { a in
                        (0..<batchSize).map { row in
                            var sum = constant
                            for j in 0..<d {
                                let z = (a[row * d + j] - mu[row * d + j]) * inverseSigma[row * stride + j]
                                sum -= 0.5 * z * z + logSigma[row * stride + j]
                            }
                            return sum
                        }
                    }
                }
            }
        }
    }

    /// Hᵢ = Σⱼ log σᵢⱼ + ½(1 + log 2π)·d per row.
    public func entropy() -> [Float] {
        let (d, stride) = (dimension, logStdRowStride)
        let constant = Float(d) * (0.5 + DistributionMath.halfLogTwoPi)
        return logStd.withUnsafeBufferPointer { logSigma in
            (0..<batchSize).map { row in
                var sum = constant
                for j in 0..<d { sum += logSigma[row * stride + j] }
                return sum
            }
        }
    }

    // MARK: Gradients

    /// Writes the gradients of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ, using
    /// ∂log π/∂μⱼ = zⱼ/σⱼ, ∂log π/∂log σⱼ = zⱼ² − 1 and ∂H/∂log σⱼ = 1 (z = (a − μ)/σ):
    /// ∂L/∂μᵢⱼ = wᵢ zᵢⱼ/σᵢⱼ and ∂L/∂log σᵢⱼ = wᵢ (zᵢⱼ² − 1) + c, summed over rows when `logStd`
    /// is shared. `meanGradient` is `[batchSize × dimension]`, `logStdGradient` is shaped like
    /// `logStd`; both are overwritten. Weights as for `Categorical.logitsGradient`.
    /// Cost: O(batchSize · dimension), no allocation.
    public func gradients(actions: [Float], logProbWeights: [Float], entropyWeight: Float,
                          meanGradient: UnsafeMutableBufferPointer<Float>,
                          logStdGradient: UnsafeMutableBufferPointer<Float>) {
        precondition(actions.count == batchSize * dimension && logProbWeights.count == batchSize,
                     "DiagonalGaussian.gradients: needs \(batchSize) × \(dimension) actions and \(batchSize) weights")
        precondition(meanGradient.count == mean.count && logStdGradient.count == logStd.count,
                     "DiagonalGaussian.gradients: outputs must be shaped like mean and logStd")
        let (d, stride) = (dimension, logStdRowStride)
        if stride == 0 { logStdGradient.update(repeating: 0) }
        mean.withUnsafeBufferPointer { mu in
            inverseStd.withUnsafeBufferPointer { inverseSigma in
                actions.withUnsafeBufferPointer { a in
                    for row in 0..<batchSize {
                        let w = logProbWeights[row]
                        for j in 0..<d {
                            let index = row * d + j, sigmaIndex = row * stride + j
                            let z = (a[index] - mu[index]) * inverseSigma[sigmaIndex]
                            meanGradient[index] = w * z * inverseSigma[sigmaIndex]
                            let g = w * (z * z - 1) + entropyWeight
                            if stride == 0 { logStdGradient[j] += g } else { logStdGradient[sigmaIndex] = g }
                        }
                    }
                }
            }
        }
    }

    /// Gradients of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ with respect to `mean` and `logStd`;
    /// see `gradients(actions:logProbWeights:entropyWeight:meanGradient:logStdGradient:)`.
    public func gradients(actions: [Float], logProbWeights: [Float], entropyWeight: Float) -> (mean: [Float], logStd: [Float]) {
        var meanGradient = [Float](repeating: 0, count: mean.count)
        var logStdGradient = [Float](repeating: 0, count: logStd.count)
        meanGradient.withUnsafeMutableBufferPointer { gMean in
            logStdGradient.withUnsafeMutableBufferPointer { gLogStd in
                gradients(actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight,
                          meanGradient: gMean, logStdGradient: gLogStd)
            }
        }
        return (meanGradient, logStdGradient)
    }

    /// Gradients of Σᵢ log π(aᵢ|sᵢ): ∂/∂μ = z/σ, ∂/∂log σ = z² − 1 (summed over rows if shared).
    public func logProbGradients(actions: [Float]) -> (mean: [Float], logStd: [Float]) {
        gradients(actions: actions, logProbWeights: [Float](repeating: 1, count: batchSize), entropyWeight: 0)
    }

    /// ∂(Σᵢ Hᵢ)/∂log σ: 1 per entry, or batchSize per entry when `logStd` is shared. (∂H/∂μ = 0.)
    public func entropyLogStdGradient() -> [Float] {
        [Float](repeating: sharesLogStd ? Float(batchSize) : 1, count: logStd.count)
    }
}
