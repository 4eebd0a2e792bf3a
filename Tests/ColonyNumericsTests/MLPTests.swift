import ColonyNumerics
import XCTest

final class MLPTests: XCTestCase {
    private func makeNetwork(seed: UInt64 = 1, sizes: [Int] = [4, 64, 64, 2]) -> MLP {
        var rng = RandomSource(seed: seed)
        return MLP(sizes: sizes, hidden: .tanh, output: .identity, initialization: .orthogonal(gain: Float(2).squareRoot()), rng: &rng)
    }

    func testLayoutIsContiguousAndPyTorchShaped() {
        let net = makeNetwork()
        XCTAssertEqual(net.layerSizes, [4, 64, 64, 2])
        XCTAssertEqual(net.parameterCount, (4 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2))
        XCTAssertEqual(net.parameters.count, net.parameterCount)
        XCTAssertEqual(net.gradients, Array(repeating: 0, count: net.parameterCount))
        var next = 0
        for layer in net.layers {
            XCTAssertEqual(layer.weightRange, next..<(next + layer.inputSize * layer.outputSize))
            XCTAssertEqual(layer.biasRange.lowerBound, layer.weightRange.upperBound)
            XCTAssertEqual(layer.biasRange.count, layer.outputSize)
            next = layer.biasRange.upperBound
        }
        XCTAssertEqual(next, net.parameterCount)
        XCTAssertEqual(net.layers.map(\.activation), [.tanh, .tanh, .identity])
    }

    func testSingleLayerComputesInputTimesWeightTransposePlusBias() {
        var rng = RandomSource(seed: 2)
        let net = MLP(sizes: [3, 2], output: .identity, initialization: .xavierUniform, rng: &rng)
        net.parameters = [1, 2, 3, 4, 5, 6, 10, 20]  // W = [[1, 2, 3], [4, 5, 6]], b = [10, 20]
        let y = net.forward(Tensor(rows: [[1, 0, -1], [2, 1, 0]]))
        XCTAssertEqual(y, Tensor(rows: [[1 - 3 + 10, 4 - 6 + 20], [2 + 2 + 10, 8 + 5 + 20]]))
    }

    func testBackwardAccumulatesUntilZeroed() {
        let net = makeNetwork(sizes: [3, 8, 2])
        var rng = RandomSource(seed: 3)
        let x = Tensor(shape: [5, 3], scalars: rng.normals(15))
        let upstream = Tensor(shape: [5, 2], scalars: rng.normals(10))
        net.forward(x).scalars.forEach { XCTAssertTrue($0.isFinite) }
        let firstInputGradient = net.backward(upstream)
        let once = net.gradients
        XCTAssertTrue(once.contains { $0 != 0 })
        let secondInputGradient = net.backward(upstream)
        XCTAssertEqual(firstInputGradient, secondInputGradient)
        assertApproximatelyEqual(net.gradients, once.map { 2 * $0 })
        net.zeroGradients()
        XCTAssertEqual(net.gradients, Array(repeating: 0, count: net.parameterCount))
    }

    /// Backward through a ReLU layer skips units that are zero for the whole batch. With a third of
    /// the units of each hidden layer dead, it must agree with the dense products dW = dYᵀ·X and
    /// dX = dY·W written with `matmul` (to the bit with OpenBLAS on x86, where MLP skips units only in
    /// products that sum each element in the same order either way; within rounding anywhere).
    /// Layer widths 48 and 40 take both kinds of input gradient (over live units, over all).
    func testReLUBackwardOverLiveUnitsMatchesDenseProducts() {
        var rng = RandomSource(seed: 11)
        let net = MLP(sizes: [5, 48, 40, 36, 3], hidden: .relu, output: .identity, initialization: .torchLinearDefault, rng: &rng)
        for layer in net.layers.dropLast() {
            for unit in stride(from: 0, to: layer.outputSize, by: 3) { net.parameters[layer.biasRange.lowerBound + unit] = -100 }
        }
        let batch = 16
        let x = Tensor(shape: [batch, 5], scalars: rng.normals(batch * 5))
        let upstream = Tensor(shape: [batch, 3], scalars: rng.normals(batch * 3))
        _ = net.forward(x)
        let inputGradient = net.backward(upstream)

        // Dense reference: activations by layer, then the chain rule with matmul.
        func weight(_ layer: LinearLayer) -> Tensor {
            Tensor(shape: [layer.outputSize, layer.inputSize], scalars: Array(net.parameters[layer.weightRange]))
        }
        var activations = [x]
        for layer in net.layers {
            var y = matmul(activations.last!, weight(layer), transposeB: true)
            for row in 0..<batch {
                for unit in 0..<layer.outputSize {
                    let z = net.parameters[layer.biasRange.lowerBound + unit] + y[row, unit]
                    y[row, unit] = layer.activation == .relu && z < 0 ? 0 : z
                }
            }
            activations.append(y)
        }
        var expected = [Float](repeating: 0, count: net.parameterCount)
        var gradient = upstream
        for (index, layer) in net.layers.enumerated().reversed() {
            if layer.activation == .relu {
                for row in 0..<batch {
                    for unit in 0..<layer.outputSize where activations[index + 1][row, unit] <= 0 { gradient[row, unit] = 0 }
                }
            }
            expected.replaceSubrange(layer.weightRange, with: matmul(gradient, activations[index], transposeA: true).scalars)
            for unit in 0..<layer.outputSize {
                var sum: Float = 0
                for row in 0..<batch { sum += gradient[row, unit] }
                expected[layer.biasRange.lowerBound + unit] = sum
            }
            gradient = matmul(gradient, weight(layer))
        }
        let deadRows = net.layers[1].outputSize / 3
        XCTAssertTrue(net.gradients[net.layers[1].weightRange].filter { $0 == 0 }.count >= deadRows * net.layers[1].inputSize, "dead units get no gradient")
        // The reference multiplies in another order (dense matmul); OpenBLAS's kernels round differently by
        // shape and CPU, a few Float ulps on AMD EPYC.
        assertApproximatelyEqual(net.gradients, expected, absolute: 1e-7, relative: 1e-5)
        assertApproximatelyEqual(inputGradient.scalars, gradient.scalars, absolute: 1e-7, relative: 1e-5)
    }

    func testGradientOfBatchEqualsSumOfPerSampleGradients() {
        let net = makeNetwork(sizes: [3, 6, 6, 2])
        var rng = RandomSource(seed: 4)
        let x = Tensor(shape: [4, 3], scalars: rng.normals(12))
        let upstream = Tensor(shape: [4, 2], scalars: rng.normals(8))
        _ = net.forward(x)
        net.backward(upstream)
        let batched = net.gradients
        net.zeroGradients()
        for row in 0..<4 {
            _ = net.forward(x.rows(row..<(row + 1)))
            net.backward(upstream.rows(row..<(row + 1)))
        }
        assertApproximatelyEqual(net.gradients, batched, absolute: 1e-5)
    }

    func testForwardSingleMatchesBatchedForwardAndLeavesTheCacheAlone() {
        let net = makeNetwork()
        var rng = RandomSource(seed: 5)
        let batch = Tensor(shape: [6, 4], scalars: rng.normals(24))
        let upstream = Tensor(shape: [6, 2], scalars: rng.normals(12))
        let batched = net.forward(batch)
        var output = [Float](repeating: 0, count: 2)
        for row in 0..<6 {
            let observation = batch.rows(row..<(row + 1)).scalars
            observation.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { net.forwardSingle(input, into: $0) }
            }
            assertApproximatelyEqual(output, batched.rows(row..<(row + 1)).scalars, absolute: 1e-5, "row \(row)")
        }
        // The single-observation path ran between forward and backward; gradients must not notice.
        let inputGradient = net.backward(upstream)
        let gradients = net.gradients
        net.zeroGradients()
        _ = net.forward(batch)
        XCTAssertEqual(net.backward(upstream), inputGradient)
        XCTAssertEqual(net.gradients, gradients)
    }

    func testChangingBatchSizesReusesTheWorkspaceCorrectly() {
        let net = makeNetwork(sizes: [3, 5, 2])
        var rng = RandomSource(seed: 6)
        let big = Tensor(shape: [7, 3], scalars: rng.normals(21))
        let expected = net.forward(big)
        XCTAssertEqual(net.forward(big.rows(0..<2)), expected.rows(0..<2))
        XCTAssertEqual(net.forward(big.rows(2..<7)), expected.rows(2..<7))
        XCTAssertEqual(net.forward(Tensor(zeros: [0, 3])).shape, [0, 2])
        XCTAssertEqual(net.backward(Tensor(zeros: [0, 2])).shape, [0, 3])
        XCTAssertEqual(net.gradients, Array(repeating: 0, count: net.parameterCount))
    }

    func testSameSeedSameNetworkDifferentSeedDifferentNetwork() {
        XCTAssertEqual(makeNetwork(seed: 42).parameters, makeNetwork(seed: 42).parameters)
        XCTAssertNotEqual(makeNetwork(seed: 42).parameters, makeNetwork(seed: 43).parameters)
        for initialization in [LayerInitialization.xavierUniform, .torchLinearDefault, .orthogonal(gain: 0.5)] {
            var a = RandomSource(seed: 9), b = RandomSource(seed: 9)
            let first = MLP(sizes: [3, 7, 2], initialization: initialization, rng: &a)
            let second = MLP(sizes: [3, 7, 2], initialization: initialization, rng: &b)
            XCTAssertEqual(first.parameters, second.parameters)
            XCTAssertEqual(a, b, "both consumed the same draws")
        }
    }

    func testOutputLayerInitializationIsSeparate() {
        var rng = RandomSource(seed: 7)
        let actor = MLP(
            sizes: [4, 64, 64, 2], initialization: .orthogonal(gain: Float(2).squareRoot()),
            outputInitialization: .orthogonal(gain: 0.01), rng: &rng)
        let head = actor.layers[2], hidden = actor.layers[1]
        let headNorm = actor.parameters[head.weightRange].reduce(0) { $0 + $1 * $1 }
        let hiddenNorm = actor.parameters[hidden.weightRange].reduce(0) { $0 + $1 * $1 }
        // Orthogonal rows: squared Frobenius norm = gain² × min(rows, columns).
        assertApproximatelyEqual(headNorm, 0.0001 * 2, relative: 1e-4)
        assertApproximatelyEqual(hiddenNorm, 2 * 64, relative: 1e-4)
        XCTAssertTrue(actor.parameters[head.biasRange].allSatisfy { $0 == 0 })
    }

    func testCopyHardAndSoftUpdates() {
        let online = makeNetwork(seed: 1, sizes: [3, 4, 2])
        let target = online.copy()
        XCTAssertEqual(target.parameters, online.parameters)
        XCTAssertEqual(target.layers, online.layers)
        let other = makeNetwork(seed: 2, sizes: [3, 4, 2])
        target.copyParameters(from: other)
        XCTAssertEqual(target.parameters, other.parameters)
        XCTAssertNotEqual(online.parameters, other.parameters, "copies are independent")

        let before = target.parameters
        target.softUpdate(from: online, tau: 0.25)
        assertApproximatelyEqual(target.parameters, zip(online.parameters, before).map { 0.25 * $0 + 0.75 * $1 })
        target.softUpdate(from: online, tau: 1)
        XCTAssertEqual(target.parameters, online.parameters)
        target.softUpdate(from: other, tau: 0)
        XCTAssertEqual(target.parameters, online.parameters)
    }

    /// A sanity check that the pieces train together: fit y = sin-like targets with Adam.
    func testAdamReducesRegressionLoss() {
        var rng = RandomSource(seed: 8)
        let net = MLP(sizes: [2, 16, 1], hidden: .tanh, initialization: .xavierUniform, rng: &rng)
        let x = Tensor(shape: [32, 2], scalars: (0..<64).map { _ in rng.uniform(-1, 1) })
        let y = Tensor(shape: [32, 1], scalars: (0..<32).map { x[$0, 0] * x[$0, 1] + 0.5 * x[$0, 0] })
        var adam = Adam()
        func loss() -> Float { (net.forward(x) - y).squared().mean() }
        let initial = loss()
        for _ in 0..<300 {
            net.zeroGradients()
            let prediction = net.forward(x)
            net.backward((prediction - y) * (2 / Float(32)))
            adam.step(net, learningRate: 0.01)
        }
        XCTAssertLessThan(loss(), initial * 0.05)
    }
}
