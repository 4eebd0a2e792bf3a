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

    /// A distributed learner's update on several received unrolls (unroll-major, never concatenated)
    /// is the update on those unrolls laid side by side in one batch.
    func testLearningFromSeveralUnrollsEqualsLearningFromThemSideBySide() throws {
        let context = AgentContext(observationSpace: .box(low: -1, high: 1, count: 4), actionSpace: .discrete(2), environmentCount: 3, seed: 9)
        for trunk in ActorCritic.Layout.allCases {
            try checkGroupedLearning(context: context, configuration: try IMPALA.schema.resolve(["trunk": .string(trunk.rawValue)]))
        }
    }

    private func checkGroupedLearning(context: AgentContext, configuration: Configuration) throws {
        let grouped = try IMPALALearner(configuration: configuration, context: context)
        let sideBySide = try IMPALALearner(configuration: configuration, context: context)
        var rng = RandomSource(seed: 12)
        func unroll(environments: Int, truncatedAt index: Int?) -> TrajectoryBatch {
            var batch = TrajectoryBatch(steps: 6, environments: environments, observationSize: 4, actionSize: 1)
            batch.observations = batch.observations.map { _ in rng.uniform(Float(-1), 1) }
            let (actions, logProbs) = grouped.networks.policy.sample(observations: batch.stepObservations, count: batch.count, rng: &rng)
            batch.actions = actions
            batch.behaviourLogProbs = logProbs.map { $0 - rng.uniform(Float(0), 0.3) }
            batch.rewards = batch.rewards.map { _ in rng.uniform(Float(0), 1) }
            batch.terminated = batch.terminated.map { _ in rng.nextInt(below: 8) == 0 }
            if let index {
                batch.terminated[index] = false
                batch.truncated[index] = true
                batch.truncationIndices = [index]
                batch.truncationObservations = (0..<4).map { _ in rng.uniform(Float(-1), 1) }
            }
            return batch
        }
        let first = unroll(environments: 3, truncatedAt: 7), second = unroll(environments: 2, truncatedAt: nil)

        // The reference: both unrolls as one time-major batch of 3 + 2 environments.
        var combined = TrajectoryBatch(steps: 6, environments: 5, observationSize: 4, actionSize: 1)
        for t in 0...6 {
            for (offset, batch) in [(0, first), (3, second)] {
                for e in 0..<batch.environments {
                    let (from, to) = (t * batch.environments + e, t * 5 + offset + e)
                    combined.observations.replaceSubrange((to * 4)..<(to * 4 + 4), with: batch.observations[(from * 4)..<(from * 4 + 4)])
                    guard t < 6 else { continue }
                    combined.actions[to] = batch.actions[from]
                    combined.rewards[to] = batch.rewards[from]
                    combined.terminated[to] = batch.terminated[from]
                    combined.truncated[to] = batch.truncated[from]
                    combined.behaviourLogProbs[to] = batch.behaviourLogProbs[from]
                }
            }
        }
        combined.truncationIndices = [(7 / 3) * 5 + 7 % 3]
        combined.truncationObservations = first.truncationObservations

        let groupedInfo = grouped.learn([try grouped.validate(first), try grouped.validate(second)])
        let sideBySideInfo = sideBySide.learn(try sideBySide.validate(combined))
        for key in ["losses/policy_loss", "losses/value_loss", "losses/entropy", "charts/mean_abs_log_rho"] {
            XCTAssertEqual(groupedInfo[key]!, sideBySideInfo[key]!, accuracy: 1e-5 * max(1, abs(sideBySideInfo[key]!)), key)
        }
        let (a, b) = (grouped.networks.flatParameters, sideBySide.networks.flatParameters)
        XCTAssertEqual(a.count, b.count)
        for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-5, "parameter \(i)") }
        XCTAssertNotEqual(a, try IMPALALearner(configuration: configuration, context: context).networks.flatParameters, "the update moved the parameters")
    }
}
