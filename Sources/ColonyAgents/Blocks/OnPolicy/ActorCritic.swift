import ColonyNumerics

/// The actor–critic pair of PPO, A2C and IMPALA: a `StochasticPolicy` and a separate value network
/// (Stable-Baselines3's MlpPolicy: no shared layers; with a convolutional encoder each network has its
/// own, unlike CleanRL's shared Atari trunk), each behind an `Approximation` with the same
/// optimizer settings and learning-rate schedule, with orthogonal initialisation (√2 hidden, 0.01
/// policy head, 1 value head) and one global-norm gradient clip over all parameters together.
///
/// Every loss of the three algorithms has the form
///   L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ + (a value loss with gradient gᵢ with respect to V(sᵢ)),
/// so one `backward` serves all of them (the algorithm computes its weights wᵢ, c and gᵢ), then `step`.
public final class ActorCritic: Checkpointable {
    public let policy: StochasticPolicy
    public var valueNetwork: any Network { value.model }
    /// Global L2 norm the joint gradient is clipped to; nil: no clipping.
    public let maxGradientNorm: Float?

    private let policyApproximation: Approximation<any Network>
    private let value: Approximation<any Network>
    private let logStdApproximation: Approximation<ParameterVector>?
    /// Rows of the last value forward, which the value gradient of `backward` is padded to.
    private var valueRows = 0

    /// - Parameters:
    ///   - makeNetwork: a network over observations with the given outputs, hidden layers initialised by
    ///     `hidden`, the output layer by the given scheme, weights drawn from the given stream.
    ///   - makeOptimizer: a fresh optimizer for each parameter buffer (elementwise rules, so this
    ///     equals one PyTorch optimizer over all parameters).
    ///   - rng: draws the initial weights, policy network first.
    public init(
        head: PolicyHead, logStdInit: Float,
        makeNetwork: (_ outputs: Int, _ hidden: LayerInitialization, _ output: LayerInitialization, _ rng: inout RandomSource) -> any Network,
        makeOptimizer: () -> any Optimizer, schedule: Schedule, maxGradientNorm: Float?, rng: inout RandomSource
    ) {
        let hidden = LayerInitialization.orthogonal(gain: Float(2).squareRoot())
        let policyNetwork = makeNetwork(head.outputSize, hidden, .orthogonal(gain: 0.01), &rng)
        let valueNetwork = makeNetwork(1, hidden, .orthogonal(gain: 1), &rng)
        let logStd = head.logStdSize > 0 ? ParameterVector([Float](repeating: logStdInit, count: head.logStdSize)) : nil
        policy = StochasticPolicy(network: policyNetwork, head: head, logStd: logStd)
        policyApproximation = Approximation(name: "policy", model: policyNetwork, optimizer: makeOptimizer(), schedule: schedule)
        value = Approximation(name: "value", model: valueNetwork, optimizer: makeOptimizer(), schedule: schedule)
        logStdApproximation = logStd.map { Approximation(name: "log_std", model: $0, optimizer: makeOptimizer(), schedule: schedule) }
        self.maxGradientNorm = maxGradientNorm
    }

    /// Gaussian noise on the policy network's parameters (not its log σ or the value network).
    public func perturbPolicy(standardDeviation: Float, random: inout RandomSource) {
        policyApproximation.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    /// The policy and value networks' layer-stack checkpoint entries under `prefix` (log σ is not one).
    public func layerStackEntries(under prefix: String) -> [LayerStackEntry] {
        policyApproximation.layerStackEntries(under: prefix) + value.layerStackEntries(under: prefix)
    }

    /// The learning rate of the next step.
    public var learningRate: Float { value.learningRate }
    /// Optimizer steps taken.
    public var updates: Int { value.updates }

    /// V(s) for `count` observation rows; one forward pass whose activations `backward` goes through.
    public func values(observations: [Float], count: Int) -> [Float] {
        valueRows = count
        return valueNetwork.forward(Tensor(shape: [count, valueNetwork.inputSize], scalars: observations)).scalars
    }

    /// Bootstrap and GAE (Schulman et al., 2016) for a rollout: the critic's values of every
    /// observation in one forward (x_0 … x_T and the truncated episodes' last observations), then
    /// the advantages Â_t and λ-returns of the T·N steps. The forward stays cached, so `backward`
    /// can train V(x_t) on these rows (rows past T·N get zero gradient).
    public func generalizedAdvantages(of batch: TrajectoryBatch, gamma: Float, lambda: Float) -> (values: [Float], advantages: [Float], returns: [Float]) {
        let (values, nextValues) = batch.splitValues(values(observations: batch.valueObservations, count: batch.valueObservationCount))
        let (advantages, returns) = ColonyAgents.generalizedAdvantages(
            rewards: batch.rewards, values: values, nextValues: nextValues, terminated: batch.terminated, ended: batch.ended,
            steps: batch.steps, environments: batch.environments, gamma: gamma, lambda: lambda)
        return (values, advantages, returns)
    }

    /// Adds the gradient of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ + L_V into every parameter's gradient:
    /// the policy part through the last `policy.distribution` call, `valueGradient` (∂L_V/∂V per
    /// row) through the last `values` call; rows past `valueGradient.count` (bootstrap rows) get zero.
    public func backward(
        _ distribution: PolicyDistribution, actions: [Float], logProbWeights: [Float], entropyWeight: Float, valueGradient: [Float]
    ) {
        precondition(valueGradient.count <= valueRows, "ActorCritic.backward: \(valueGradient.count) value gradients for a forward of \(valueRows) rows")
        policy.backward(distribution, actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight)
        var padded = valueGradient
        if valueRows > padded.count { padded.append(contentsOf: repeatElement(0, count: valueRows - padded.count)) }
        valueNetwork.backward(Tensor(shape: [valueRows, 1], scalars: padded))
    }

    /// Clips the joint gradient norm, steps every optimizer and clears the gradients. Returns the
    /// norm before clipping (0 when clipping is off).
    @discardableResult
    public func step() -> Float {
        let norm = maxGradientNorm.map { clipGlobalNorm(trainables, maxNorm: $0) } ?? 0
        policyApproximation.step()
        value.step()
        logStdApproximation?.step()
        return norm
    }

    /// Clears the accumulated gradients without a step (PPO's early stop on the KL).
    public func discardGradients() {
        for trainable in trainables { trainable.zeroGradients() }
    }

    /// Every parameter buffer the losses train.
    public var trainables: [any Trainable] { [policy.network, valueNetwork] + (policy.logStd.map { [$0] } ?? []) }

    public func save(to writer: CheckpointWriter) throws {
        try policyApproximation.save(to: writer)
        try value.save(to: writer)
        try logStdApproximation?.save(to: writer)
    }

    public func restore(from reader: CheckpointReader) throws {
        try policyApproximation.restore(from: reader)
        try value.restore(from: reader)
        try logStdApproximation?.restore(from: reader)
    }

    /// The mean squared error mean((V − target)²) over the first `targets.count` values (what is
    /// logged), and the gradient of coefficient·MSE with respect to each of those values.
    public static func squaredErrorLoss(values: [Float], targets: [Float], coefficient: Float) -> (loss: Float, gradient: [Float]) {
        precondition(values.count >= targets.count, "squaredErrorLoss: \(values.count) values for \(targets.count) targets")
        let count = Float(Swift.max(targets.count, 1))
        var loss: Float = 0
        var gradient = [Float](repeating: 0, count: targets.count)
        for i in targets.indices {
            let error = values[i] - targets[i]
            loss += error * error
            gradient[i] = 2 * coefficient * error / count
        }
        return (loss / count, gradient)
    }
}
