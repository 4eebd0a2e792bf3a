import XCTest
@testable import ColonyNumerics

/// Convolutions against a direct (six nested loops) evaluation in Double, gradients against finite differences, the
/// uint8 path against the Float one, and the Nature-DQN network's shapes against PyTorch's.
final class ConvolutionalNetworkTests: XCTestCase {
    private let layers = [ConvolutionalNetwork.Layer(channels: 3, kernel: 3, stride: 2, padding: 1), ConvolutionalNetwork.Layer(channels: 4, kernel: 2)]

    private func network(seed: UInt64 = 1, inputScale: Float = 1, layout: ImageLayout = .channelsFirst) -> ConvolutionalNetwork {
        var rng = RandomSource(seed: seed)
        return ConvolutionalNetwork(inputShape: [2, 9, 8], layers: layers, hiddenSizes: [5], outputs: 3, initialization: .torchLinearDefault,
                                    inputScale: inputScale, layout: layout, rng: &rng)
    }

    private func images(_ count: Int, seed: UInt64 = 2) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor(shape: [count, 2 * 9 * 8], scalars: (0..<(count * 144)).map { _ in rng.uniform(-1, 1) })
    }

    /// The network evaluated directly from its definition, in Double.
    private func direct(_ net: ConvolutionalNetwork, _ image: ArraySlice<Float>) -> [Double] {
        var values = image.map(Double.init)
        let p = net.parameters.map(Double.init)
        for c in net.convolutions { values = ImageNetworkTesting.convolve(c, values, p).map { max(0, $0) } }
        return ImageNetworkTesting.dense(net.dense, values, p)
    }

    func testForwardIsTheConvolutionAsDefined() {
        let net = network(), input = images(3)
        XCTAssertEqual(net.convolutions.map { [$0.outputHeight, $0.outputWidth] }, [[5, 4], [4, 3]])
        ImageNetworkTesting.checkForward(net, input: input) { direct(net, $0) }
    }

    func testGradientsMatchFiniteDifferences() {
        ImageNetworkTesting.checkGradients(network(seed: 5), input: images(2, seed: 6), seed: 7)
    }

    func testChannelLastImagesAreReadTransposed() {
        ImageNetworkTesting.checkChannelsLastReadsTransposedImages(network(layout: .channelsLast), channelsFirstTwin: network())
        ImageNetworkTesting.checkGradients(network(seed: 5, layout: .channelsLast), input: images(2, seed: 6), seed: 7)
    }

    func testPixelsReadAsTheirFloatValueOver255() {
        ImageNetworkTesting.checkPixelsMatchFloats(network(), scaledTwin: network(inputScale: 1 / 255))
    }

    /// 12 frames through the Nature CNN: its first layer multiplies 2 frames at a time, so the batch is six groups.
    func testBatchBackwardInGroupsEqualsFrameByFrame() {
        var rng = RandomSource(seed: 2)
        let net = ConvolutionalNetwork.natureDQN(outputs: 4, initialization: .torchLinearDefault, rng: &rng)
        XCTAssertEqual(net.convolutions[0].imagesPerProduct(batch: 12), 2)
        ImageNetworkTesting.checkBatchBackwardEqualsFrameByFrame(net, batch: 12)
    }

    func testNatureDQNHasPyTorchsShapes() {
        var rng = RandomSource(seed: 1)
        let net = ConvolutionalNetwork.natureDQN(outputs: 6, initialization: .orthogonal(gain: Float(2).squareRoot()), rng: &rng)
        XCTAssertEqual(net.convolutions.map { [$0.outputChannels, $0.outputHeight, $0.outputWidth] }, [[32, 20, 20], [64, 9, 9], [64, 7, 7]])
        XCTAssertEqual(net.dense.map(\.inputSize), [3136, 512])
        // sum(p.numel() for p in nn.Sequential(Conv2d(4,32,8,4), Conv2d(32,64,4,2), Conv2d(64,64,3,1), Linear(3136,512), Linear(512,6)).parameters())
        XCTAssertEqual(net.parameterCount, 1_687_206)
        XCTAssertEqual(net.forward(pixels: [UInt8](repeating: 128, count: 2 * 28_224), batch: 2).shape, [2, 6])
        let copy = net.copy()
        XCTAssertEqual(copy.parameters, net.parameters)
        XCTAssertTrue(copy.gradients.allSatisfy { $0 == 0 })
    }
}
