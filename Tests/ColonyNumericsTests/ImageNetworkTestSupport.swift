import XCTest
@testable import ColonyNumerics

/// What the convolutional networks' tests share: the definitions evaluated directly in Double, the finite-difference
/// check of every parameter's and input's gradient, and bytes against Floats.
enum ImageNetworkTesting {
    /// One convolution (no activation) of a C × H × W image, from its definition.
    static func convolve(_ c: Convolution2D, _ values: [Double], _ p: [Double]) -> [Double] {
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

    /// Linear layers, ReLU between them and none after the last.
    static func dense(_ layers: [LinearLayer], _ input: [Double], _ p: [Double]) -> [Double] {
        var values = input
        for (index, layer) in layers.enumerated() {
            values = (0..<layer.outputSize).map { unit in
                let sum = p[layer.biasRange.lowerBound + unit]
                    + (0..<layer.inputSize).reduce(0.0) { $0 + p[layer.weightRange.lowerBound + unit * layer.inputSize + $1] * values[$1] }
                return index == layers.count - 1 ? sum : max(0, sum)
            }
        }
        return values
    }

    /// The batch forward of every row against `direct` (the definition in Double), and `forwardSingle` against the batch (to rounding).
    static func checkForward<Net: Network>(_ net: Net, input: Tensor, direct: (ArraySlice<Float>) -> [Double], file: StaticString = #filePath, line: UInt = #line) {
        let output = net.forward(input)
        let (size, outputs) = (net.inputSize, net.outputSize)
        for row in 0..<input.shape[0] {
            let image = input.scalars[(row * size)..<((row + 1) * size)]
            let expected = direct(image)
            for unit in 0..<outputs {
                XCTAssertEqual(Double(output.scalars[row * outputs + unit]), expected[unit], accuracy: 1e-5, "row \(row) unit \(unit)", file: file, line: line)
            }
            var single = [Float](repeating: 0, count: outputs)
            image.withUnsafeBufferPointer { image in single.withUnsafeMutableBufferPointer { net.forwardSingle(image, into: $0) } }
            // To rounding: one row's linear layers are matrix–vector products, a batch's are one matrix product.
            for unit in 0..<outputs {
                XCTAssertEqual(single[unit], output.scalars[row * outputs + unit], accuracy: 1e-6 * max(1, abs(single[unit])),
                               "forwardSingle equals the batch's row \(row), unit \(unit)", file: file, line: line)
            }
        }
    }

    /// Every parameter's and input's gradient of L = Σ weights ⊙ net(input) against central differences; a handful
    /// of mismatches is allowed (a ReLU kink or a max-pool tie inside ±ε makes the difference wrong, not the gradient).
    static func checkGradients<Net: Network>(_ net: Net, input: Tensor, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomSource(seed: seed)
        let weights = Tensor(shape: [input.shape[0], net.outputSize], scalars: (0..<(input.shape[0] * net.outputSize)).map { _ in rng.uniform(-1, 1) })
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
        XCTAssertLessThanOrEqual(mismatched.count, checked / 200, "\(mismatched.count) of \(checked): \(mismatched.prefix(10))", file: file, line: line)
        XCTAssertGreaterThan(net.gradients.filter { $0 != 0 }.count, net.parameterCount / 2, "most parameters get a gradient", file: file, line: line)
        XCTAssertGreaterThan(inputGradient.scalars.filter { $0 != 0 }.count, input.count / 4, "the input gets a gradient", file: file, line: line)
    }

    /// Four random images as bytes give, forward and backward, bit for bit what their values ÷255 as Floats give; and
    /// a twin whose `inputScale` is 1/255 given the bytes' values as Floats agrees too.
    static func checkPixelsMatchFloats<Net: PixelNetwork>(_ net: Net, scaledTwin: Net, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomSource(seed: 3)
        let size = net.inputSize
        let pixels = (0..<(4 * size)).map { _ in UInt8(rng.nextInt(below: 256)) }
        let floats = Tensor(shape: [4, size], scalars: pixels.map { Float($0) * (1 / 255) })
        let twin = net.copy()
        let gradient = Tensor(shape: [4, net.outputSize], scalars: (0..<(4 * net.outputSize)).map { Float($0) / Float(4 * net.outputSize) - 0.5 })
        XCTAssertEqual(net.forward(pixels: pixels, batch: 4), twin.forward(floats), file: file, line: line)
        XCTAssertEqual(net.forward(pixels: pixels, batch: 4), scaledTwin.forward(Tensor(shape: [4, size], scalars: pixels.map(Float.init))), file: file, line: line)
        net.backward(gradient)
        twin.backward(gradient)
        scaledTwin.backward(gradient)
        XCTAssertEqual(net.gradients, twin.gradients, file: file, line: line)
        XCTAssertEqual(net.gradients, scaledTwin.gradients, file: file, line: line)
    }

    /// One backward over `batch` frames (several product groups for a full-size network) adds what one backward per
    /// frame adds, summed.
    static func checkBatchBackwardEqualsFrameByFrame<Net: PixelNetwork>(_ net: Net, batch: Int, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomSource(seed: 9)
        let size = net.inputSize, outputs = net.outputSize
        let pixels = (0..<(batch * size)).map { _ in UInt8(rng.nextInt(below: 256)) }
        let gradient: [Float] = (0..<(batch * outputs)).map { _ in rng.uniform(-1, 1) }
        let twin = net.copy()
        net.zeroGradients()
        _ = net.forward(pixels: pixels, batch: batch)
        net.backward(Tensor(shape: [batch, outputs], scalars: gradient))
        twin.zeroGradients()
        for frame in 0..<batch {
            _ = twin.forward(pixels: Array(pixels[(frame * size)..<((frame + 1) * size)]), batch: 1)
            twin.backward(Tensor(shape: [1, outputs], scalars: Array(gradient[(frame * outputs)..<((frame + 1) * outputs)])))
        }
        let largest = twin.gradients.map(abs).max() ?? 0
        let worst = zip(net.gradients, twin.gradients).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * max(largest, 1), "largest gradient \(largest)", file: file, line: line)
        XCTAssertGreaterThan(largest, 0, file: file, line: line)
    }

    /// A network given channel-last images computes, forward (Floats, bytes, one image) and backward, what its channel-first
    /// twin (same parameters) computes on the same images transposed; its input gradient is the twin's, transposed back.
    static func checkChannelsLastReadsTransposedImages<Net: PixelNetwork>(_ net: Net, channelsFirstTwin twin: Net, file: StaticString = #filePath,
                                                                         line: UInt = #line) {
        let (channels, height, width) = (twin.inputShape[0], twin.inputShape[1], twin.inputShape[2])
        XCTAssertEqual(net.inputShape, [height, width, channels], file: file, line: line)
        XCTAssertEqual(net.parameters, twin.parameters, file: file, line: line)
        var rng = RandomSource(seed: 13)
        let (batch, size) = (3, net.inputSize)
        let pixels = (0..<(batch * size)).map { _ in UInt8(rng.nextInt(below: 256)) }
        // Image b, row y, column x, channel c sits at ((b·H + y)·W + x)·C + c channel last, ((b·C + c)·H + y)·W + x first.
        func channelFirst<T>(_ values: [T]) -> [T] {
            (0..<values.count).map { index in
                let (b, c, y, x) = (index / size, index % size / (height * width), index % (height * width) / width, index % width)
                return values[((b * height + y) * width + x) * channels + c]
            }
        }
        let floats = pixels.map { Float($0) / 255 }
        XCTAssertEqual(net.forward(pixels: pixels, batch: batch), twin.forward(pixels: channelFirst(pixels), batch: batch), file: file, line: line)
        let output = net.forward(Tensor(shape: [batch, size], scalars: floats))
        XCTAssertEqual(output, twin.forward(Tensor(shape: [batch, size], scalars: channelFirst(floats))), file: file, line: line)
        let gradient = Tensor(shape: [batch, net.outputSize], scalars: (0..<(batch * net.outputSize)).map { _ in rng.uniform(-1, 1) })
        net.zeroGradients()
        twin.zeroGradients()
        let inputGradient = net.backward(gradient).scalars, twinInputGradient = twin.backward(gradient).scalars
        XCTAssertEqual(net.gradients, twin.gradients, file: file, line: line)
        XCTAssertEqual(channelFirst(inputGradient), twinInputGradient, file: file, line: line)
        XCTAssertGreaterThan(inputGradient.map(abs).max() ?? 0, 0, file: file, line: line)
        var single = [Float](repeating: 0, count: net.outputSize)
        floats[0..<size].withUnsafeBufferPointer { image in single.withUnsafeMutableBufferPointer { net.forwardSingle(image, into: $0) } }
        for (a, b) in zip(single, output.scalars[0..<net.outputSize]) { XCTAssertEqual(a, b, accuracy: 1e-5, file: file, line: line) }
    }
}
