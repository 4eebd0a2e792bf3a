import ColonyNumerics

/// The actor–critic of PPO, A2C and IMPALA: a `StochasticPolicy` and a critic, behind `Approximation`s with the
/// same optimizer settings and learning-rate schedule, orthogonal initialisation (√2 hidden, 0.01 policy head,
/// 1 value head) and one global-norm gradient clip over all parameters together. Two layouts:
/// - `separate`: a policy network and a value network with no shared layers (Stable-Baselines3's MlpPolicy);
/// - `shared`: one network whose last layer holds the policy head's outputs and then the value (CleanRL's Atari
///   agent and SB3's CnnPolicy: one convolutional trunk, two heads), so a minibatch costs one forward and one
///   backward through the trunk instead of two of each.
///
/// Every loss of the three algorithms has the form
///   L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ + (a value loss with gradient gᵢ with respect to V(sᵢ)),
/// so `evaluate` (π and V in one pass) and one `backward` serve all of them (the algorithm computes its weights
/// wᵢ, c and gᵢ), then `step`.
public final class ActorCritic: Checkpointable {
    /// Whether the policy and the critic share their layers.
    public enum Layout: String, Sendable, CaseIterable {
        case separate, shared
    }

    public let policy: StochasticPolicy
    public let layout: Layout
    /// Global L2 norm the joint gradient is clipped to; nil: no clipping.
    public let maxGradientNorm: Float?

    /// The policy network (separate) or the one network of both heads (shared).
    private let policyApproximation: Approximation<any Network>
    /// The value network; nil when shared.
    private let valueApproximation: Approximation<any Network>?
    private let logStdApproximation: Approximation<ParameterVector>?
    /// Rows of the last critic forward, which the value gradient of `backward` is padded to.
    private var valueRows = 0
    /// Shared layout: the policy rows of the last `evaluate` (nil: all), present only while the one network's
    /// cached forward is that evaluation's.
    private var sharedEvaluation: [Int]??

    /// - Parameters:
    ///   - layout: separate networks, or one network with both heads (its last layer initialised as the two heads
    ///     would be, policy rows first).
    ///   - makeNetwork: a network over observations with the given outputs, hidden layers initialised by
    ///     `hidden`, the output layer by the given scheme, weights drawn from the given stream.
    ///   - makeOptimizer: a fresh optimizer for each parameter buffer (elementwise rules, so this
    ///     equals one PyTorch optimizer over all parameters).
    ///   - rng: draws the initial weights, policy network first.
    public init(
        head: PolicyHead, logStdInit: Float, layout: Layout = .separate,
        makeNetwork: (_ outputs: Int, _ hidden: LayerInitialization, _ output: LayerInitialization, _ rng: inout RandomSource) -> any Network,
        makeOptimizer: () -> any Optimizer, schedule: Schedule, maxGradientNorm: Float?, rng: inout RandomSource
    ) {
        let hidden = LayerInitialization.orthogonal(gain: Float(2).squareRoot())
        let (policyHead, valueHead) = (LayerInitialization.orthogonal(gain: 0.01), LayerInitialization.orthogonal(gain: 1))
        let logStd = head.logStdSize > 0 ? ParameterVector([Float](repeating: logStdInit, count: head.logStdSize)) : nil
        switch layout {
        case .separate:
            let policyNetwork = makeNetwork(head.outputSize, hidden, policyHead, &rng)
            let valueNetwork = makeNetwork(1, hidden, valueHead, &rng)
            policy = StochasticPolicy(network: policyNetwork, head: head, logStd: logStd)
            policyApproximation = Approximation(name: "policy", model: policyNetwork, optimizer: makeOptimizer(), schedule: schedule)
            valueApproximation = Approximation(name: "value", model: valueNetwork, optimizer: makeOptimizer(), schedule: schedule)
        case .shared:
            let network = makeNetwork(head.outputSize + 1, hidden, .stacked([(head.outputSize, policyHead), (1, valueHead)]), &rng)
            policy = StochasticPolicy(network: network, head: head, logStd: logStd)
            policyApproximation = Approximation(name: "actor_critic", model: network, optimizer: makeOptimizer(), schedule: schedule)
            valueApproximation = nil
        }
        logStdApproximation = logStd.map { Approximation(name: "log_std", model: $0, optimizer: makeOptimizer(), schedule: schedule) }
        self.layout = layout
        self.maxGradientNorm = maxGradientNorm
    }

    /// The network V(s) comes from, and the column of its output that holds it.
    private var critic: (network: any Network, column: Int) {
        valueApproximation.map { ($0.model, 0) } ?? (policy.network, policy.head.outputSize)
    }

    /// Gaussian noise on the policy network's parameters (not its log σ; shared: the value head and trunk too).
    public func perturbPolicy(standardDeviation: Float, random: inout RandomSource) {
        policyApproximation.perturbParameters(standardDeviation: standardDeviation, random: &random)
    }

    /// The networks' layer-stack checkpoint entries under `prefix` (log σ is not one).
    public func layerStackEntries(under prefix: String) -> [LayerStackEntry] {
        policyApproximation.layerStackEntries(under: prefix) + (valueApproximation?.layerStackEntries(under: prefix) ?? [])
    }

    /// The learning rate of the next step.
    public var learningRate: Float { policyApproximation.learningRate }
    /// Optimizer steps taken.
    public var updates: Int { policyApproximation.updates }

    /// V(s) for `count` observation rows: one critic forward. With separate networks `backward` can go through it.
    public func values(observations: [Float], count: Int) -> [Float] {
        let (network, column) = critic
        valueRows = count
        sharedEvaluation = nil
        let outputs = network.forward(Tensor(shape: [count, network.inputSize], scalars: observations)).scalars
        return Self.column(column, of: outputs, width: network.outputSize)
    }

    /// π on the rows `policyRows` (nil: every row) of `count` observation rows and V on every row, ready for
    /// one `backward`: a single forward when the networks are shared, one through each network otherwise.
    public func evaluate(observations: [Float], count: Int, policyRows: [Int]? = nil) -> (distribution: PolicyDistribution, values: [Float]) {
        let network = policy.network
        guard layout == .shared else {
            let values = values(observations: observations, count: count)
            guard let policyRows else { return (policy.distribution(observations: observations, count: count), values) }
            let width = network.inputSize
            var rows: [Float] = []
            rows.reserveCapacity(policyRows.count * width)
            for row in policyRows { rows += observations[(row * width)..<((row + 1) * width)] }
            return (policy.distribution(observations: rows, count: policyRows.count), values)
        }
        let outputs = network.forward(Tensor(shape: [count, network.inputSize], scalars: observations)).scalars
        valueRows = count
        sharedEvaluation = .some(policyRows)
        return (policy.distribution(networkOutputs: outputs, rows: policyRows),
                Self.column(policy.head.outputSize, of: outputs, width: network.outputSize))
    }

    private static func column(_ column: Int, of outputs: [Float], width: Int) -> [Float] {
        width == 1 ? outputs : stride(from: column, to: outputs.count, by: width).map { outputs[$0] }
    }

    /// Bootstrap and GAE (Schulman et al., 2016) for a rollout: the critic's values of every
    /// observation in one forward (x_0 … x_T and the truncated episodes' last observations), then
    /// the advantages Â_t and λ-returns of the T·N steps.
    public func generalizedAdvantages(of batch: TrajectoryBatch, gamma: Float, lambda: Float) -> (values: [Float], advantages: [Float], returns: [Float]) {
        Self.generalizedAdvantages(
            of: batch, criticValues: values(observations: batch.valueObservations, count: batch.valueObservationCount), gamma: gamma, lambda: lambda)
    }

    /// GAE from the critic's values of `batch.valueObservations` (x_0 … x_T, then the truncated episodes' last observations).
    public static func generalizedAdvantages(
        of batch: TrajectoryBatch, criticValues: [Float], gamma: Float, lambda: Float
    ) -> (values: [Float], advantages: [Float], returns: [Float]) {
        let (values, nextValues) = batch.splitValues(criticValues)
        let (advantages, returns) = ColonyAgents.generalizedAdvantages(
            rewards: batch.rewards, values: values, nextValues: nextValues, terminated: batch.terminated, ended: batch.ended,
            steps: batch.steps, environments: batch.environments, gamma: gamma, lambda: lambda)
        return (values, advantages, returns)
    }

    /// Adds the gradient of L = Σᵢ wᵢ·log π(aᵢ|sᵢ) + c·Σᵢ Hᵢ + L_V into every parameter's gradient, through the
    /// last `evaluate` (separate networks: the last `policy.distribution` and `values` calls also do):
    /// `valueGradient` (∂L_V/∂V per row, rows past its count, bootstrap rows, get zero).
    public func backward(
        _ distribution: PolicyDistribution, actions: [Float], logProbWeights: [Float], entropyWeight: Float, valueGradient: [Float]
    ) {
        precondition(valueGradient.count <= valueRows, "ActorCritic.backward: \(valueGradient.count) value gradients for a forward of \(valueRows) rows")
        guard let valueApproximation else {
            guard let policyRows = sharedEvaluation else {
                preconditionFailure("ActorCritic.backward: the shared network's last forward was not an evaluate(observations:count:policyRows:)")
            }
            let width = policy.network.outputSize
            var outputGradient = [Float](repeating: 0, count: valueRows * width)
            policy.addGradients(distribution, actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight,
                                rows: policyRows, into: &outputGradient)
            let column = policy.head.outputSize
            for (row, gradient) in valueGradient.enumerated() { outputGradient[row * width + column] += gradient }
            policy.network.backward(Tensor(shape: [valueRows, width], scalars: outputGradient))
            return
        }
        policy.backward(distribution, actions: actions, logProbWeights: logProbWeights, entropyWeight: entropyWeight)
        var padded = valueGradient
        if valueRows > padded.count { padded.append(contentsOf: repeatElement(0, count: valueRows - padded.count)) }
        valueApproximation.model.backward(Tensor(shape: [valueRows, 1], scalars: padded))
    }

    /// Clips the joint gradient norm, steps every optimizer and clears the gradients. Returns the
    /// norm before clipping (0 when clipping is off).
    @discardableResult
    public func step() -> Float {
        let norm = maxGradientNorm.map { clipGlobalNorm(trainables, maxNorm: $0) } ?? 0
        policyApproximation.step()
        valueApproximation?.step()
        logStdApproximation?.step()
        return norm
    }

    /// Clears the accumulated gradients without a step (PPO's early stop on the KL).
    public func discardGradients() {
        for trainable in trainables { trainable.zeroGradients() }
    }

    /// Every parameter buffer the losses train.
    public var trainables: [any Trainable] {
        [policy.network] + (valueApproximation.map { [$0.model] } ?? []) + (policy.logStd.map { [$0] } ?? [])
    }

    public func save(to writer: CheckpointWriter) throws {
        try policyApproximation.save(to: writer)
        try valueApproximation?.save(to: writer)
        try logStdApproximation?.save(to: writer)
    }

    public func restore(from reader: CheckpointReader) throws {
        try policyApproximation.restore(from: reader)
        try valueApproximation?.restore(from: reader)
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
