import XCTest
import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

final class OnPolicyIMPALATests: XCTestCase {
    /// The CartPole-v1 threshold within 500k frames, at the default configuration (policy lag 2).
    func testLearnsCartPoleWithin500kFrames() throws {
        let mean = try OnPolicyTesting.trainAndEvaluate("impala", environment: "CartPole-v1", frames: 500_000, seed: 1)
        XCTAssertGreaterThanOrEqual(mean, 475)
    }

    /// mean |log ρ| of each update's batch, for the first `updates` updates with `lag`.
    private func meanAbsoluteLogRhos(lag: Int, updates: Int) throws -> [Double] {
        let (agent, vector) = try OnPolicyTesting.makeAgent(
            "impala", environment: "CartPole-v1", seed: 4, overrides: ["policy_lag": .int(lag), "unroll_length": .int(10)])
        let actions = agent.reset(observations: vector.observations)
        let outputs = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 10 * updates).outputs
        let infos = outputs.map(\.info).filter { !$0.isEmpty }
        XCTAssertEqual(infos.count, updates)
        return try infos.map { try XCTUnwrap($0["charts/mean_abs_log_rho"]) }
    }

    /// On-policy (lag 0) the behaviour policy is the learner's: log ρ = 0 up to rounding.
    func testLogRhosVanishOnPolicy() throws {
        for value in try meanAbsoluteLogRhos(lag: 0, updates: 6) { XCTAssertLessThan(value, 1e-5) }
    }

    /// With lag 3 the first batch is still on-policy (both use the initial parameters); from the
    /// second update on, the learner has moved past the behaviour policy and log ρ ≠ 0.
    func testLogRhosAreNonzeroWhenTheBehaviourPolicyLags() throws {
        let values = try meanAbsoluteLogRhos(lag: 3, updates: 6)
        XCTAssertLessThan(values[0], 1e-5)
        for value in values.dropFirst() { XCTAssertGreaterThan(value, 1e-4) }
    }

    /// After u updates the behaviour policy holds the learner's parameters of update max(0, u − lag).
    func testBehaviourPolicyActsWithTheParametersFromPolicyLagUpdatesAgo() throws {
        let lag = 3
        let (agent, vector) = try OnPolicyTesting.makeAgent(
            "impala", environment: "CartPole-v1", seed: 6, overrides: ["policy_lag": .int(lag), "unroll_length": .int(4)])
        var versions = [agent.networks.policy.parameters]  // versions[u]: after u updates
        var actions = agent.reset(observations: vector.observations)
        XCTAssertTrue(agent.behaviourPolicy.parameters == versions[0])
        while versions.count < 8 {
            let step = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 1)
            actions = step.actions
            guard !step.outputs[0].info.isEmpty else { continue }
            versions.append(agent.networks.policy.parameters)
            let updates = versions.count - 1
            XCTAssertTrue(agent.behaviourPolicy.parameters == versions[max(0, updates - lag)], "after \(updates) updates")
            XCTAssertEqual(step.outputs[0].info["charts/policy_lag"], Double(min(updates, lag)))
        }
        XCTAssertTrue(versions[1] != versions[0])
    }

    /// The learner's log ρ against behaviour log-probabilities computed by the same policy is zero,
    /// and against shifted ones it is exactly the shift.
    func testLearnerLogRhos() throws {
        let context = AgentContext(observationSpace: .box(low: -1, high: 1, count: 4), actionSpace: .discrete(2), environmentCount: 3, seed: 9)
        let learner = try IMPALALearner(configuration: try IMPALA.schema.resolve([:]), context: context)
        var batch = TrajectoryBatch(steps: 5, environments: 3, observationSize: 4, actionSize: 1)
        var rng = RandomSource(seed: 1)
        batch.observations = batch.observations.map { _ in rng.uniform(Float(-1), 1) }
        let (actions, logProbs) = learner.networks.policy.sample(observations: batch.stepObservations, count: batch.count, rng: &rng)
        batch.actions = actions
        batch.behaviourLogProbs = logProbs
        for value in learner.logRhos(batch) { XCTAssertEqual(value, 0, accuracy: 1e-6) }
        batch.behaviourLogProbs = logProbs.map { $0 - 0.25 }
        for value in learner.logRhos(batch) { XCTAssertEqual(value, 0.25, accuracy: 1e-5) }
    }

    /// A malformed or mis-shaped batch from elsewhere is refused without touching the networks.
    func testLearnRejectsMalformedBatches() throws {
        let context = AgentContext(observationSpace: .box(low: -1, high: 1, count: 4), actionSpace: .discrete(2), environmentCount: 2, seed: 9)
        let learner = try IMPALALearner(configuration: try IMPALA.schema.resolve([:]), context: context)
        let before = learner.networks.policy.parameters
        var short = TrajectoryBatch(steps: 3, environments: 2, observationSize: 4, actionSize: 1)
        short.rewards.removeLast()
        XCTAssertThrowsError(try learner.learn(short))
        XCTAssertThrowsError(try learner.learn(TrajectoryBatch(steps: 3, environments: 2, observationSize: 5, actionSize: 1)))
        var outOfRange = TrajectoryBatch(steps: 3, environments: 2, observationSize: 4, actionSize: 1)
        outOfRange.actions[4] = 2
        XCTAssertThrowsError(try learner.learn(outOfRange))
        XCTAssertTrue(learner.networks.policy.parameters == before)
        let info = try learner.learn(TrajectoryBatch(steps: 3, environments: 2, observationSize: 4, actionSize: 1))
        XCTAssertNotNil(info["losses/value_loss"])
        XCTAssertEqual(learner.networks.updates, 1)
    }
}
