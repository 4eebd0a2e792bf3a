import XCTest
import ColonyNumerics
import ColonyAgents

final class ValueBasedDQNLearnerTests: XCTestCase {
    private let observationSize = 3, actionCount = 4

    private func makeLearner(doubleQ: Bool, dueling: Bool = false, loss: DQNLearner.Loss = .huber, optimizer: any Optimizer = Adam(), seed: UInt64 = 1) -> DQNLearner {
        var rng = RandomSource(seed: seed)
        let online = QNetwork(observationSize: observationSize, actionCount: actionCount, hiddenSizes: [16, 16], dueling: dueling, activation: .tanh, rng: &rng)
        let learner = DQNLearner(online: online, optimizer: optimizer, learningRate: .constant(1), maxGradientNorm: nil, doubleQ: doubleQ, loss: loss)
        // A target that differs from the online network, so that double Q and max Q disagree.
        learner.target.parameters = learner.target.parameters.map { $0 + 0.3 * rng.normal() }
        return learner
    }

    private func randomBatch(rows: Int, seed: UInt64, weighted: Bool = false) -> TransitionBatch {
        var rng = RandomSource(seed: seed)
        var batch = TransitionBatch(count: rows, observationSize: observationSize, actionSize: 1)
        batch.observations = (0..<(rows * observationSize)).map { _ in rng.normal() }
        batch.nextObservations = (0..<(rows * observationSize)).map { _ in rng.normal() }
        batch.actions = (0..<rows).map { _ in Float(rng.nextInt(below: actionCount)) }
        // Large rewards put some |δ| beyond the Huber threshold.
        batch.rewards = (0..<rows).map { _ in 3 * rng.normal() }
        batch.discounts = (0..<rows).map { row in row % 3 == 0 ? 0 : (row % 3 == 1 ? 0.99 : 0.970299) }
        if weighted { batch.weights = (0..<rows).map { _ in 0.2 + 0.8 * rng.nextFloat() } }
        return batch
    }

    private func qValues(_ network: QNetwork, _ observations: [Float], row: Int) -> [Float] {
        var q = [Float](repeating: 0, count: actionCount)
        let observation = Array(observations[(row * observationSize)..<((row + 1) * observationSize)])
        observation.withUnsafeBufferPointer { o in q.withUnsafeMutableBufferPointer { network.forwardSingle(o, into: $0) } }
        return q
    }

    private func argmax(_ values: [Float]) -> Int { values.indices.max { values[$0] < values[$1] || (values[$0] == values[$1] && $0 > $1) }! }

    /// y = r + discount · Q_target(s′, argmax Q_{online or target}(s′)), one row at a time.
    private func naiveTargets(_ learner: DQNLearner, _ batch: TransitionBatch, doubleQ: Bool) -> [Float] {
        (0..<batch.count).map { row in
            let targetQ = qValues(learner.target, batch.nextObservations, row: row)
            let selector = doubleQ ? qValues(learner.online, batch.nextObservations, row: row) : targetQ
            return batch.rewards[row] + batch.discounts[row] * targetQ[argmax(selector)]
        }
    }

    func testVanillaAndDoubleTargetsMatchNaiveReferences() {
        for doubleQ in [false, true] {
            for dueling in [false, true] {
                let learner = makeLearner(doubleQ: doubleQ, dueling: dueling)
                let batch = randomBatch(rows: 32, seed: 3)
                let expected = naiveTargets(learner, batch, doubleQ: doubleQ)
                assertClose(learner.targets(for: batch), expected, absolute: 1e-5, relative: 1e-5, "double \(doubleQ), dueling \(dueling)")
                if doubleQ {
                    // The reference really differs from the max over the target net on this batch.
                    let maxTargets = naiveTargets(learner, batch, doubleQ: false)
                    XCTAssertTrue(zip(expected, maxTargets).contains { abs($0 - $1) > 1e-3 }, "double Q must pick other actions somewhere")
                    XCTAssertTrue(zip(expected, maxTargets).allSatisfy { $0 <= $1 + 1e-5 }, "double Q never exceeds the max target")
                }
            }
        }
    }

    /// DQN computes a round's bootstrap values once per distinct transition, in batches arranged
    /// differently from the minibatches that use them: a row's value must not depend on its batch, and
    /// learning with the values given must be the same step as computing them.
    func testSharedBootstrapValuesGiveTheSameStep() {
        let batch = randomBatch(rows: 32, seed: 5)
        let first = makeLearner(doubleQ: false), second = makeLearner(doubleQ: false)
        let values = first.bootstrapValues(for: batch)
        // The same transitions reversed, then padded with repeats: the values follow their rows.
        var rearranged = TransitionBatch(count: 48, observationSize: observationSize, actionSize: 1)
        let order = (0..<32).reversed() + Array(repeating: 0, count: 16)
        rearranged.nextObservations = order.flatMap { batch.nextObservations[($0 * observationSize)..<(($0 + 1) * observationSize)] }
        let rearrangedValues = second.bootstrapValues(for: rearranged)
        // Equal to rounding: OpenBLAS picks its kernels by row count, and on some CPUs (AMD EPYC here) a
        // 48-row product rounds a few rows 1 ulp away from the 32-row one.
        assertClose((0..<32).map { rearrangedValues[31 - $0] }, values, absolute: 0, relative: 1e-6)

        let computed = first.learn(from: batch)
        let given = second.learn(from: batch, bootstrapValues: values)
        XCTAssertEqual(given.tdErrors, computed.tdErrors)
        XCTAssertEqual(given.loss, computed.loss)
        XCTAssertEqual(second.online.parameters, first.online.parameters)
    }

    /// With plain SGD at learning rate 1 and no clipping, θ_before − θ_after is the gradient of the
    /// loss; check it, the TD errors and the loss against a naive weighted-Huber / MSE loss.
    func testLearnStepFollowsTheWeightedLossGradient() {
        for loss in DQNLearner.Loss.allCases {
            let learner = makeLearner(doubleQ: true, dueling: true, loss: loss, optimizer: SGD())
            let batch = randomBatch(rows: 16, seed: 8, weighted: true)
            let y = naiveTargets(learner, batch, doubleQ: true)
            let actions = batch.discreteActions

            func naiveLoss() -> (loss: Double, errors: [Float]) {
                var total = 0.0
                var errors: [Float] = []
                for row in 0..<batch.count {
                    let delta = Double(y[row]) - Double(qValues(learner.online, batch.observations, row: row)[actions[row]])
                    errors.append(Float(delta))
                    let perRow = loss == .huber ? (abs(delta) < 1 ? 0.5 * delta * delta : abs(delta) - 0.5) : delta * delta
                    total += Double(batch.weights[row]) * perRow
                }
                return (total / Double(batch.count), errors)
            }
            let (expectedLoss, expectedErrors) = naiveLoss()
            XCTAssertTrue(expectedErrors.contains { abs($0) > 1 } && expectedErrors.contains { abs($0) < 1 }, "both Huber branches are exercised")

            // Finite differences of the naive loss (targets held fixed, as in the algorithm).
            let before = learner.online.parameters
            var rng = RandomSource(seed: 4)
            let probes = (0..<40).map { _ in rng.nextInt(below: before.count) }
            var numeric: [Float] = []
            for index in probes {
                learner.online.parameters[index] = before[index] + 1e-2
                let plus = naiveLoss().loss
                learner.online.parameters[index] = before[index] - 1e-2
                let minus = naiveLoss().loss
                learner.online.parameters[index] = before[index]
                numeric.append(Float((plus - minus) / 2e-2))
            }

            let step = learner.learn(from: batch)
            XCTAssertEqual(step.loss, expectedLoss, accuracy: 1e-4 * max(1, expectedLoss), "\(loss)")
            assertClose(step.tdErrors, expectedErrors, absolute: 1e-4, relative: 1e-4, "\(loss) TD errors")
            let analytic = probes.map { before[$0] - learner.online.parameters[$0] }
            assertClose(analytic, numeric, absolute: 2e-4, relative: 3e-2, "\(loss) gradient")
            XCTAssertTrue(learner.online.gradients.allSatisfy { $0 == 0 }, "gradients are cleared after the step")
        }
    }

    /// Prioritized replay: after learning from a sampled batch, the sampled transitions' priorities
    /// are (|δ| + ε)^α of the TD errors the learner computed, which are y − Q(s, a) before the update.
    func testPrioritiesFollowTheTDErrors() throws {
        let learner = makeLearner(doubleQ: false)
        let options = PrioritizedReplayOptions(alpha: 0.6, epsilon: 1e-3)
        let replay = ReplayBuffer(capacity: 64, observationSize: observationSize, actionSize: 1, prioritized: options)
        let source = randomBatch(rows: 50, seed: 21)
        for row in 0..<50 {
            replay.add(
                observation: source.observations[(row * 3)..<(row * 3 + 3)], action: source.actions[row..<(row + 1)],
                reward: source.rewards[row], nextObservation: source.nextObservations[(row * 3)..<(row * 3 + 3)],
                discount: source.discounts[row])
        }
        var rng = RandomSource(seed: 2)
        let batch = replay.sample(16, rng: &rng, beta: 1)
        let y = naiveTargets(learner, batch, doubleQ: false)
        let expectedErrors = (0..<16).map { y[$0] - qValues(learner.online, batch.observations, row: $0)[batch.discreteActions[$0]] }
        assertClose(learner.tdErrors(for: batch), expectedErrors, absolute: 1e-5, relative: 1e-5)
        let step = learner.learn(from: batch)
        assertClose(step.tdErrors, expectedErrors, absolute: 1e-5, relative: 1e-5)
        replay.updatePriorities(indices: batch.indices, tdErrors: step.tdErrors)

        let reader = try ValueBasedTestSupport.roundTrip(self) { try replay.save(to: $0) }
        let priorities = try reader.doubles("priorities")
        for (index, error) in zip(batch.indices, step.tdErrors) {
            // Priorities are stored as Float (4 bytes a slot, as in the cluster's table): Float precision.
            let expected = Foundation.pow(Double(abs(error)) + 1e-3, 0.6)
            XCTAssertEqual(priorities[index], expected, accuracy: 1e-6 * expected)
        }
        let untouched = Set(0..<50).subtracting(batch.indices)
        for index in untouched { XCTAssertEqual(priorities[index], 1, "new transitions keep the initial max priority (1^α)") }
        // The max priority seen so far goes to the next new transition.
        let maxRaw = step.tdErrors.map { Double(abs($0)) + 1e-3 }.max()!
        XCTAssertEqual(try reader.doubles("max_priority")[0], max(1, maxRaw), accuracy: 1e-9)
    }
}
