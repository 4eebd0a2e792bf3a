import ColonyNumerics
import Foundation
import XCTest

/// Every parameter gradient and the input gradient of `MLP.backward`, checked against central
/// finite differences of the loss L = Σ c ⊙ y (so dL/dy = c), twice:
/// - on a Double-precision reference forward written like the math (exact tanh), step 1e-6:
///   tight tolerances, and it also proves the network computes the function it claims;
/// - on the Float network itself, step 1e-3: the usual Float tolerance (abs 1e-3, rel 1e-2).
/// Perturbations that move a ReLU pre-activation across 0 are skipped (the derivative jumps
/// there), and the test asserts that few were.
final class MLPGradientTests: XCTestCase {
    func testTanhHiddenIdentityOutput() {
        verifyGradients(sizes: [3, 5, 4, 2], hidden: .tanh, output: .identity, batch: 4, seed: 1)
        verifyGradients(sizes: [4, 16, 16, 2], hidden: .tanh, output: .identity, batch: 5, seed: 2)
    }

    func testReLUHidden() {
        verifyGradients(sizes: [3, 6, 5, 2], hidden: .relu, output: .identity, batch: 4, seed: 3)
        verifyGradients(sizes: [4, 6, 6, 6, 1], hidden: .relu, output: .relu, batch: 3, seed: 4)
    }

    func testTanhOutputAndBottleneck() {
        verifyGradients(sizes: [2, 7, 3], hidden: .relu, output: .tanh, batch: 5, seed: 5)
        verifyGradients(sizes: [5, 1, 3], hidden: .tanh, output: .tanh, batch: 3, seed: 6)
    }

    func testIdentityEverywhereAndSingleLayer() {
        verifyGradients(sizes: [3, 4, 2], hidden: .identity, output: .identity, batch: 3, seed: 7)
        verifyGradients(sizes: [6, 3], hidden: .tanh, output: .identity, batch: 2, seed: 8)
    }

    private func verifyGradients(sizes: [Int], hidden: Activation, output: Activation, batch: Int, seed: UInt64,
                                 file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomSource(seed: seed)
        let net = MLP(sizes: sizes, hidden: hidden, output: output, initialization: .xavierUniform(gain: 1.5, bias: 0.1), rng: &rng)
        // Random biases, so every bias gradient is exercised away from a special point.
        for layer in net.layers { for index in layer.biasRange { net.parameters[index] = rng.uniform(-0.5, 0.5) } }
        let (inputSize, outputSize) = (sizes[0], sizes[sizes.count - 1])
        let input = rng.normals(batch * inputSize)
        let coefficients = rng.normals(batch * outputSize)
        let parameters = net.parameters

        net.zeroGradients()
        let forwardOutput = net.forward(Tensor(shape: [batch, inputSize], scalars: input))
        let inputGradient = net.backward(Tensor(shape: [batch, outputSize], scalars: coefficients))
        XCTAssertEqual(inputGradient.shape, [batch, inputSize], file: file, line: line)
        let analytic = net.gradients + inputGradient.scalars

        let doubleParameters = parameters.map(Double.init), doubleInput = input.map(Double.init)
        let unperturbed = reference(net.layers, doubleParameters, doubleInput, batch: batch)
        assertApproximatelyEqual(
            forwardOutput.scalars, unperturbed.output.map(Float.init), absolute: 2e-6, relative: 1e-5,
            "forward vs reference \(sizes)", file: file, line: line)

        // Index k < parameterCount perturbs a parameter, otherwise an input element.
        let variableCount = net.parameterCount + input.count
        func referenceLoss(_ k: Int, _ delta: Double) -> Double? {
            var theta = doubleParameters, x = doubleInput
            if k < net.parameterCount { theta[k] += delta } else { x[k - net.parameterCount] += delta }
            let result = reference(net.layers, theta, x, batch: batch)
            guard result.reluSigns == unperturbed.reluSigns else { return nil }
            return zip(result.output, coefficients).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        func networkLoss(_ k: Int, _ delta: Double) -> Double? {
            guard referenceLoss(k, delta) != nil else { return nil }
            var x = input
            if k < net.parameterCount { net.parameters[k] += Float(delta) } else { x[k - net.parameterCount] += Float(delta) }
            defer { net.parameters = parameters }
            let y = net.forward(Tensor(shape: [batch, inputSize], scalars: x)).scalars
            return zip(y, coefficients).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }

        for (name, step, absolute, relative, loss) in [
            ("reference", 1e-6, Float(2e-5), Float(2e-4), referenceLoss),
            ("Float network", 1e-3, Float(1e-3), Float(1e-2), networkLoss),
        ] as [(String, Double, Float, Float, (Int, Double) -> Double?)] {
            var skipped = 0
            for k in 0..<variableCount {
                guard let plus = loss(k, step), let minus = loss(k, -step) else {
                    skipped += 1
                    continue
                }
                let numeric = Float((plus - minus) / (2 * step))
                let what = k < net.parameterCount ? "parameter \(k)" : "input \(k - net.parameterCount)"
                assertApproximatelyEqual(
                    analytic[k], numeric, absolute: absolute, relative: relative,
                    "\(name): \(what) of \(sizes) \(hidden)/\(output)", file: file, line: line)
            }
            XCTAssertLessThanOrEqual(skipped * 10, variableCount, "\(name): too many ReLU kinks skipped", file: file, line: line)
        }
    }

    /// Forward in Double, written like the math: a ← f(W a + b) layer by layer, W out×in.
    private func reference(_ layers: [LinearLayer], _ theta: [Double], _ input: [Double], batch: Int)
        -> (output: [Double], reluSigns: [Bool])
    {
        var activations = input
        var reluSigns: [Bool] = []
        for layer in layers {
            var next = [Double](repeating: 0, count: batch * layer.outputSize)
            for row in 0..<batch {
                for o in 0..<layer.outputSize {
                    var z = theta[layer.biasRange.lowerBound + o]
                    for i in 0..<layer.inputSize {
                        z += theta[layer.weightRange.lowerBound + o * layer.inputSize + i] * activations[row * layer.inputSize + i]
                    }
                    switch layer.activation {
                    case .identity: next[row * layer.outputSize + o] = z
                    case .tanh: next[row * layer.outputSize + o] = Foundation.tanh(z)
                    case .relu:
                        reluSigns.append(z > 0)
                        next[row * layer.outputSize + o] = Swift.max(z, 0)
                    }
                }
            }
            activations = next
        }
        return (activations, reluSigns)
    }
}
