import Foundation
import XCTest
import ColonyEnvironments
import ColonyNumerics
import ColonyTestSupport
@testable import ColonyAgents

final class ContinuousControlSACTests: XCTestCase {
    private func makeLearner(temperature: SACLearner.Temperature = .automatic(initial: 0.5)) -> SACLearner {
        var rng = RandomSource(seed: 21)
        return SACLearner(
            observationSize: 3, actionSize: 2, hiddenSizes: [8], activation: .tanh, learningRate: 1e-3, tau: 0.005,
            temperature: temperature, initializationRNG: &rng, learningRNG: RandomSource(seed: 22))
    }

    /// ∂L/∂θ_actor of L = mean_i [α·log π(ã_i|s_i) − min_k Q_k(s_i, ã_i)] against central differences,
    /// along random directions and for single parameters, with the noise held fixed.
    func testActorLossGradientMatchesFiniteDifferences() {
        let learner = makeLearner()
        let count = 4
        let batch = ContinuousControlFixtures.randomBatch(count: count, observationSize: 3, actionSize: 2, seed: 23)
        var rng = RandomSource(seed: 24)
        let noise = (0..<(count * 2)).map { _ in rng.normal() }
        let network = learner.actor.model
        let base = network.parameters
        _ = learner.accumulateActorGradients(observations: batch.observations, noise: noise, count: count)
        let analytic = network.gradients
        network.zeroGradients()
        for member in learner.critics.members { XCTAssertTrue(member.model.gradients.allSatisfy { $0 == 0 }) }

        func loss(along direction: [Float], _ h: Float) -> Float {
            network.parameters = zip(base, direction).map { $0 + h * $1 }
            defer { network.parameters = base; network.zeroGradients() }
            return learner.accumulateActorGradients(observations: batch.observations, noise: noise, count: count).loss
        }
        var directions: [[Float]] = (0..<3).map { _ in
            let v = (0..<base.count).map { _ in rng.normal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        for index in [0, 5, base.count - 1, base.count - 3] {  // a first-layer weight, output biases (μ and log σ)
            var unit = [Float](repeating: 0, count: base.count)
            unit[index] = 1
            directions.append(unit)
        }
        for direction in directions {
            let numeric = ContinuousControlFixtures.centralDifference(step: 1e-2) { loss(along: direction, $0) }
            let exact = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            XCTAssertEqual(exact, numeric, accuracy: 2e-3 + 2e-2 * abs(numeric))
        }
    }

    /// ∂L/∂log α of L = −log α · mean_i (log π_i + H̄) against central differences, and the sign:
    /// a policy less random than the target entropy raises α.
    func testTemperatureGradientMatchesFiniteDifferencesAndRaisesAlphaBelowTargetEntropy() {
        let learner = makeLearner()
        let logAlpha = learner.logAlpha!
        let logProbs: [Float] = [4.5, 5.5, 3.0, 7.0]  // entropy ≈ −5 < H̄ = −2
        let base = logAlpha.model.parameters[0]
        XCTAssertEqual(base, Foundation.log(0.5), accuracy: 1e-7)
        let loss = learner.accumulateTemperatureGradient(logProbs: logProbs)
        let analytic = logAlpha.model.gradients[0]
        logAlpha.model.zeroGradients()
        let numeric = ContinuousControlFixtures.centralDifference(step: 1e-2) { h in
            logAlpha.model.parameters[0] = base + h
            defer { logAlpha.model.parameters[0] = base; logAlpha.model.zeroGradients() }
            return learner.accumulateTemperatureGradient(logProbs: logProbs)
        }
        XCTAssertEqual(Double(analytic), numeric, accuracy: 1e-3)
        XCTAssertEqual(analytic, -(5.0 - 2.0), accuracy: 1e-6)
        XCTAssertEqual(loss, -base * 3, accuracy: 1e-6)
        _ = learner.accumulateTemperatureGradient(logProbs: logProbs)
        logAlpha.step()
        XCTAssertGreaterThan(learner.alpha, 0.5)
    }

    /// y = r + discount·(min_k Q'_k(s', a') − α log π(a'|s')), row by row with single-row forwards.
    func testSoftTargetsAgainstNaiveReference() {
        let learner = makeLearner(temperature: .fixed(0.3))
        for member in learner.critics.members {
            member.target!.parameters = member.target!.parameters.map { $0 * 1.5 + 0.01 }  // targets differ from the online critics
        }
        let count = 5
        let batch = ContinuousControlFixtures.randomBatch(count: count, observationSize: 3, actionSize: 2, seed: 31)
        var rng = RandomSource(seed: 32)
        let noise = (0..<(count * 2)).map { _ in rng.normal() }
        let targets = learner.softTargets(batch, noise: noise)
        for row in 0..<count {
            let next = Array(batch.nextObservations[(row * 3)..<(row * 3 + 3)])
            let output = ContinuousControlFixtures.forwardSingle(learner.actor.model, next)
            let policy = TanhGaussian(mean: Array(output[0..<2]), logStd: Array(output[2..<4]), batchSize: 1, dimension: 2)
            let sample = policy.sample(noise: Array(noise[(row * 2)..<(row * 2 + 2)]))
            let q = learner.critics.members.map { ContinuousControlFixtures.forwardSingle($0.target!, next + sample.actions)[0] }
            let expected = batch.rewards[row] + batch.discounts[row] * (min(q[0], q[1]) - 0.3 * sample.logProb[0])
            XCTAssertEqual(targets[row], expected, accuracy: 1e-4)
        }
    }

    func testLearnReportsStableTagsAndMovesTheTemperature() {
        let learner = makeLearner()
        let batch = ContinuousControlFixtures.randomBatch(count: 8, observationSize: 3, actionSize: 2, seed: 41)
        let info = learner.learn(from: batch)
        XCTAssertEqual(Set(info.scalars.keys), [
            "losses/qf_loss", "losses/q_values", "losses/actor_loss", "losses/alpha", "losses/alpha_loss",
        ])
        XCTAssertEqual(info["losses/alpha"]!, 0.5, accuracy: 1e-6)
        XCTAssertNotEqual(learner.alpha, 0.5)
        let fixed = makeLearner(temperature: .fixed(0.2))
        XCTAssertNil(fixed.learn(from: batch)["losses/alpha_loss"])
        XCTAssertEqual(fixed.alpha, 0.2)
    }

    /// Pendulum-v1 within the 20k-frame budget, evaluated deterministically over 10 episodes.
    func testSolvesPendulum() throws {
        try ContinuousControlFixtures.assertSolvesPendulum("sac", frames: 10_000, seed: 1)
    }

    /// The same run on Gymnasium's own Pendulum-v1, served by a Python environment host (docs/envhost.md):
    /// trained and evaluated through the host. Skipped where no Python with gymnasium exists.
    func testSolvesGymnasiumPendulumThroughTheEnvironmentHost() throws {
        guard let settings = EnvironmentHostTesting.settings("gym:Pendulum-v1") else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        try ContinuousControlFixtures.assertSolvesPendulum("sac", frames: 10_000, seed: 1, environment: settings)
    }
}
