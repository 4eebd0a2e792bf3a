/// A batch of tanh-squashed diagonal Gaussians, SAC's policy: u = μ + σ·ε with ε ~ N(0, I),
/// a = scale·tanh(u) + bias, so actions lie in the Box (bias − scale, bias + scale).
///
/// `mean` is row-major `[batchSize × dimension]`; `logStd` is `[batchSize × dimension]` (SAC's
/// state-dependent head) or shared `[dimension]` (gradients then summed over the batch).
///
/// **logStd clamp.** The log σ actually used is clamp(logStd, −20, 2) (`logStdRange`, as in
/// SpinningUp, SB3 and CleanRL). The gradient is the exact derivative of that clamp, as
/// `torch.clamp` gives it: it passes where −20 ≤ logStd ≤ 2 and is 0 outside. A head that wants
/// CleanRL's smooth bound maps its raw output through `smoothlyBoundedLogStd(_:)` first (the clamp
/// is then a no-op) and multiplies the returned logStd gradient by that function's derivative.
///
/// **Log-probability.** By change of variables,
/// log π(a|s) = Σⱼ [log N(uⱼ; μⱼ, σⱼ) − log(1 − tanh²(uⱼ)) − log scaleⱼ], with the stable identity
/// log(1 − tanh²(u)) = 2·(log 2 − u − softplus(−2u)) (SpinningUp / CleanRL), finite for all u.
/// There is no closed-form entropy; SAC estimates it with −log π of a sample.
///
/// Cost: construction does 2 `exp` per `logStd` entry; a sample one `tanh`, one `exp` and one
/// `log1p` per element (its gradient one `exp` more), O(batchSize · dimension), no allocation in
/// the `into:` forms (≈ 35 ns per element in release on the 2-core dev box).
public struct TanhGaussian: Sendable {
    /// The range log σ is clamped to: −20...2.
    public static let logStdRange: ClosedRange<Float> = -20...2

    /// Number of rows (states).
    public let batchSize: Int
    /// Action dimension d.
    public let dimension: Int
    /// μ, row-major `[batchSize × dimension]`.
    public let mean: [Float]
    /// log σ after the clamp to `logStdRange`, shaped like the `logStd` given to `init`.
    public let logStd: [Float]
    /// Per-dimension action scale, (high − low)/2 for a Box; all 1 by default.
    public let actionScale: [Float]
    /// Per-dimension action offset, (high + low)/2 for a Box; all 0 by default.
    public let actionBias: [Float]
    /// True when `logStd` has one row shared by the whole batch (and batchSize > 1).
    public var sharesLogStd: Bool { logStdRowStride == 0 }

    private let logStdRowStride: Int
    /// 1 where the clamp let the gradient through (−20 ≤ raw logStd ≤ 2), else 0; shaped like `logStd`.
    private let clampPassesGradient: [Float]
    private let std: [Float]
    private let inverseStd: [Float]
    /// Σⱼ log scaleⱼ, subtracted from every log-probability.
    private let logScaleSum: Float

    /// - Parameters:
    ///   - mean: μ, `[batchSize × dimension]`.
    ///   - logStd: raw log σ, `[batchSize × dimension]` or `[dimension]` (shared); clamped to `logStdRange`.
    ///   - actionScale: `[dimension]`, positive; nil means 1 (actions in (−1, 1)).
    ///   - actionBias: `[dimension]`; nil means 0.
    public init(mean: [Float], logStd: [Float], batchSize: Int, dimension: Int,
                actionScale: [Float]? = nil, actionBias: [Float]? = nil) {
        precondition(batchSize >= 0 && dimension > 0, "TanhGaussian needs batchSize ≥ 0 and dimension > 0")
        precondition(mean.count == batchSize * dimension,
                     "TanhGaussian: mean has \(mean.count) values, expected \(batchSize) × \(dimension)")
        precondition(logStd.count == batchSize * dimension || logStd.count == dimension,
                     "TanhGaussian: logStd has \(logStd.count) values, expected \(batchSize) × \(dimension) or \(dimension)")
        let scale = actionScale ?? [Float](repeating: 1, count: dimension)
        let bias = actionBias ?? [Float](repeating: 0, count: dimension)
        precondition(scale.count == dimension && bias.count == dimension, "TanhGaussian: actionScale and actionBias need \(dimension) values")
        precondition(scale.allSatisfy { $0 > 0 }, "TanhGaussian: actionScale must be positive")
        self.batchSize = batchSize
        self.dimension = dimension
        self.mean = mean
        self.actionScale = scale
        self.actionBias = bias
        logStdRowStride = logStd.count == batchSize * dimension ? dimension : 0
        let range = TanhGaussian.logStdRange
        let clamped = logStd.map { Swift.min(Swift.max($0, range.lowerBound), range.upperBound) }
        self.logStd = clamped
        clampPassesGradient = logStd.map { range.contains($0) ? 1 : 0 }
        std = clamped.map { DistributionMath.exp($0) }
        inverseStd = clamped.map { DistributionMath.exp(-$0) }
        logScaleSum = scale.reduce(0) { $0 + DistributionMath.log($1) }
    }

    /// CleanRL's smooth bound for a raw network output x:
    /// logStd = lo + ½(hi − lo)(tanh(x) + 1), and d logStd/dx = ½(hi − lo)(1 − tanh²(x)),
    /// with [lo, hi] = `logStdRange`.
    public static func smoothlyBoundedLogStd(_ raw: Float) -> (value: Float, derivative: Float) {
        let (lo, hi) = (logStdRange.lowerBound, logStdRange.upperBound)
        let t = DistributionMath.tanh(raw)
        return (lo + 0.5 * (hi - lo) * (t + 1), 0.5 * (hi - lo) * (1 - t * t))
    }

    // MARK: Acting

    /// Writes the squashed sample for given noise ε `[batchSize × dimension]`:
    /// uᵢⱼ = μᵢⱼ + σᵢⱼεᵢⱼ, aᵢⱼ = scaleⱼ·tanh(uᵢⱼ) + biasⱼ, and
    /// log π(aᵢ|sᵢ) = Σⱼ [−½εᵢⱼ² − log σᵢⱼ − ½ log 2π − 2(log 2 − uᵢⱼ − softplus(−2uᵢⱼ)) − log scaleⱼ].
    /// `preTanh` (u) is optional. Cost: O(batchSize · dimension), no allocation.
    public func sample(noise: UnsafeBufferPointer<Float>,
                       actions: UnsafeMutableBufferPointer<Float>,
                       logProb: UnsafeMutableBufferPointer<Float>,
                       preTanh: UnsafeMutableBufferPointer<Float>? = nil) {
        let count = batchSize * dimension
        precondition(noise.count == count && actions.count == count && (preTanh?.count ?? count) == count,
                     "TanhGaussian.sample: noise, actions and preTanh need \(batchSize) × \(dimension) values")
        precondition(logProb.count == batchSize, "TanhGaussian.sample: logProb needs \(batchSize) values")
        let (d, stride) = (dimension, logStdRowStride)
        let constant = -Float(d) * DistributionMath.halfLogTwoPi - logScaleSum
        mean.withUnsafeBufferPointer { mu in
            logStd.withUnsafeBufferPointer { logSigma in
                std.withUnsafeBufferPointer { sigma in
                    actionScale.withUnsafeBufferPointer { scale in
                        actionBias.withUnsafeBufferPointer { bias in
                            for row in 0..<batchSize {
                                var sum = constant
                                for j in 0..<d {
                                    let index = row * d + j, sigmaIndex = row * stride + j
                                    let eps = noise[index]
                                    let u = mu[index] + sigma[sigmaIndex] * eps
                                    preTanh?[index] = u
                                    actions[index] = scale[j] * DistributionMath.tanh(u) + bias[j]
                                    sum -= 0.5 * eps * eps + logSigma[sigmaIndex] + DistributionMath.logOneMinusTanhSquared(u)
                                }
                                logProb[row] = sum
                            }
                        }
                    }
                }
            }
        }
    }

    /// A reparameterized sample: the noise ε, u = μ + σε, a = scale·tanh(u) + bias and log π(a|s).
    public struct Sample: Sendable {
        /// ε, `[batchSize × dimension]`: pass it to `gradients(noise:…)`, or to `sample(noise:)` to reuse it.
        public let noise: [Float]
        /// u = μ + σε, `[batchSize × dimension]`.
        public let preTanh: [Float]
        /// a = scale·tanh(u) + bias, `[batchSize × dimension]`.
        public let actions: [Float]
        /// log π(aᵢ|sᵢ), `[batchSize]`.
        public let logProb: [Float]
    }

    /// The squashed sample for given noise ε `[batchSize × dimension]`; see `sample(noise:actions:logProb:preTanh:)`.
    public func sample(noise: [Float]) -> Sample {
        let count = batchSize * dimension
        var actions = [Float](repeating: 0, count: count)
        var preTanh = [Float](repeating: 0, count: count)
        var logProb = [Float](repeating: 0, count: batchSize)
        noise.withUnsafeBufferPointer { eps in
            actions.withUnsafeMutableBufferPointer { a in
                preTanh.withUnsafeMutableBufferPointer { u in
                    logProb.withUnsafeMutableBufferPointer { lp in
                        sample(noise: eps, actions: a, logProb: lp, preTanh: u)
                    }
                }
            }
        }
        return Sample(noise: noise, preTanh: preTanh, actions: actions, logProb: logProb)
    }

    /// Draws ε ~ N(0, I) from `rng` (row-major) and returns the squashed sample.
    public func sample(rng: inout RandomSource) -> Sample {
        let count = batchSize * dimension
        let noise = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            rng.fillNormal(buffer)
            initialized = count
        }
        return sample(noise: noise)
    }

    /// The deterministic action scale·tanh(μ) + bias, for evaluation.
    public var mode: [Float] {
        let d = dimension
        return mean.enumerated().map { index, mu in actionScale[index % d] * DistributionMath.tanh(mu) + actionBias[index % d] }
    }

    // MARK: Values

    /// log π(aᵢ|sᵢ) of given actions `[batchSize × dimension]`, inverting the squash:
    /// y = (a − bias)/scale clamped to |y| ≤ 1 − 1e−6, u = atanh(y), then the formula of
    /// `sample(noise:…)` with ε = (u − μ)/σ. The clamp makes boundary actions finite but means
    /// the inverse is exact only for |u| ≲ 7; for SAC's own samples use `Sample.logProb`.
    public func logProb(actions: [Float]) -> [Float] {
        precondition(actions.count == batchSize * dimension, "TanhGaussian.logProb: actions need \(batchSize) × \(dimension) values")
        let (d, stride) = (dimension, logStdRowStride)
        let constant = -Float(d) * DistributionMath.halfLogTwoPi - logScaleSum
        let limit: Float = 1 - 1e-6
        return (0..<batchSize).map { row in
            var sum = constant
            for j in 0..<d {
                let index = row * d + j, sigmaIndex = row * stride + j
                let y = Swift.min(Swift.max((actions[index] - actionBias[j]) / actionScale[j], -limit), limit)
                let u = DistributionMath.atanh(y)
                let eps = (u - mean[index]) * inverseStd[sigmaIndex]
                sum -= 0.5 * eps * eps + logStd[sigmaIndex] + DistributionMath.logOneMinusTanhSquared(u)
            }
            return sum
        }
    }

    // MARK: Gradients

    /// Writes the reparameterized gradients of SAC's actor loss
    /// L = α·Σᵢ log π(aᵢ|sᵢ) + f(a), where a = scale·tanh(μ + σε) for the given ε and
    /// `actionGradient` is ∂f/∂a `[batchSize × dimension]` (e.g. −∂Q/∂a / B from the critic);
    /// `logProbWeight` is α (α/B for a batch mean).
    ///
    /// With t = tanh(u): ∂a/∂u = scale·(1 − t²), ∂log π/∂u = 2t (from the tanh correction;
    /// the Gaussian term −½ε² − log σ does not depend on u for fixed ε), ∂u/∂μ = 1, ∂u/∂log σ = σε,
    /// and ∂log π/∂log σ = −1 directly, so
    /// ∂L/∂μ = gᵤ and ∂L/∂log σ = (gᵤ·σε − α)·1[−20 ≤ logStd ≤ 2],
    /// with gᵤ = ∂f/∂a·scale·(1 − t²) + 2αt. 1 − t² is evaluated as exp(log(1 − t²)) to stay
    /// accurate when t rounds to ±1. `meanGradient` is `[batchSize × dimension]`, `logStdGradient`
    /// is shaped like `logStd` (summed over rows when shared); both are overwritten.
    /// Cost: O(batchSize · dimension), no allocation.
    public func gradients(noise: UnsafeBufferPointer<Float>, actionGradient: UnsafeBufferPointer<Float>,
                          logProbWeight alpha: Float,
                          meanGradient: UnsafeMutableBufferPointer<Float>,
                          logStdGradient: UnsafeMutableBufferPointer<Float>) {
        let count = batchSize * dimension
        precondition(noise.count == count && actionGradient.count == count,
                     "TanhGaussian.gradients: noise and actionGradient need \(batchSize) × \(dimension) values")
        precondition(meanGradient.count == mean.count && logStdGradient.count == logStd.count,
                     "TanhGaussian.gradients: outputs must be shaped like mean and logStd")
        let (d, stride) = (dimension, logStdRowStride)
        if stride == 0 { logStdGradient.update(repeating: 0) }
        mean.withUnsafeBufferPointer { mu in
            std.withUnsafeBufferPointer { sigma in
                clampPassesGradient.withUnsafeBufferPointer { passes in
                    actionScale.withUnsafeBufferPointer { scale in
                        for row in 0..<batchSize {
                            for j in 0..<d {
                                let index = row * d + j, sigmaIndex = row * stride + j
                                let eps = noise[index]
                                let u = mu[index] + sigma[sigmaIndex] * eps
                                let t = DistributionMath.tanh(u)
                                let oneMinusTSquared = DistributionMath.exp(DistributionMath.logOneMinusTanhSquared(u))
                                let gU = actionGradient[index] * scale[j] * oneMinusTSquared + 2 * alpha * t
                                meanGradient[index] = gU
                                let gLogStd = (gU * sigma[sigmaIndex] * eps - alpha) * passes[sigmaIndex]
                                if stride == 0 { logStdGradient[j] += gLogStd } else { logStdGradient[sigmaIndex] = gLogStd }
                            }
                        }
                    }
                }
            }
        }
    }

    /// ∂L/∂μ and ∂L/∂logStd for L = α·Σᵢ log π(aᵢ|sᵢ) + f(a); see
    /// `gradients(noise:actionGradient:logProbWeight:meanGradient:logStdGradient:)`.
    public func gradients(noise: [Float], actionGradient: [Float], logProbWeight alpha: Float) -> (mean: [Float], logStd: [Float]) {
        var meanGradient = [Float](repeating: 0, count: mean.count)
        var logStdGradient = [Float](repeating: 0, count: logStd.count)
        noise.withUnsafeBufferPointer { eps in
            actionGradient.withUnsafeBufferPointer { gA in
                meanGradient.withUnsafeMutableBufferPointer { gMean in
                    logStdGradient.withUnsafeMutableBufferPointer { gLogStd in
                        gradients(noise: eps, actionGradient: gA, logProbWeight: alpha, meanGradient: gMean, logStdGradient: gLogStd)
                    }
                }
            }
        }
        return (meanGradient, logStdGradient)
    }
}
