/// How a linear layer's weight and bias start. Scale matters for RL: CleanRL's PPO uses
/// orthogonal √2 for hidden layers, 0.01 for the policy head and 1 for the value head; DQN and
/// SAC reference code keep PyTorch's default.
public struct LayerInitialization: Sendable, Equatable {
    enum Scheme: Sendable, Equatable {
        case orthogonal(gain: Float)
        case xavierUniform(gain: Float)
        case torchLinearDefault
        case stacked([RowBlock])
    }

    /// Rows of a weight (and their biases) that one scheme fills, in `stacked`.
    struct RowBlock: Sendable, Equatable {
        let rows: Int
        let initialization: LayerInitialization
    }

    let scheme: Scheme
    /// The constant bias, for the schemes that use one.
    let bias: Float

    /// torch.nn.init.orthogonal_: rows (or columns, for tall weights) orthonormal, times `gain`.
    public static func orthogonal(gain: Float = 1, bias: Float = 0) -> LayerInitialization {
        LayerInitialization(scheme: .orthogonal(gain: gain), bias: bias)
    }

    /// torch.nn.init.xavier_uniform_: U(−a, a), a = gain·√(6 / (fanIn + fanOut)); bias constant.
    public static func xavierUniform(gain: Float, bias: Float = 0) -> LayerInitialization {
        LayerInitialization(scheme: .xavierUniform(gain: gain), bias: bias)
    }

    /// Xavier uniform with gain 1 and zero bias.
    public static let xavierUniform = xavierUniform(gain: 1)

    /// What a fresh `torch.nn.Linear` holds: weight and bias both U(−1/√fanIn, 1/√fanIn).
    public static let torchLinearDefault = LayerInitialization(scheme: .torchLinearDefault, bias: 0)

    /// Output rows initialised block by block, each as its own layer: one layer that computes what several
    /// stacked layers would (CleanRL's Atari actor, orthogonal 0.01, and critic, orthogonal 1, over one trunk).
    public static func stacked(_ blocks: [(rows: Int, initialization: LayerInitialization)]) -> LayerInitialization {
        LayerInitialization(scheme: .stacked(blocks.map { RowBlock(rows: $0.rows, initialization: $0.initialization) }), bias: 0)
    }

    /// Fills a fanOut×fanIn weight, then its bias, drawing from `rng` in that order.
    func initialize(
        weight: UnsafeMutableBufferPointer<Float>, bias biasValues: UnsafeMutableBufferPointer<Float>,
        fanIn: Int, fanOut: Int, rng: inout RandomSource
    ) {
        precondition(weight.count == fanIn * fanOut && biasValues.count == fanOut, "initialize: buffer sizes do not match \(fanOut)×\(fanIn)")
        switch scheme {
        case .orthogonal(let gain):
            let matrix = LayerInitialization.orthogonalMatrix(rows: fanOut, columns: fanIn, gain: gain, rng: &rng)
            for index in weight.indices { weight[index] = matrix[index] }
            biasValues.initialize(repeating: bias)
        case .xavierUniform(let gain):
            let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
            for index in weight.indices { weight[index] = rng.uniform(-bound, bound) }
            biasValues.initialize(repeating: bias)
        case .torchLinearDefault:
            let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
            for index in weight.indices { weight[index] = rng.uniform(-bound, bound) }
            for index in biasValues.indices { biasValues[index] = rng.uniform(-bound, bound) }
        case .stacked(let blocks):
            precondition(blocks.reduce(0) { $0 + $1.rows } == fanOut, "initialize: stacked blocks of \(blocks.map(\.rows)) rows for \(fanOut) outputs")
            var row = 0
            for block in blocks {
                block.initialization.initialize(
                    weight: UnsafeMutableBufferPointer(rebasing: weight[(row * fanIn)..<((row + block.rows) * fanIn)]),
                    bias: UnsafeMutableBufferPointer(rebasing: biasValues[row..<(row + block.rows)]),
                    fanIn: fanIn, fanOut: block.rows, rng: &rng)
                row += block.rows
            }
        }
    }
}

/// Where one layer's weight and bias live in a network's flat buffer, with the fans its initialization uses.
struct LayerSlot {
    let weight: Range<Int>, bias: Range<Int>, fanIn: Int, fanOut: Int

    init(_ convolution: Convolution2D) {
        (weight, bias, fanIn, fanOut) = (convolution.weightRange, convolution.biasRange, convolution.patchSize, convolution.outputChannels)
    }

    init(_ layer: LinearLayer) {
        (weight, bias, fanIn, fanOut) = (layer.weightRange, layer.biasRange, layer.inputSize, layer.outputSize)
    }

    /// Draws every slot's weight then bias from `rng`, in order: `initialization` for all but the last slot, which
    /// gets `outputInitialization` (default: the same).
    static func initialize(_ slots: [LayerSlot], in parameters: inout [Float], initialization: LayerInitialization,
                           outputInitialization: LayerInitialization?, rng: inout RandomSource) {
        parameters.withUnsafeMutableBufferPointer { buffer in
            for (index, slot) in slots.enumerated() {
                let scheme = index == slots.count - 1 ? (outputInitialization ?? initialization) : initialization
                scheme.initialize(weight: UnsafeMutableBufferPointer(rebasing: buffer[slot.weight]), bias: UnsafeMutableBufferPointer(rebasing: buffer[slot.bias]),
                                  fanIn: slot.fanIn, fanOut: slot.fanOut, rng: &rng)
            }
        }
    }
}
