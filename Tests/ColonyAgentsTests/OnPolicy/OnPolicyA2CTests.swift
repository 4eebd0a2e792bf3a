import XCTest
import ColonyAgents

final class OnPolicyA2CTests: XCTestCase {
    /// The CartPole-v1 threshold within rl-baselines3-zoo's 500k-frame budget, at the default configuration.
    func testLearnsCartPoleWithin500kFrames() throws {
        let mean = try OnPolicyTesting.trainAndEvaluate("a2c", environment: "CartPole-v1", frames: 500_000, seed: 1)
        XCTAssertGreaterThanOrEqual(mean, 475)
    }

    /// One RMSProp step per rollout of n_steps × num_envs frames, each logging the actor–critic tags.
    func testUpdatesOncePerRollout() throws {
        let (agent, vector) = try OnPolicyTesting.makeAgent("a2c", environment: "CartPole-v1", seed: 2)
        let actions = agent.reset(observations: vector.observations)
        let outputs = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 20).outputs
        XCTAssertEqual(outputs.map { !$0.info.isEmpty }, (1...20).map { $0 % 5 == 0 })
        XCTAssertEqual(agent.networks.updates, 4)
        for key in ["losses/policy_loss", "losses/value_loss", "losses/entropy", "charts/learning_rate", "losses/explained_variance"] {
            XCTAssertNotNil(outputs[4].info[key], key)
        }
        XCTAssertEqual(outputs[4].info["charts/learning_rate"]!, 7e-4, accuracy: 1e-9)
    }
}
