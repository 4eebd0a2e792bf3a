import ColonyNumerics

/// A batch of action distributions, one per row, built from a policy network's outputs by a `PolicyHead`.
/// Every query takes and returns encoded actions (see `PolicyHead`).
public enum PolicyDistribution: Sendable {
    case categorical(Categorical)
    case gaussian(DiagonalGaussian)

    /// `outputs` is `batchSize × head.outputSize`; `logStd` is the shared log-std (empty for a categorical head).
    public init(head: PolicyHead, outputs: [Float], logStd: [Float], batchSize: Int) {
        switch head {
        case .categorical(let count):
            self = .categorical(Categorical(logits: outputs, batchSize: batchSize, actionCount: count))
        case .gaussian(let low, _):
            self = .gaussian(DiagonalGaussian(mean: outputs, logStd: logStd, batchSize: batchSize, dimension: low.count))
        }
    }

    public var batchSize: Int {
        switch self {
        case .categorical(let distribution): distribution.batchSize
        case .gaussian(let distribution): distribution.batchSize
        }
    }

    /// One sampled action per row.
    public func sample(rng: inout RandomSource) -> [Float] {
        switch self {
        case .categorical(let distribution): distribution.sample(rng: &rng).map(Float.init)
        case .gaussian(let distribution): distribution.sample(rng: &rng)
        }
    }

    /// The most probable action per row (argmax, or the mean): the evaluation policy.
    public var mode: [Float] {
        switch self {
        case .categorical(let distribution): distribution.mode.map(Float.init)
        case .gaussian(let distribution): distribution.mode
        }
    }

    /// log π(aᵢ|sᵢ) per row.
    public func logProb(actions: [Float]) -> [Float] {
        switch self {
        case .categorical(let distribution): distribution.logProb(actions: actions.map { Int($0) })
        case .gaussian(let distribution): distribution.logProb(actions: actions)
        }
    }

    /// Hᵢ per row.
    public func entropy() -> [Float] {
        switch self {
        case .categorical(let distribution): distribution.entropy()
        case .gaussian(let distribution): distribution.entropy()
        }
    }

    /// Gradients of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ with respect to the network outputs
    /// (`batchSize × outputSize`) and the shared log-std (empty for a categorical head). The
    /// caller chooses the signs and 1/B factors: the policy-gradient losses of PPO, A2C and
    /// IMPALA are all of this form with their own weights wᵢ (see `Categorical.logitsGradient`).
    public func gradients(actions: [Float], logProbWeights: [Float], entropyWeight: Float) -> (outputs: [Float], logStd: [Float]) {
        switch self {
        case .categorical(let distribution):
            let outputs = distribution.logitsGradient(
                actions: actions.map { Int($0) }, logProbWeights: logProbWeights, entropyWeight: entropyWeight)
            return (outputs, [])
        case .gaussian(let distribution):
            let gradients = distribution.gradients(actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight)
            return (gradients.mean, gradients.logStd)
        }
    }
}
