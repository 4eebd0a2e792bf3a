import ColonyNumerics

/// Q(s, ·) over a discrete action space: an MLP, optionally with dueling streams
/// (Wang et al., 2016, "Dueling Network Architectures for Deep RL").
///
/// - Plain: `Q(s, ·) = MLP(s)`, the last layer |A| wide.
/// - Dueling: the torso (every hidden layer) feeds a linear value stream V(s) and a linear advantage
///   stream A(s, ·), combined with the paper's mean-subtracted aggregation (its eq. 9):
///
///       Q(s, a) = V(s) + A(s, a) − (1/|A|) Σ_a′ A(s, a′)
///
///   Both streams are rows of one (1 + |A|)-wide output layer of `network` — row 0 is V, rows 1…|A|
///   are A — so the whole Q-network stays one flat parameter buffer (one optimizer, one checkpoint
///   entry, one message to actors). The aggregation is a fixed linear map; `backward` applies its
///   exact adjoint: ∂L/∂V = Σ_a ∂L/∂Q_a and ∂L/∂A_a = ∂L/∂Q_a − (1/|A|) Σ_a′ ∂L/∂Q_a′.
///
/// Like `MLP`, one owner at a time: `forward` caches what `backward` needs, and the batched acting
/// path (`greedyActions` with more than one row) goes through `forward` too, so do not act between a
/// learning forward and its backward. `greedyAction` (one row) uses the allocation-free
/// `forwardSingle` and leaves the cache alone. DQN and Ape-X use it; tabular agents do not.
public final class QNetwork: Trainable {
    /// The torso and the output layer: |A| outputs, or 1 + |A| (V, then A) when dueling.
    public let network: any Network
    public let actionCount: Int
    public let dueling: Bool

    public var observationSize: Int { network.inputSize }

    /// Forwarded to `network` in place (`_modify`), so optimizer steps never copy the buffer.
    public var parameters: [Float] {
        get { network.parameters }
        _modify { yield &network.parameters }
        set { network.parameters = newValue }
    }

    public var gradients: [Float] {
        get { network.gradients }
        _modify { yield &network.gradients }
        set { network.gradients = newValue }
    }

    /// The raw (V, A) outputs of one observation for `forwardSingle` when dueling.
    private let singleScratch: UnsafeMutablePointer<Float>
    /// Q-values of one observation for `greedyAction`.
    private let greedyScratch: UnsafeMutablePointer<Float>

    /// A freshly initialised Q-network: `hiddenSizes` layers with `activation`, PyTorch's default
    /// `nn.Linear` initialisation unless told otherwise (what SB3's and CleanRL's DQN use).
    public convenience init(
        observationSize: Int, actionCount: Int, hiddenSizes: [Int], dueling: Bool, activation: Activation = .relu,
        initialization: LayerInitialization = .torchLinearDefault, rng: inout RandomSource
    ) {
        precondition(actionCount >= 1, "QNetwork needs at least one action")
        precondition(!dueling || !hiddenSizes.isEmpty, "a dueling QNetwork needs at least one hidden layer for its torso")
        let outputs = dueling ? 1 + actionCount : actionCount
        let network = MLP(
            sizes: [observationSize] + hiddenSizes + [outputs], hidden: activation, output: .identity,
            initialization: initialization, rng: &rng)
        self.init(network: network, actionCount: actionCount, dueling: dueling)
    }

    /// A Q-network over any network whose outputs are |A| Q-values, or 1 + |A| (V, then A) when dueling: a
    /// convolutional encoder, say.
    public init(network: any Network, actionCount: Int, dueling: Bool) {
        precondition(network.outputSize == (dueling ? 1 + actionCount : actionCount), "QNetwork: output layer does not fit \(actionCount) actions")
        self.network = network
        self.actionCount = actionCount
        self.dueling = dueling
        singleScratch = UnsafeMutablePointer.allocate(capacity: network.outputSize)
        greedyScratch = UnsafeMutablePointer.allocate(capacity: actionCount)
    }

    deinit {
        singleScratch.deallocate()
        greedyScratch.deallocate()
    }

    /// The same structure and parameters, zero gradients: a target network.
    public func copy() -> QNetwork { QNetwork(network: network.copy(), actionCount: actionCount, dueling: dueling) }

    /// Q-values, batch × |A|, for a batch × observationSize matrix; keeps what `backward` needs.
    /// O(batch · parameters).
    public func forward(_ observations: Tensor) -> Tensor {
        let output = network.forward(observations)
        guard dueling else { return output }
        let rows = output.shape[0], width = actionCount + 1
        var q = [Float](repeating: 0, count: rows * actionCount)
        output.scalars.withUnsafeBufferPointer { raw in
            q.withUnsafeMutableBufferPointer { q in
                for row in 0..<rows {
                    Self.aggregate(raw.baseAddress! + row * width, into: q.baseAddress! + row * actionCount, actionCount: actionCount)
                }
            }
        }
        return Tensor(shape: [rows, actionCount], scalars: q)
    }

    /// Given ∂L/∂Q (batch × |A|) for the last `forward`, adds ∂L/∂θ into `gradients` and returns
    /// ∂L/∂observations. The dueling aggregation's adjoint is applied exactly.
    @discardableResult
    public func backward(_ qGradient: Tensor) -> Tensor {
        guard dueling else { return network.backward(qGradient) }
        precondition(qGradient.rank == 2 && qGradient.shape[1] == actionCount, "QNetwork.backward: expected batch × \(actionCount), got \(qGradient.shape)")
        let rows = qGradient.shape[0], width = actionCount + 1
        var raw = [Float](repeating: 0, count: rows * width)
        qGradient.scalars.withUnsafeBufferPointer { dq in
            raw.withUnsafeMutableBufferPointer { draw in
                for row in 0..<rows {
                    let dQ = dq.baseAddress! + row * actionCount, dOut = draw.baseAddress! + row * width
                    var sum: Float = 0
                    for a in 0..<actionCount { sum += dQ[a] }
                    let mean = sum / Float(actionCount)
                    dOut[0] = sum                                                    // ∂L/∂V
                    for a in 0..<actionCount { dOut[1 + a] = dQ[a] - mean }          // ∂L/∂A_a
                }
            }
        }
        return network.backward(Tensor(shape: [rows, width], scalars: raw))
    }

    /// Q-values of one observation into `output` (|A| values), allocation-free; does not touch the
    /// backward cache. O(parameters).
    public func forwardSingle(_ observation: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count == actionCount, "QNetwork.forwardSingle: expected \(actionCount) outputs")
        guard dueling else { return network.forwardSingle(observation, into: output) }
        network.forwardSingle(observation, into: UnsafeMutableBufferPointer(start: singleScratch, count: actionCount + 1))
        Self.aggregate(singleScratch, into: output.baseAddress!, actionCount: actionCount)
    }

    /// argmax_a Q(s, a) of one observation (the lowest index on ties), allocation-free.
    public func greedyAction(_ observation: UnsafeBufferPointer<Float>) -> Int {
        forwardSingle(observation, into: UnsafeMutableBufferPointer(start: greedyScratch, count: actionCount))
        return Self.argmax(greedyScratch, count: actionCount)
    }

    /// argmax_a Q(s, a) for `count` row-major observations into `actions[0..<count]`: one batched
    /// forward, or `forwardSingle` for one row.
    public func greedyActions(_ observations: [Float], count: Int, into actions: inout [Int]) {
        precondition(observations.count == count * observationSize && actions.count >= count, "QNetwork.greedyActions: sizes do not match")
        if count == 1 {
            actions[0] = observations.withUnsafeBufferPointer { greedyAction($0) }
            return
        }
        let q = forward(Tensor(shape: [count, observationSize], scalars: observations))
        q.scalars.withUnsafeBufferPointer { q in
            for row in 0..<count { actions[row] = Self.argmax(q.baseAddress! + row * actionCount, count: actionCount) }
        }
    }

    /// Index of the largest of `count` values; the first one on ties.
    @inline(__always)
    public static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        var bestValue = values[0]
        for index in 1..<max(count, 1) where values[index] > bestValue {
            best = index
            bestValue = values[index]
        }
        return best
    }

    /// Q_a = V + A_a − mean(A) from raw = [V, A_0, …, A_{n−1}].
    @inline(__always)
    private static func aggregate(_ raw: UnsafePointer<Float>, into q: UnsafeMutablePointer<Float>, actionCount: Int) {
        var sum: Float = 0
        for a in 0..<actionCount { sum += raw[1 + a] }
        let baseline = raw[0] - sum / Float(actionCount)
        for a in 0..<actionCount { q[a] = raw[1 + a] + baseline }
    }
}

extension QNetwork: LayerStackShaped {
    /// The MLP's layers (the dueling streams are rows of its output layer).
    public var layerStack: [LinearLayer]? { (network as? any LayerStackShaped)?.layerStack }
}
