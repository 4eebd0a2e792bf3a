import Foundation
import XCTest
import ColonyEnvironments
import ColonyNumerics
@testable import ColonyAgents

final class ContinuousControlQCriticsTests: XCTestCase {
    private func makeCritics(count: Int) -> QCritics {
        var rng = RandomSource(seed: 11)
        return QCritics(
            count: count, observationSize: 3, actionSize: 2, hiddenSizes: [8, 8], activation: .tanh, learningRate: 1e-3, rng: &rng)
    }

    /// dQ/da from the critic's input gradient against central differences of Q in each action element.
    func testActionGradientMatchesFiniteDifferences() {
        for (count, reduction) in [(1, QCritics.Reduction.first), (2, .first), (2, .minimum)] {
            let critics = makeCritics(count: count)
            // Push the twins apart so that the minimum is not at a kink for these rows.
            critics.members.last!.model.parameters[critics.members.last!.model.parameterCount - 1] += 0.5
            let batch = ContinuousControlFixtures.randomBatch(count: 5, observationSize: 3, actionSize: 2, seed: 5)
            let parametersBefore = critics.members.map(\.model.parameters)
            let result = critics.actionGradient(observations: batch.observations, actions: batch.actions, count: 5, reduction: reduction)
            XCTAssertEqual(critics.members.map(\.model.parameters), parametersBefore, "dQ/da must not change the critics")
            for member in critics.members { XCTAssertTrue(member.model.gradients.allSatisfy { $0 == 0 }, "gradients left at zero") }
            for row in 0..<5 {
                for j in 0..<2 {
                    let numeric = ContinuousControlFixtures.centralDifference(step: 1e-2) { h in
                        var actions = batch.actions
                        actions[row * 2 + j] += h
                        return critics.actionGradient(observations: batch.observations, actions: actions, count: 5, reduction: reduction).values[row]
                    }
                    XCTAssertEqual(Double(result.gradient[row * 2 + j]), numeric, accuracy: 1e-3 + 1e-2 * abs(numeric),
                                   "critics \(count), \(reduction), row \(row), action \(j)")
                }
            }
        }
    }

    /// The values of `.minimum` are the row-wise minimum of the members' forward passes; `.first` is Q_1.
    func testReductionsAgainstSingleRowForwards() {
        let critics = makeCritics(count: 2)
        let batch = ContinuousControlFixtures.randomBatch(count: 6, observationSize: 3, actionSize: 2, seed: 8)
        let minimum = critics.actionGradient(observations: batch.observations, actions: batch.actions, count: 6, reduction: .minimum).values
        let first = critics.actionGradient(observations: batch.observations, actions: batch.actions, count: 6, reduction: .first).values
        for row in 0..<6 {
            let input = Array(batch.observations[(row * 3)..<(row * 3 + 3)] + batch.actions[(row * 2)..<(row * 2 + 2)])
            let q = critics.members.map { ContinuousControlFixtures.forwardSingle($0.model, input)[0] }
            XCTAssertEqual(first[row], q[0], accuracy: 1e-5)
            XCTAssertEqual(minimum[row], min(q[0], q[1]), accuracy: 1e-5)
        }
    }

    /// One regression step equals Adam on the naive loss Σ_k mean_i (Q_k − y)², computed row by row.
    func testRegressionLossAndGradientAgainstNaiveReference() {
        let critics = makeCritics(count: 2)
        let batch = ContinuousControlFixtures.randomBatch(count: 4, observationSize: 3, actionSize: 2, seed: 9)
        let reference = critics.members.map { $0.model.copy() }
        var naiveLoss = 0.0
        for network in reference {
            for row in 0..<4 {
                let features = Array(batch.observations[(row * 3)..<(row * 3 + 3)] + batch.actions[(row * 2)..<(row * 2 + 2)])
                let input = Tensor(shape: [1, 5], scalars: features)
                let error = network.forward(input).scalars[0] - batch.rewards[row]
                naiveLoss += Double(error * error) / 4
                network.backward(Tensor(shape: [1, 1], scalars: [2 * error / 4]))
            }
            var adam = Adam()
            adam.step(network, learningRate: 1e-3)
        }
        let result = critics.regress(observations: batch.observations, actions: batch.actions, targets: batch.rewards, count: 4)
        XCTAssertEqual(Double(result.loss), naiveLoss, accuracy: 1e-4 * max(1, naiveLoss))
        for (member, network) in zip(critics.members, reference) {
            for (a, b) in zip(member.model.parameters, network.parameters) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            XCTAssertNotEqual(member.model.parameters, member.target!.parameters, "the target lags until updateTargets")
        }
    }
}

final class ContinuousControlScheduleTests: XCTestCase {
    /// Closed-form gradient-step counts against a frame-by-frame count of SB3's rule.
    func testGradientStepsDueMatchesFrameByFrameCount() {
        var rng = RandomSource(seed: 4)
        for _ in 0..<500 {
            let schedule = OffPolicySchedule(
                learningStarts: rng.nextInt(below: 50), trainFrequency: 1 + rng.nextInt(below: 7),
                gradientSteps: rng.nextInt(below: 4), batchSize: 8)
            let previous = rng.nextInt(below: 100), step = 1 + rng.nextInt(below: 9)
            var naive = 0
            for frame in (previous + 1)...(previous + step) where frame > schedule.learningStarts && frame % schedule.trainFrequency == 0 {
                naive += schedule.gradientSteps
            }
            XCTAssertEqual(schedule.gradientStepsDue(from: previous, to: previous + step), naive, "\(schedule), \(previous) + \(step)")
        }
        let sb3 = OffPolicySchedule(learningStarts: 100, trainFrequency: 1, gradientSteps: 1, batchSize: 256)
        XCTAssertTrue(sb3.actsRandomly(afterFrames: 99))
        XCTAssertFalse(sb3.actsRandomly(afterFrames: 100))
        XCTAssertEqual(sb3.gradientStepsDue(from: 99, to: 100), 0, "no update until more than learning_starts frames")
        XCTAssertEqual(sb3.gradientStepsDue(from: 100, to: 101), 1)
    }
}

final class ContinuousControlActionScalingTests: XCTestCase {
    func testScalesSquashedActionsToTheBoxAndRefusesOtherSpaces() throws {
        let scaling = try BoxActionScaling(actionSpace: .box(low: [-2, 0], high: [2, 1]), algorithm: "sac")
        XCTAssertEqual(scaling.scale, [2, 0.5])
        XCTAssertEqual(scaling.bias, [0, 0.5])
        XCTAssertEqual(scaling.environmentActions([-1, 1, 0.5, 0, 1.5, -3], count: 3), [
            .continuous([-2, 1]), .continuous([1, 0.5]), .continuous([2, 0]),
        ])
        var rng = RandomSource(seed: 1)
        XCTAssertTrue(scaling.randomSquashedActions(count: 100, rng: &rng).allSatisfy { (-1..<1).contains($0) })
        XCTAssertThrowsError(try BoxActionScaling(actionSpace: .discrete(2), algorithm: "sac"))
        XCTAssertThrowsError(try BoxActionScaling(actionSpace: .box(low: [-.infinity], high: [1]), algorithm: "td3"))
    }
}

final class ContinuousControlDriverTests: XCTestCase {
    /// Transitions bootstrap from `finalObservations` on truncation and not at all on termination.
    func testTransitionsUseFinalObservationsAndTerminalDiscounts() throws {
        let agent = try ContinuousControlFixtures.pendulumAgent("sac", environments: 2, overrides: ["learning_starts": .int(1000)]) as! SAC
        _ = agent.reset(observations: [1, 0, 0, 0, 1, 0])
        let step = agent.step(
            observations: [0.5, 0.5, 1, 0.6, 0.6, 2], rewards: [-1, -2], terminated: [false, true], truncated: [true, false],
            finalObservations: [[0.9, 0.1, 3], [0.8, 0.2, 4]])
        XCTAssertTrue(step.info.isEmpty, "no update before learning_starts")
        XCTAssertEqual(agent.frames, 2)
        var rng = RandomSource(seed: 3)
        let batch = agent.driver.replay.sample(64, rng: &rng)
        for row in 0..<64 {
            if batch.rewards[row] == -1 {
                XCTAssertEqual(Array(batch.observations[(row * 3)..<(row * 3 + 3)]), [1, 0, 0])
                XCTAssertEqual(Array(batch.nextObservations[(row * 3)..<(row * 3 + 3)]), [0.9, 0.1, 3], "truncated: final observation")
                XCTAssertEqual(batch.discounts[row], 0.99, "truncated: bootstrap")
            } else {
                XCTAssertEqual(batch.rewards[row], -2)
                XCTAssertEqual(Array(batch.nextObservations[(row * 3)..<(row * 3 + 3)]), [0.8, 0.2, 4])
                XCTAssertEqual(batch.discounts[row], 0, "terminated: no bootstrap")
            }
            XCTAssertTrue((-1...1).contains(batch.actions[row]), "replay holds squashed actions")
        }
    }
}
