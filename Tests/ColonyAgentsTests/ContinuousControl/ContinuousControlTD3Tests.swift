import Foundation
import XCTest
import ColonyEnvironments
import ColonyNumerics
@testable import ColonyAgents

final class ContinuousControlTD3Tests: XCTestCase {
    private func makeLearner(twin: Bool = true, policyDelay: Int = 2) -> TD3Learner {
        var rng = RandomSource(seed: 51)
        let options = TD3Learner.Options(
            twinCritics: twin, targetPolicyNoise: twin ? 0.2 : 0, targetNoiseClip: 0.5, policyDelay: policyDelay, explorationNoise: 0.1)
        return TD3Learner(
            observationSize: 3, actionSize: 2, hiddenSizes: [8], activation: .relu, learningRate: 1e-3, tau: 0.005,
            options: options, initializationRNG: &rng, learningRNG: RandomSource(seed: 52))
    }

    /// Target policy smoothing and clipped double Q against a row-by-row reference written like the paper:
    /// a' = clip(μ'(s') + clip(ε, −c, c), −1, 1), y = r + discount·min(Q'_1(s', a'), Q'_2(s', a')).
    func testTargetSmoothingAndMinimumOfTwinsAgainstNaiveReference() {
        for twin in [true, false] {
            let learner = makeLearner(twin: twin)
            // Large target-actor weights saturate μ' near ±1, so the final clip to [−1, 1] is exercised.
            learner.actor.target!.parameters = learner.actor.target!.parameters.map { $0 * 8 }
            for (k, member) in learner.critics.members.enumerated() {
                member.target!.parameters = member.target!.parameters.map { $0 * Float(1 + k) - 0.05 }
            }
            let count = 6
            let batch = ContinuousControlFixtures.randomBatch(count: count, observationSize: 3, actionSize: 2, seed: 53)
            let noise: [Float]? = twin ? [0.1, -0.7, 2.0, -2.0, 0.3, 0.0, -0.4, 0.45, 0.9, 0.2, -0.1, -3.0] : nil
            let targets = learner.targetValues(batch, noise: noise)
            var clippedSomething = false
            for row in 0..<count {
                let next = Array(batch.nextObservations[(row * 3)..<(row * 3 + 3)])
                var action = ContinuousControlFixtures.forwardSingle(learner.actor.target!, next)
                for j in 0..<2 {
                    let epsilon = noise.map { max(-0.5, min(0.5, $0[row * 2 + j])) } ?? 0
                    let unclipped = action[j] + epsilon
                    if abs(unclipped) > 1 { clippedSomething = true }
                    action[j] = max(-1, min(1, unclipped))
                }
                let q = learner.critics.members.map { ContinuousControlFixtures.forwardSingle($0.target!, next + action)[0] }
                let expected = batch.rewards[row] + batch.discounts[row] * q.min()!
                XCTAssertEqual(targets[row], expected, accuracy: 1e-4, "twin \(twin), row \(row)")
            }
            if twin { XCTAssertTrue(clippedSomething, "the fixture should exercise the action clip") }
        }
    }

    /// ∂L/∂θ_actor of L = −mean_i Q_1(s_i, μ(s_i)) against a central difference along a random direction.
    func testActorGradientMatchesFiniteDifferences() {
        var rng = RandomSource(seed: 54)
        let options = TD3Learner.Options(twinCritics: true, targetPolicyNoise: 0.2, targetNoiseClip: 0.5, policyDelay: 1, explorationNoise: 0.1)
        let learner = TD3Learner(
            observationSize: 3, actionSize: 2, hiddenSizes: [8], activation: .tanh, learningRate: 1e-3, tau: 0.005,
            options: options, initializationRNG: &rng, learningRNG: RandomSource(seed: 55))
        let batch = ContinuousControlFixtures.randomBatch(count: 4, observationSize: 3, actionSize: 2, seed: 56)
        let network = learner.actor.model
        let base = network.parameters
        _ = learner.accumulateActorGradients(observations: batch.observations, count: 4)
        let analytic = network.gradients
        network.zeroGradients()
        let direction = (0..<base.count).map { _ in rng.normal() / Float(base.count).squareRoot() }
        let numeric = ContinuousControlFixtures.centralDifference(step: 1e-2) { h in
            network.parameters = zip(base, direction).map { $0 + h * $1 }
            defer { network.parameters = base; network.zeroGradients() }
            return learner.accumulateActorGradients(observations: batch.observations, count: 4)
        }
        let exact = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(exact, numeric, accuracy: 1e-3 + 2e-2 * abs(numeric))
    }

    /// Delayed policy updates: the actor and all targets move only every `policy_delay` critic updates.
    func testActorAndTargetsUpdateEveryPolicyDelaySteps() {
        let learner = makeLearner(policyDelay: 2)
        let batch = ContinuousControlFixtures.randomBatch(count: 8, observationSize: 3, actionSize: 2, seed: 57)
        for update in 1...4 {
            let actorBefore = learner.actor.model.parameters
            let targetsBefore = [learner.actor.target!.parameters] + learner.critics.members.map { $0.target!.parameters }
            let criticBefore = learner.critics.members[0].model.parameters
            let info = learner.learn(from: batch)
            let delayed = update % 2 == 0
            XCTAssertNotEqual(learner.critics.members[0].model.parameters, criticBefore, "critics learn every step")
            XCTAssertEqual(learner.actor.model.parameters != actorBefore, delayed, "update \(update)")
            let targetsAfter = [learner.actor.target!.parameters] + learner.critics.members.map { $0.target!.parameters }
            XCTAssertEqual(targetsAfter != targetsBefore, delayed, "update \(update)")
            XCTAssertEqual(info["losses/actor_loss"] != nil, delayed)
            XCTAssertNotNil(info["losses/qf_loss"])
            XCTAssertNotNil(info["losses/q_values"])
        }
    }

    func testSolvesPendulum() throws {
        try ContinuousControlFixtures.assertSolvesPendulum("td3", frames: 15_000, seed: 1)
    }
}
