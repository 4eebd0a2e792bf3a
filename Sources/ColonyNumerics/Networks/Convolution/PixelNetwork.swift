/// A network over images that also reads uint8 pixels directly (each ÷255 as its first layer reads it), so frames stay
/// bytes until they enter it: the Nature-DQN CNN and the IMPALA ResNet.
public protocol PixelNetwork: Network {
    /// Outputs for `batch` uint8 images (`inputSize` bytes each, channel first); keeps what `backward` needs.
    func forward(pixels: [UInt8], batch: Int) -> Tensor
}

extension ConvolutionalNetwork: PixelNetwork {}
extension ResidualNetwork: PixelNetwork {}
