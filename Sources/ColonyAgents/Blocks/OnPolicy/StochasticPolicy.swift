import ColonyNumerics

/// A policy network with its action head: a batch of observations in, one distribution per row out.
///
/// Acting is one batched `forward` over the N environments' observations. `distribution` keeps the
/// network's activations, so a loss can `backward` through it afterwards (do not act in between).
/// Not thread-safe, like its `Network`: one owner.
public final class StochasticPolicy {
    public let network: any Network
    public let head: PolicyHead
    /// The state-independent log σ of a Gaussian head (nil for a categorical head).
    public let logStd: ParameterVector?

    /// - Parameter network: its first `head.outputSize` outputs are the head's; any after them (the value of an
    ///   actor–critic network with one trunk) are not the policy's and get no gradient from it.
    public init(network: any Network, head: PolicyHead, logStd: ParameterVector?) {
        precondition(network.outputSize >= head.outputSize, "StochasticPolicy: the network has \(network.outputSize) outputs, the head needs \(head.outputSize)")
        precondition((logStd?.parameters.count ?? 0) == head.logStdSize, "StochasticPolicy: the log-std must have \(head.logStdSize) entries")
        self.network = network
        self.head = head
        self.logStd = logStd
    }

    /// The distributions for `count` observation rows (`count × network.inputSize`); one forward pass.
    public func distribution(observations: [Float], count: Int) -> PolicyDistribution {
        let outputs = network.forward(Tensor(shape: [count, network.inputSize], scalars: observations))
        return distribution(networkOutputs: outputs.scalars, rows: nil)
    }

    /// The distributions of the given rows (nil: every row) of a forward's `rows × network.outputSize` outputs.
    func distribution(networkOutputs outputs: [Float], rows: [Int]?) -> PolicyDistribution {
        let (width, headWidth) = (network.outputSize, head.outputSize)
        let selected = rows ?? Array(0..<(outputs.count / width))
        if rows == nil && width == headWidth {
            return PolicyDistribution(head: head, outputs: outputs, logStd: logStd?.parameters ?? [], batchSize: selected.count)
        }
        var headOutputs = [Float](repeating: 0, count: selected.count * headWidth)
        for (index, row) in selected.enumerated() {
            for column in 0..<headWidth { headOutputs[index * headWidth + column] = outputs[row * width + column] }
        }
        return PolicyDistribution(head: head, outputs: headOutputs, logStd: logStd?.parameters ?? [], batchSize: selected.count)
    }

    /// Samples one action per row; returns the encoded actions and their log-probabilities.
    public func sample(observations: [Float], count: Int, rng: inout RandomSource) -> (actions: [Float], logProbs: [Float]) {
        let distribution = distribution(observations: observations, count: count)
        let actions = distribution.sample(rng: &rng)
        return (actions, distribution.logProb(actions: actions))
    }

    /// The most probable action per row: what eval mode plays.
    public func mode(observations: [Float], count: Int) -> [Float] {
        distribution(observations: observations, count: count).mode
    }

    /// Adds the gradient of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ into the network's and log-std's
    /// gradients. `distribution` must come from the last `distribution(observations:count:)` call.
    public func backward(_ distribution: PolicyDistribution, actions: [Float], logProbWeights: [Float], entropyWeight: Float) {
        let rows = distribution.batchSize
        var outputGradient = [Float](repeating: 0, count: rows * network.outputSize)
        addGradients(distribution, actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight,
                     rows: nil, into: &outputGradient)
        network.backward(Tensor(shape: [rows, network.outputSize], scalars: outputGradient))
    }

    /// Adds the log-std's gradient of L into its gradients and ∂L/∂(head outputs) of the distribution's i-th row
    /// into row `rows[i]` (nil: row i) of `outputGradient` (`network.outputSize` wide), for one backward.
    func addGradients(_ distribution: PolicyDistribution, actions: [Float], logProbWeights: [Float], entropyWeight: Float,
                      rows: [Int]?, into outputGradient: inout [Float]) {
        let gradients = distribution.gradients(actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight)
        let (width, headWidth) = (network.outputSize, head.outputSize)
        for (index, row) in (rows ?? Array(0..<distribution.batchSize)).enumerated() {
            for column in 0..<headWidth { outputGradient[row * width + column] += gradients.outputs[index * headWidth + column] }
        }
        if let logStd {
            for j in logStd.gradients.indices { logStd.gradients[j] += gradients.logStd[j] }
        }
    }

    /// Every parameter in one vector, the network's then the log-std's: what IMPALA keeps for its
    /// lagged behaviour policy and what a learner sends its actors.
    public var parameters: [Float] {
        get { network.parameters + (logStd?.parameters ?? []) }
        set {
            precondition(newValue.count == parameterCount, "StochasticPolicy: \(newValue.count) parameters, expected \(parameterCount)")
            network.parameters = Array(newValue[0..<network.parameterCount])
            logStd?.parameters = Array(newValue[network.parameterCount...])
        }
    }

    public var parameterCount: Int { network.parameterCount + head.logStdSize }

    /// A policy of the same shape and parameters (IMPALA's behaviour policy).
    public func copy() -> StochasticPolicy {
        StochasticPolicy(network: network.copy(), head: head, logStd: logStd.map { ParameterVector($0.parameters) })
    }
}
