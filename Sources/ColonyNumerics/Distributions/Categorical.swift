/// A batch of categorical distributions over `actionCount` discrete actions, one per row of a
/// row-major `[batchSize × actionCount]` logits matrix: π(j|sᵢ) = softmax(zᵢ)ⱼ.
///
/// The policy head of PPO, A2C and IMPALA. Construction computes the log-softmax and the
/// probabilities once (n `exp` and one `log` per row, two `[batchSize × actionCount]` arrays);
/// every query afterwards is a plain O(batchSize · actionCount) pass with no allocation beyond
/// its result array, and the `into:` variants allocate nothing at all.
///
/// Logits may be −∞ to mask invalid actions: such an action has probability 0, is never
/// sampled or chosen as the mode, and contributes 0 to the entropy and its gradient. A row
/// whose logits are all −∞, or contain NaN or +∞, yields NaN.
public struct Categorical: Sendable {
    /// Number of rows (states).
    public let batchSize: Int
    /// Number of actions per row.
    public let actionCount: Int
    /// log π(j|sᵢ) = zᵢⱼ − max(zᵢ) − log Σₖ exp(zᵢₖ − max(zᵢ)), row-major `[batchSize × actionCount]`.
    public let logProbabilities: [Float]
    /// π(j|sᵢ), row-major `[batchSize × actionCount]`; each row sums to 1 up to rounding.
    public let probabilities: [Float]

    /// Builds the distributions from row-major logits. Cost: n `exp` + 1 `log` per row.
    public init(logits: UnsafeBufferPointer<Float>, batchSize: Int, actionCount: Int) {
        precondition(batchSize >= 0 && actionCount > 0, "Categorical needs batchSize ≥ 0 and actionCount > 0")
        precondition(logits.count == batchSize * actionCount,
                     "Categorical: logits has \(logits.count) values, expected \(batchSize) × \(actionCount)")
        self.batchSize = batchSize
        self.actionCount = actionCount
        let count = batchSize * actionCount
        var probabilities: [Float] = []
        logProbabilities = [Float](unsafeUninitializedCapacity: count) { logp, logpCount in
            probabilities = [Float](unsafeUninitializedCapacity: count) { p, pCount in
                let n = actionCount
                for row in 0..<batchSize {
                    let base = row * n
                    var maximum = -Float.infinity
                    for j in base..<base + n where logits[j] > maximum { maximum = logits[j] }
                    var sum: Float = 0
                    for j in base..<base + n {
                        let e = DistributionMath.exp(logits[j] - maximum)
                        p[j] = e
                        sum += e
                    }
                    let logNormalizer = maximum + DistributionMath.log(sum)
                    let inverseSum = 1 / sum
                    for j in base..<base + n {
                        logp[j] = logits[j] - logNormalizer
                        p[j] *= inverseSum
                    }
                }
                pCount = count
            }
            logpCount = count
        }
        self.probabilities = probabilities
    }

    /// Builds the distributions from row-major logits `[batchSize × actionCount]`.
    public init(logits: [Float], batchSize: Int, actionCount: Int) {
        self = logits.withUnsafeBufferPointer { Categorical(logits: $0, batchSize: batchSize, actionCount: actionCount) }
    }

    // MARK: Acting

    /// One action per row by inverse CDF: the first j with u < Σₖ≤ⱼ πₖ, u ~ U[0, 1) (one draw
    /// per row). Zero-probability actions are never returned. Cost: O(actionCount) per row.
    public func sample(rng: inout RandomSource, into actions: UnsafeMutableBufferPointer<Int>) {
        precondition(actions.count == batchSize, "Categorical.sample: output has \(actions.count) slots, expected \(batchSize)")
        let n = actionCount
        probabilities.withUnsafeBufferPointer { p in
            for row in 0..<batchSize {
                let base = row * n
                let u = rng.nextFloat()
                var cumulative: Float = 0
                var chosen = -1
                var lastPossible = 0
                for j in 0..<n where p[base + j] > 0 {
                    lastPossible = j
                    cumulative += p[base + j]
                    if u < cumulative { chosen = j; break }
                }
                // Rounding can leave Σπ slightly below u; the tail then belongs to the last possible action.
                actions[row] = chosen >= 0 ? chosen : lastPossible
            }
        }
    }

    /// One action per row by inverse CDF; see `sample(rng:into:)`.
    public func sample(rng: inout RandomSource) -> [Int] {
        [Int](unsafeUninitializedCapacity: batchSize) { buffer, initialized in
            sample(rng: &rng, into: buffer)
            initialized = batchSize
        }
    }

    /// The most probable action of each row (argmax of the logits; ties go to the lowest
    /// index), for deterministic evaluation.
    public var mode: [Int] {
        let n = actionCount
        return logProbabilities.withUnsafeBufferPointer { logp in
            (0..<batchSize).map { row in
                let base = row * n
                var best = 0
                for j in 1..<n where logp[base + j] > logp[base + best] { best = j }
                return best
            }
        }
    }

    // MARK: Values

    /// log π(aᵢ|sᵢ) for one action per row. Precondition: 0 ≤ aᵢ < actionCount.
    public func logProb(actions: [Int]) -> [Float] {
        precondition(actions.count == batchSize, "Categorical.logProb: \(actions.count) actions, expected \(batchSize)")
        let n = actionCount
        return logProbabilities.withUnsafeBufferPointer { logp in
            (0..<batchSize).map { row in
                let action = actions[row]
                precondition(action >= 0 && action < n, "Categorical: action \(action) outside 0..<\(n)")
                return logp[row * n + action]
            }
        }
    }

    /// Hᵢ = −Σⱼ πⱼ log πⱼ per row (0·log 0 taken as 0). A uniform row has H = log n.
    public func entropy() -> [Float] {
        let n = actionCount
        return probabilities.withUnsafeBufferPointer { p in
            logProbabilities.withUnsafeBufferPointer { logp in
                (0..<batchSize).map { row in Categorical.entropy(p, logp, base: row * n, count: n) }
            }
        }
    }

    /// KL(self ‖ other)ᵢ = Σⱼ pⱼ (log pⱼ − log qⱼ) per row, ≥ 0 (terms with pⱼ = 0 are 0; +∞ where
    /// pⱼ > 0 but qⱼ = 0). Used for PPO's early stopping / logging. Cost: O(batchSize · actionCount).
    public func klDivergence(to other: Categorical) -> [Float] {
        precondition(other.batchSize == batchSize && other.actionCount == actionCount, "Categorical.klDivergence: shapes differ")
        let n = actionCount
        return probabilities.withUnsafeBufferPointer { p in
            logProbabilities.withUnsafeBufferPointer { logp in
                other.logProbabilities.withUnsafeBufferPointer { logq in
                    (0..<batchSize).map { row in
                        var kl: Float = 0
                        for j in row * n..<(row + 1) * n where p[j] > 0 { kl += p[j] * (logp[j] - logq[j]) }
                        return kl
                    }
                }
            }
        }
    }

    // MARK: Gradients

    /// Writes ∂L/∂zᵢⱼ for the policy-gradient loss
    /// L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ, using
    /// ∂log π(a)/∂zⱼ = 1[j = a] − πⱼ and ∂H/∂zⱼ = −πⱼ (log πⱼ + H), so
    /// ∂L/∂zᵢⱼ = wᵢ·1[j = aᵢ] − πᵢⱼ·(wᵢ + c·(log πᵢⱼ + Hᵢ)).
    ///
    /// `logProbWeights` are per-row weights wᵢ: for a loss to minimise, −Âᵢ/B (A2C), the clipped
    /// surrogate's derivative −rᵢÂᵢ/B or 0 (PPO), −ρᵢ(vₛ₊₁ − V)/B (V-trace); `entropyWeight` is c
    /// (e.g. −0.01/B for an entropy bonus). The output `[batchSize × actionCount]` is overwritten.
    /// Cost: O(batchSize · actionCount), no allocation.
    public func logitsGradient(actions: [Int], logProbWeights: [Float], entropyWeight: Float,
                               into gradient: UnsafeMutableBufferPointer<Float>) {
        precondition(actions.count == batchSize && logProbWeights.count == batchSize,
                     "Categorical.logitsGradient: needs \(batchSize) actions and weights")
        precondition(gradient.count == batchSize * actionCount, "Categorical.logitsGradient: output has \(gradient.count) slots")
        let n = actionCount
        probabilities.withUnsafeBufferPointer { p in
            logProbabilities.withUnsafeBufferPointer { logp in
                for row in 0..<batchSize {
                    let base = row * n
                    let action = actions[row]
                    precondition(action >= 0 && action < n, "Categorical: action \(action) outside 0..<\(n)")
                    let w = logProbWeights[row]
                    if entropyWeight == 0 {
                        for j in base..<base + n { gradient[j] = -p[j] * w }
                    } else {
                        let h = Categorical.entropy(p, logp, base: base, count: n)
                        for j in base..<base + n {
                            gradient[j] = p[j] > 0 ? -p[j] * (w + entropyWeight * (logp[j] + h)) : 0
                        }
                    }
                    gradient[base + action] += w
                }
            }
        }
    }

    /// ∂L/∂logits for L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ; see `logitsGradient(actions:logProbWeights:entropyWeight:into:)`.
    public func logitsGradient(actions: [Int], logProbWeights: [Float], entropyWeight: Float) -> [Float] {
        let count = batchSize * actionCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            logitsGradient(actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight, into: buffer)
            initialized = count
        }
    }

    /// ∂log π(aᵢ|sᵢ)/∂zᵢⱼ = 1[j = aᵢ] − πᵢⱼ, `[batchSize × actionCount]`.
    public func logProbGradient(actions: [Int]) -> [Float] {
        logitsGradient(actions: actions, logProbWeights: [Float](repeating: 1, count: batchSize), entropyWeight: 0)
    }

    /// ∂Hᵢ/∂zᵢⱼ = −πᵢⱼ (log πᵢⱼ + Hᵢ), `[batchSize × actionCount]`.
    public func entropyGradient() -> [Float] {
        let n = actionCount
        return probabilities.withUnsafeBufferPointer { p in
            logProbabilities.withUnsafeBufferPointer { logp in
                [Float](unsafeUninitializedCapacity: batchSize * n) { gradient, initialized in
                    for row in 0..<batchSize {
                        let base = row * n
                        let h = Categorical.entropy(p, logp, base: base, count: n)
                        for j in base..<base + n { gradient[j] = p[j] > 0 ? -p[j] * (logp[j] + h) : 0 }
                    }
                    initialized = batchSize * n
                }
            }
        }
    }

    /// −Σⱼ pⱼ log pⱼ over one row, skipping pⱼ = 0 (so −∞ log-probabilities of masked actions are harmless).
    @inline(__always)
    private static func entropy(_ p: UnsafeBufferPointer<Float>, _ logp: UnsafeBufferPointer<Float>, base: Int, count: Int) -> Float {
        var h: Float = 0
        for j in base..<base + count where p[j] > 0 { h -= p[j] * logp[j] }
        return h
    }
}
