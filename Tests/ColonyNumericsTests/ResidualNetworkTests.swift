import XCTest
@testable import ColonyNumerics

/// The IMPALA ResNet against a direct evaluation in Double of its definition (convolution, max-pool, residual blocks),
/// gradients against finite differences, uint8 pixels against Floats, and the IMPALA network's shapes and PyTorch's
/// parameter count.
final class ResidualNetworkTests: XCTestCase {
    private func network(seed: UInt64 = 1) -> ResidualNetwork {
        var rng = RandomSource(seed: seed)
        return ResidualNetwork(inputShape: [2, 9, 8], sections: [.init(channels: 3, blocks: 1), .init(channels: 2, blocks: 2)], hiddenSizes: [5],
                               outputs: 3, initialization: .torchLinearDefault, rng: &rng)
    }

    private func images(_ count: Int, seed: UInt64 = 2) -> Tensor {
        var rng = RandomSource(seed: seed)
        return Tensor(shape: [count, 144], scalars: (0..<(count * 144)).map { _ in rng.uniform(-1, 1) })
    }

    private func convolve(_ c: Convolution2D, _ values: [Double], _ p: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: c.outputSize)
        for o in 0..<c.outputChannels {
            for oy in 0..<c.outputHeight {
                for ox in 0..<c.outputWidth {
                    var sum = p[c.biasRange.lowerBound + o]
                    for ch in 0..<c.inputChannels {
                        for i in 0..<c.kernel {
                            for j in 0..<c.kernel {
                                let (y, x) = (oy * c.stride - c.padding + i, ox * c.stride - c.padding + j)
                                guard y >= 0, y < c.inputHeight, x >= 0, x < c.inputWidth else { continue }
                                sum += p[c.weightRange.lowerBound + ((o * c.inputChannels + ch) * c.kernel + i) * c.kernel + j]
                                    * values[(ch * c.inputHeight + y) * c.inputWidth + x]
                            }
                        }
                    }
                    output[(o * c.outputHeight + oy) * c.outputWidth + ox] = sum
                }
            }
        }
        return output
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
            values = pool(stage.pool, convolve(stage.entry, values, p))
            for block in stage.blocks {
                let residual = convolve(block.second, relu(convolve(block.first, relu(values), p)), p)
                values = zip(values, residual).map { $0 + $1 }
            }
        }
        values = relu(values)
        for (index, layer) in net.dense.enumerated() {
            values = (0..<layer.outputSize).map { unit in
                let sum = p[layer.biasRange.lowerBound + unit]
                    + (0..<layer.inputSize).reduce(0.0) { $0 + p[layer.weightRange.lowerBound + unit * layer.inputSize + $1] * values[$1] }
                return index == net.dense.count - 1 ? sum : max(0, sum)
            }
        }
        return values
    }

    func testForwardIsTheNetworkAsDefined() {
        let net = network(), input = images(3)
        XCTAssertEqual(net.stages.map { [$0.pool.channels, $0.pool.outputHeight, $0.pool.outputWidth] }, [[3, 5, 4], [2, 3, 2]])
        let output = net.forward(input)
        for row in 0..<3 {
            let expected = direct(net, input.scalars[(row * 144)..<((row + 1) * 144)])
            for unit in 0..<3 { XCTAssertEqual(Double(output.scalars[row * 3 + unit]), expected[unit], accuracy: 1e-5, "row \(row) unit \(unit)") }
            var single = [Float](repeating: 0, count: 3)
            input.scalars[(row * 144)..<((row + 1) * 144)].withUnsafeBufferPointer { image in
                single.withUnsafeMutableBufferPointer { net.forwardSingle(image, into: $0) }
            }
            XCTAssertEqual(single, Array(output.scalars[(row * 3)..<((row + 1) * 3)]), "forwardSingle equals the batch's row")
        }
    }

    func testGradientsMatchFiniteDifferences() {
        let net = network(seed: 5), input = images(2, seed: 6)
        var rng = RandomSource(seed: 7)
        let weights = Tensor(shape: [2, 3], scalars: (0..<6).map { _ in rng.uniform(-1, 1) })
        func loss(_ parameters: [Float], _ input: Tensor) -> Double {
            let probe = net.copy()
            probe.parameters = parameters
            return zip(probe.forward(input).scalars, weights.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        net.zeroGradients()
        _ = net.forward(input)
        let inputGradient = net.backward(weights)
        let epsilon: Float = 1e-3
        var checked = 0, mismatched: [String] = []
        func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
            checked += 1
            if abs(Double(analytic) - numeric) > 1e-2 * max(abs(numeric), abs(Double(analytic))) + 2e-3 { mismatched.append("\(what): \(analytic) vs \(numeric)") }
        }
        for index in 0..<net.parameterCount {
            var plus = net.parameters, minus = net.parameters
            plus[index] += epsilon
            minus[index] -= epsilon
            compare(net.gradients[index], (loss(plus, input) - loss(minus, input)) / (2 * Double(epsilon)), "parameter \(index)")
        }
        for index in 0..<input.count {
            var plus = input.scalars, minus = input.scalars
            plus[index] += epsilon
            minus[index] -= epsilon
            compare(inputGradient.scalars[index], (loss(net.parameters, Tensor(shape: input.shape, scalars: plus))
                - loss(net.parameters, Tensor(shape: input.shape, scalars: minus))) / (2 * Double(epsilon)), "input \(index)")
        }
        // A ReLU's kink or a max-pool's tie inside ±ε makes a finite difference wrong, not the gradient: allow a handful.
        XCTAssertLessThanOrEqual(mismatched.count, checked / 200, "\(mismatched.count) of \(checked): \(mismatched.prefix(10))")
        XCTAssertGreaterThan(net.gradients.filter { $0 != 0 }.count, net.parameterCount / 2, "most parameters get a gradient")
        XCTAssertGreaterThan(inputGradient.scalars.filter { $0 != 0 }.count, input.count / 4, "the input gets a gradient through pools and skips")
    }

    func testPixelsReadAsTheirFloatValueOver255() {
        var rng = RandomSource(seed: 3)
        let pixels = (0..<(4 * 144)).map { _ in UInt8(rng.nextInt(below: 256)) }
        let floats = Tensor(shape: [4, 144], scalars: pixels.map { Float($0) * (1 / 255) })
        let net = network(), twin = net.copy()
        let gradient = Tensor(shape: [4, 3], scalars: (0..<12).map { Float($0) / 12 - 0.5 })
        XCTAssertEqual(net.forward(pixels: pixels, batch: 4), twin.forward(floats))
        net.backward(gradient)
        twin.backward(gradient)
        XCTAssertEqual(net.gradients, twin.gradients)
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
