import ColonyNumerics
import Foundation
import XCTest

/// Each optimizer against a deliberately naive Double reference written from the pseudocode
/// in PyTorch's documentation (torch.optim.Adam / RMSprop / SGD), over several steps with
/// changing gradients and learning rates.
final class OptimizerTests: XCTestCase {
    private let stepCount = 6
    private let size = 9

    /// Gradients of mixed sign and scale, one array per step, and a learning rate per step.
    private func trajectory(seed: UInt64) -> (initial: [Float], gradients: [[Float]], learningRates: [Float]) {
        var rng = RandomSource(seed: seed)
        let initial = rng.normals(size)
        let gradients = (0..<stepCount).map { step in rng.normals(size).map { $0 * Float(step + 1) * 0.3 } }
        let learningRates = (0..<stepCount).map { Float(0.01) * Float($0 + 1) }
        return (initial, gradients, learningRates)
    }

    private func run(_ optimizer: inout some Optimizer, seed: UInt64) -> [Float] {
        let (initial, gradients, learningRates) = trajectory(seed: seed)
        var parameters = initial
        for (g, lr) in zip(gradients, learningRates) { optimizer.step(parameters: &parameters, gradients: g, learningRate: lr) }
        return parameters
    }

    // MARK: Adam

    private func referenceAdam(beta1: Double, beta2: Double, epsilon: Double, seed: UInt64) -> [Float] {
        let (initial, gradients, learningRates) = trajectory(seed: seed)
        var theta = initial.map(Double.init)
        var m = [Double](repeating: 0, count: size), v = m
        for t in 1...stepCount {
            let g = gradients[t - 1].map(Double.init), lr = Double(learningRates[t - 1])
            for i in 0..<size {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(beta1, Double(t)))
                let vHat = v[i] / (1 - pow(beta2, Double(t)))
                theta[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
            }
        }
        return theta.map(Float.init)
    }

    func testAdamMatchesReference() {
        for (beta1, beta2, epsilon) in [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-5), (0.0, 0.99, 1e-3)] {
            var adam = Adam(beta1: Float(beta1), beta2: Float(beta2), epsilon: Float(epsilon))
            assertApproximatelyEqual(
                run(&adam, seed: 1), referenceAdam(beta1: beta1, beta2: beta2, epsilon: epsilon, seed: 1),
                absolute: 1e-6, relative: 1e-5, "β1 \(beta1), β2 \(beta2), ε \(epsilon)")
            XCTAssertEqual(adam.stepCount, stepCount)
        }
    }

    func testAdamFirstStepMovesByTheLearningRate() {
        var adam = Adam()
        var parameters: [Float] = [1, 1, 1]
        adam.step(parameters: &parameters, gradients: [3, -0.001, 0], learningRate: 0.1)
        // m̂ = g and v̂ = g², so each parameter moves by lr · g / (|g| + ε).
        assertApproximatelyEqual(parameters, [0.9, 1.1, 1], relative: 1e-5)
    }

    /// Coordinates whose gradient stops (dead ReLU units) have moments that decay into subnormals
    /// and stick there. Adam flushes them to zero and skips updates that cannot move a parameter, for
    /// speed; the parameters must come out exactly as torch.optim.Adam's arithmetic in Float,
    /// unflushed and unskipped, computes them.
    func testFlushingSubnormalMomentsLeavesParametersBitIdentical() {
        let size = 37, steps = 1500
        var rng = RandomSource(seed: 9)
        var initial = rng.normals(size).map { $0 * 0.1 }
        // Every coordinate gets gradients for a while; the first 32 then get exact zeros for good, so
        // whole 8-lane blocks reach negligible moments. Two of them are parameters so small that even
        // a negligible moment moves them.
        let lastActive = (0..<size).map { $0 >= 32 ? steps : 20 + 9 * $0 }
        initial[3] = 1e-30
        initial[13] = -2e-25
        func gradient(_ step: Int) -> [Float] {
            var local = RandomSource(seed: UInt64(100 + step))
            return (0..<size).map { step < lastActive[$0] ? local.normal() * 1e-3 : 0 }
        }
        let learningRate: Float = 2.3e-3
        var adam = Adam()
        var parameters = initial
        for step in 0..<steps { adam.step(parameters: &parameters, gradients: gradient(step), learningRate: learningRate) }

        // The same per-element Float arithmetic, one coordinate at a time, no flushing.
        var theta = initial, m = [Float](repeating: 0, count: size), v = m
        let (beta1, beta2, epsilon): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        for step in 0..<steps {
            let g = gradient(step), t = Double(step + 1)
            let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
            let root = Float((1 - pow(Double(beta2), t)).squareRoot())
            for i in 0..<size {
                m[i] += (1 - beta1) * (g[i] - m[i])
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                theta[i] -= stepSize * m[i] / (v[i].squareRoot() / root + epsilon)
            }
        }
        XCTAssertTrue(m.contains { $0.isSubnormal }, "the reference's moments must reach subnormals for this test to mean anything")
        XCTAssertEqual(parameters.map(\.bitPattern), theta.map(\.bitPattern))
        XCTAssertFalse(adam.state.buffers["exp_avg"]!.contains { $0.isSubnormal }, "subnormal moments are flushed")
    }

    // MARK: RMSProp

    private func referenceRMSProp(alpha: Double, epsilon: Double, momentum: Double, centered: Bool, seed: UInt64) -> [Float] {
        let (initial, gradients, learningRates) = trajectory(seed: seed)
        var theta = initial.map(Double.init)
        var v = [Double](repeating: 0, count: size), gAverage = v, buffer = v
        for t in 1...stepCount {
            let g = gradients[t - 1].map(Double.init), lr = Double(learningRates[t - 1])
            for i in 0..<size {
                v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i]
                var vTilde = v[i]
                if centered {
                    gAverage[i] = alpha * gAverage[i] + (1 - alpha) * g[i]
                    vTilde -= gAverage[i] * gAverage[i]
                }
                if momentum > 0 {
                    buffer[i] = momentum * buffer[i] + g[i] / (vTilde.squareRoot() + epsilon)
                    theta[i] -= lr * buffer[i]
                } else {
                    theta[i] -= lr * g[i] / (vTilde.squareRoot() + epsilon)
                }
            }
        }
        return theta.map(Float.init)
    }

    func testRMSPropMatchesReference() {
        for centered in [false, true] {
            for momentum in [0.0, 0.9] {
                for (alpha, epsilon) in [(0.99, 1e-8), (0.9, 0.01)] {
                    var rmsProp = RMSProp(alpha: Float(alpha), epsilon: Float(epsilon), momentum: Float(momentum), centered: centered)
                    assertApproximatelyEqual(
                        run(&rmsProp, seed: 2),
                        referenceRMSProp(alpha: alpha, epsilon: epsilon, momentum: momentum, centered: centered, seed: 2),
                        absolute: 1e-5, relative: 1e-5, "centered \(centered), momentum \(momentum), α \(alpha)")
                }
            }
        }
    }

    /// ε outside the square root (PyTorch), not inside (TensorFlow): with v = g² after one step
    /// from α = 0, the update is lr·g/(|g| + ε).
    func testRMSPropEpsilonIsOutsideTheSquareRoot() {
        var rmsProp = RMSProp(alpha: 0, epsilon: 1)
        var parameters: [Float] = [0]
        rmsProp.step(parameters: &parameters, gradients: [3], learningRate: 1)
        XCTAssertEqual(parameters[0], -0.75, accuracy: 1e-6)  // inside would give −3/√10
    }

    // MARK: SGD

    private func referenceSGD(momentum: Double, dampening: Double, nesterov: Bool, seed: UInt64) -> [Float] {
        let (initial, gradients, learningRates) = trajectory(seed: seed)
        var theta = initial.map(Double.init)
        var buffer = [Double](repeating: 0, count: size)
        for t in 1...stepCount {
            var g = gradients[t - 1].map(Double.init)
            let lr = Double(learningRates[t - 1])
            for i in 0..<size {
                if momentum != 0 {
                    buffer[i] = t > 1 ? momentum * buffer[i] + (1 - dampening) * g[i] : g[i]
                    g[i] = nesterov ? g[i] + momentum * buffer[i] : buffer[i]
                }
                theta[i] -= lr * g[i]
            }
        }
        return theta.map(Float.init)
    }

    func testSGDMatchesReference() {
        for (momentum, dampening, nesterov) in [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.0, true), (0.5, 0.3, false)] {
            var sgd = SGD(momentum: Float(momentum), dampening: Float(dampening), nesterov: nesterov)
            assertApproximatelyEqual(
                run(&sgd, seed: 3), referenceSGD(momentum: momentum, dampening: dampening, nesterov: nesterov, seed: 3),
                absolute: 1e-6, relative: 1e-5, "momentum \(momentum), dampening \(dampening), nesterov \(nesterov)")
        }
    }

    // MARK: State

    /// Stepping, exporting, restoring into a fresh optimizer and stepping on must be bit-identical
    /// to never having stopped.
    private func assertResumesExactly<O: Optimizer>(_ make: () -> O, file: StaticString = #filePath, line: UInt = #line) {
        let (initial, gradients, learningRates) = trajectory(seed: 4)
        var uninterrupted = make(), first = make()
        var a = initial, b = initial
        for step in 0..<stepCount {
            uninterrupted.step(parameters: &a, gradients: gradients[step], learningRate: learningRates[step])
        }
        for step in 0..<3 { first.step(parameters: &b, gradients: gradients[step], learningRate: learningRates[step]) }
        var resumed = make()
        XCTAssertNoThrow(try resumed.restore(first.state), file: file, line: line)
        XCTAssertEqual(resumed.state, first.state, file: file, line: line)
        for step in 3..<stepCount { resumed.step(parameters: &b, gradients: gradients[step], learningRate: learningRates[step]) }
        XCTAssertEqual(a, b, file: file, line: line)
        XCTAssertEqual(resumed.state, uninterrupted.state, file: file, line: line)
    }

    func testStateRoundTripsForEveryConfiguration() {
        assertResumesExactly { Adam() }
        assertResumesExactly { RMSProp() }
        assertResumesExactly { RMSProp(momentum: 0.9, centered: true) }
        assertResumesExactly { SGD(momentum: 0.9, nesterov: true) }
        assertResumesExactly { SGD() }
        XCTAssertEqual(Set(Adam().state.buffers.keys), [], "no buffers before the first step")
        var adam = Adam()
        var parameters: [Float] = [1, 2]
        adam.step(parameters: &parameters, gradients: [1, 1], learningRate: 0.1)
        XCTAssertEqual(Set(adam.state.buffers.keys), ["exp_avg", "exp_avg_sq"])
        XCTAssertEqual(adam.state.stepCount, 1)
    }

    func testRestoreRejectsStatesThatDoNotFit() {
        var adam = Adam()
        XCTAssertThrowsError(try adam.restore(OptimizerState(stepCount: 2, buffers: ["exp_avg": [0, 0]]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .missingBuffer("exp_avg_sq"))
        }
        XCTAssertThrowsError(try adam.restore(OptimizerState(stepCount: 2, buffers: ["exp_avg": [0], "exp_avg_sq": [0, 0]]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .mismatchedLengths)
        }
        XCTAssertThrowsError(try adam.restore(OptimizerState(stepCount: -1, buffers: [:]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .negativeStepCount(-1))
        }
        var sgd = SGD()
        XCTAssertThrowsError(try sgd.restore(OptimizerState(stepCount: 1, buffers: ["momentum_buffer": [0]]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .unexpectedBuffer("momentum_buffer"))
        }
        var centered = RMSProp(centered: true)
        XCTAssertThrowsError(try centered.restore(OptimizerState(stepCount: 1, buffers: ["square_avg": [0]]))) {
            XCTAssertEqual($0 as? OptimizerStateError, .missingBuffer("grad_avg"))
        }
        XCTAssertNoThrow(try adam.restore(OptimizerState(stepCount: 0, buffers: [:])))
    }

    func testStepOnTrainableUpdatesInPlace() {
        let vector = ParameterVector([1, 2, 3])
        vector.gradients = [1, 0, -1]
        var sgd = SGD()
        sgd.step(vector, learningRate: 0.5)
        XCTAssertEqual(vector.parameters, [0.5, 2, 3.5])
        vector.zeroGradients()
        XCTAssertEqual(vector.gradients, [0, 0, 0])
    }
}
