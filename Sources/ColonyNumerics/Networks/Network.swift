/// What an agent block needs of a network, whatever its architecture (an `MLP` today, a
/// convolutional encoder later): batched forward and backward passes, a single-observation
/// forward for acting, its input and output shapes, and a copy for target networks.
///
/// Like every `Trainable`, a network keeps all its parameters in one flat `parameters` buffer
/// and all its gradients in one flat `gradients` buffer of the same length: checkpoints,
/// parameter publication and A3C's gradient messages send those buffers as they are.
/// Initialisation is the conforming type's construction, not part of the protocol.
public protocol Network: Trainable {
    /// The shape of one input, batch dimension excluded (e.g. [4], or [84, 84, 4] for frames).
    var inputShape: [Int] { get }
    /// The shape of one output, batch dimension excluded.
    var outputShape: [Int] { get }
    /// The length of `parameters` and of `gradients`.
    var parameterCount: Int { get }

    /// Outputs for a batch × inputSize matrix (each row one flattened input); keeps what
    /// `backward` needs.
    func forward(_ input: Tensor) -> Tensor
    /// Adds the parameter gradient of the last `forward` into `gradients` and returns the
    /// gradient with respect to its input; `outputGradient` is batch × outputSize.
    @discardableResult
    func backward(_ outputGradient: Tensor) -> Tensor
    /// The output for one flattened input on the acting path: no batch workspace, no backward cache.
    func forwardSingle(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>)
    /// Same structure and parameters, zero gradients, no shared state: a target network.
    func copy() -> Self
}

extension Network {
    /// Scalars in one flattened input.
    public var inputSize: Int { inputShape.reduce(1, *) }
    /// Scalars in one flattened output.
    public var outputSize: Int { outputShape.reduce(1, *) }
}
