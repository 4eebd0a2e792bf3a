import XCTest
import ColonyNumerics
import ColonyAgents

final class ValueBasedQNetworkTests: XCTestCase {
    /// L = Σ_ij c_ij · Q_ij, evaluated in Double from forwardSingle rows.
    private func weightedSum(_ network: QNetwork, _ observations: [Float], rows: Int, _ c: [Float]) -> Double {
        var total = 0.0
        var q = [Float](repeating: 0, count: network.actionCount)
        for row in 0..<rows {
            let observation = Array(observations[(row * network.observationSize)..<((row + 1) * network.observationSize)])
            observation.withUnsafeBufferPointer { o in q.withUnsafeMutableBufferPointer { network.forwardSingle(o, into: $0) } }
            for a in 0..<network.actionCount { total += Double(c[row * network.actionCount + a]) * Double(q[a]) }
        }
        return total
    }

    func testDuelingGradientsMatchFiniteDifferences() {
        var rng = RandomSource(seed: 11)
        let network = QNetwork(observationSize: 3, actionCount: 4, hiddenSizes: [6, 5], dueling: true, activation: .tanh, rng: &rng)
        let rows = 5
        let observations = (0..<(rows * 3)).map { _ in rng.normal() }
        let c = (0..<(rows * 4)).map { _ in rng.normal() }

        network.zeroGradients()
        _ = network.forward(Tensor(shape: [rows, 3], scalars: observations))
        let inputGradient = network.backward(Tensor(shape: [rows, 4], scalars: c))
        let analytic = network.gradients

        // Central differences on every parameter (Double accumulation, ε = 1e-2 on float parameters).
        let epsilon: Float = 1e-2
        var numeric = [Float](repeating: 0, count: analytic.count)
        for index in 0..<analytic.count {
            let original = network.parameters[index]
            network.parameters[index] = original + epsilon
            let plus = weightedSum(network, observations, rows: rows, c)
            network.parameters[index] = original - epsilon
            let minus = weightedSum(network, observations, rows: rows, c)
            network.parameters[index] = original
            numeric[index] = Float((plus - minus) / Double(2 * epsilon))
        }
        assertClose(analytic, numeric, absolute: 2e-3, relative: 2e-2, "parameter gradients")

        var numericInput = [Float](repeating: 0, count: observations.count)
        for index in 0..<observations.count {
            var shifted = observations
            shifted[index] += epsilon
            let plus = weightedSum(network, shifted, rows: rows, c)
            shifted[index] -= 2 * epsilon
            let minus = weightedSum(network, shifted, rows: rows, c)
            numericInput[index] = Float((plus - minus) / Double(2 * epsilon))
        }
        assertClose(inputGradient.scalars, numericInput, absolute: 2e-3, relative: 2e-2, "input gradients")
    }

    func testDuelingAggregationSubtractsTheMeanAdvantage() {
        var rng = RandomSource(seed: 5)
        let network = QNetwork(observationSize: 2, actionCount: 3, hiddenSizes: [8], dueling: true, rng: &rng)
        XCTAssertEqual((network.network as? MLP)?.layerSizes, [2, 8, 4], "value and advantage streams share one (1 + |A|)-wide head")
        let observations = (0..<8).map { _ in rng.normal() }
        let q = network.forward(Tensor(shape: [4, 2], scalars: observations))
        let raw = network.network.forward(Tensor(shape: [4, 2], scalars: observations))
        for row in 0..<4 {
            let value = raw[row, 0]
            let advantages = (1...3).map { raw[row, $0] }
            let mean = advantages.reduce(0, +) / 3
            for a in 0..<3 { XCTAssertEqual(q[row, a], value + advantages[a] - mean, accuracy: 1e-5) }
            // The mean over actions of Q is V: the identifiability constraint of the paper.
            XCTAssertEqual((0..<3).map { q[row, $0] }.reduce(0, +) / 3, value, accuracy: 1e-5)
            var single = [Float](repeating: 0, count: 3)
            let observation = Array(observations[(2 * row)..<(2 * row + 2)])
            observation.withUnsafeBufferPointer { o in single.withUnsafeMutableBufferPointer { network.forwardSingle(o, into: $0) } }
            assertClose(single, (0..<3).map { q[row, $0] }, absolute: 1e-5, relative: 1e-5, "forwardSingle row \(row)")
            XCTAssertEqual(observation.withUnsafeBufferPointer { network.greedyAction($0) }, (0..<3).max { q[row, $0] < q[row, $1] }!)
        }
    }

    func testPlainNetworkIsTheMLPAndCopiesAreIndependent() {
        var rng = RandomSource(seed: 9)
        let network = QNetwork(observationSize: 4, actionCount: 2, hiddenSizes: [16, 16], dueling: false, rng: &rng)
        XCTAssertEqual((network.network as? MLP)?.layerSizes, [4, 16, 16, 2])
        let observations = (0..<12).map { _ in rng.normal() }
        let batch = Tensor(shape: [3, 4], scalars: observations)
        XCTAssertEqual(network.forward(batch), network.network.forward(batch))
        var greedy = [Int](repeating: -1, count: 3)
        network.greedyActions(observations, count: 3, into: &greedy)
        let q = network.forward(batch)
        XCTAssertEqual(greedy, (0..<3).map { q[$0, 1] > q[$0, 0] ? 1 : 0 })

        let copy = network.copy()
        XCTAssertEqual(copy.parameters, network.parameters)
        network.parameters[0] += 1
        XCTAssertNotEqual(copy.parameters, network.parameters)
        copy.copyParameters(from: network)
        XCTAssertEqual(copy.parameters, network.parameters)
    }
}
