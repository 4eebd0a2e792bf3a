import XCTest
@testable import ColonyNumerics

/// The IMPALA ResNet against a direct evaluation in Double of its definition (convolution, max-pool, residual blocks),
/// gradients against finite differences, uint8 pixels against Floats, and the IMPALA network's shapes and PyTorch's
/// parameter count.
final class ResidualNetworkTests: XCTestCase {
    private func network(seed: UInt64 = 1, inputScale: Float = 1, layout: ImageLayout = .channelsFirst) -> ResidualNetwork {
        var rng = RandomSource(seed: seed)
        return ResidualNetwork(inputShape: [2, 9, 8], sections: [.init(channels: 3, blocks: 1), .init(channels: 2, blocks: 2)], hiddenSizes: [5],
                               outputs: 3, initialization: .torchLinearDefault, inputScale: inputScale, layout: layout, rng: &rng)
    }

    private func images(_ count: Int, seed: UInt64 = 2) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor(shape: [count, 144], scalars: (0..<(count * 144)).map { _ in rng.uniform(-1, 1) })
    }

    private func pool(_ m: MaxPool2D, _ values: [Double]) -> [Double] {
        var output: [Double] = []
        for ch in 0..<m.channels {
            for oy in 0..<m.outputHeight {
                for ox in 0..<m.outputWidth {
                    var best = -Double.infinity
                    for i in 0..<m.window {
                        for j in 0..<m.window {
                            let (y, x) = (oy * m.stride - m.padding + i, ox * m.stride - m.padding + j)
                            guard y >= 0, y < m.inputHeight, x >= 0, x < m.inputWidth else { continue }
                            best = max(best, values[(ch * m.inputHeight + y) * m.inputWidth + x])
                        }
                    }
                    output.append(best)
                }
            }
        }
        return output
    }

    /// The network evaluated from its definition, in Double.
    private func direct(_ net: ResidualNetwork, _ image: ArraySlice<Float>) -> [Double] {
        var values = image.map(Double.init)
        let p = net.parameters.map(Double.init)
        let relu = { (x: [Double]) in x.map { max(0, $0) } }
        for stage in net.stages {
            values = pool(stage.pool, ImageNetworkTesting.convolve(stage.entry, values, p))
            for block in stage.blocks {
                let residual = ImageNetworkTesting.convolve(block.second, relu(ImageNetworkTesting.convolve(block.first, relu(values), p)), p)
                values = zip(values, residual).map { $0 + $1 }
            }
        }
        return ImageNetworkTesting.dense(net.dense, relu(values), p)
    }

    func testForwardIsTheNetworkAsDefined() {
        let net = network(), input = images(3)
        XCTAssertEqual(net.stages.map { [$0.pool.channels, $0.pool.outputHeight, $0.pool.outputWidth] }, [[3, 5, 4], [2, 3, 2]])
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

    /// 6 frames through the IMPALA ResNet: its first convolution multiplies one frame at a time, the second section's
    /// residual convolutions 2, so the batch is six groups there and three here.
    func testBatchBackwardInGroupsEqualsFrameByFrame() {
        var rng = RandomSource(seed: 2)
        let net = ResidualNetwork.impala(outputs: 4, initialization: .torchLinearDefault, rng: &rng)
        XCTAssertEqual(net.stages[0].entry.imagesPerProduct(batch: 6), 1)
        XCTAssertEqual(net.stages[1].blocks[0].first.imagesPerProduct(batch: 6), 2)
        ImageNetworkTesting.checkBatchBackwardEqualsFrameByFrame(net, batch: 6)
    }

    func testIMPALANetworkHasPyTorchsShapes() {
        var rng = RandomSource(seed: 1)
        let net = ResidualNetwork.impala(outputs: 6, initialization: .torchLinearDefault, rng: &rng)
        XCTAssertEqual(net.stages.map { [$0.pool.channels, $0.pool.outputHeight, $0.pool.outputWidth] }, [[16, 42, 42], [32, 21, 21], [32, 11, 11]])
        XCTAssertEqual(net.dense.map(\.inputSize), [3872, 256])
        // CleanRL's ConvSequence × (16, 32, 32) on 4×84×84, Linear(3872, 256), Linear(256, 6): sum(p.numel() for p in parameters())
        XCTAssertEqual(net.parameterCount, 1_090_774)
        XCTAssertEqual(net.forward(pixels: [UInt8](repeating: 128, count: 3 * 28_224), batch: 3).shape, [3, 6])
        let copy = net.copy()
        XCTAssertEqual(copy.parameters, net.parameters)
        XCTAssertTrue(copy.gradients.allSatisfy { $0 == 0 })
    }
}
