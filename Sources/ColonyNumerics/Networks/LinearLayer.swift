/// Where one linear layer `y = f(x · Wᵀ + b)` lives inside its network's flat buffers.
///
/// The weight is stored out×in, row-major — PyTorch's `nn.Linear.weight` layout — so a slice of
/// `MLP.parameters` is exactly the tensor h5py or PyTorch would show for the same layer.
public struct LinearLayer: Sendable, Equatable {
    public let inputSize: Int
    public let outputSize: Int
    public let activation: Activation
    /// The weight's offsets in `parameters` (and `gradients`): outputSize × inputSize scalars.
    public let weightRange: Range<Int>
    /// The bias's offsets: outputSize scalars, right after the weight.
    public let biasRange: Range<Int>

    init(inputSize: Int, outputSize: Int, activation: Activation, offset: Int) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weightRange = offset..<(offset + inputSize * outputSize)
        biasRange = weightRange.upperBound..<(weightRange.upperBound + outputSize)
    }
}
