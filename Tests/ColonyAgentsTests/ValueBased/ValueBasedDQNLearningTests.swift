import XCTest
import ColonyEnvironments
import ColonyAgents

/// Seeded learning thresholds, judged like SB3's EvalCallback with a reward threshold: 20 greedy
/// evaluation episodes after every chunk of training, success at the first mean at or above the
/// environment's threshold within the frame budget.
final class ValueBasedDQNLearningTests: XCTestCase {
    /// Default configuration (rl-baselines3-zoo's CartPole-v1): ≥ 475 within 50k frames.
    func testCartPoleReaches475Within50kFrames() throws {
        let agent = try ValueBasedTestSupport.agent("dqn", environment: "CartPole-v1", seed: 2)
        let result = try ValueBasedTestSupport.framesToThreshold(agent, environment: "CartPole-v1", seed: 2, threshold: 475, budget: 50_000, every: 2_500)
        XCTAssertNotNil(result.frames, "evaluation means every 2.5k frames: \(result.means)")
    }

    /// `DQN.environmentPresets["Acrobot-v1"]`: ≥ −100 within 200k frames.
    func testAcrobotReachesMinus100Within200kFrames() throws {
        let agent = try ValueBasedTestSupport.agent("dqn", environment: "Acrobot-v1", seed: 1, DQN.environmentPresets["Acrobot-v1"]!)
        let result = try ValueBasedTestSupport.framesToThreshold(agent, environment: "Acrobot-v1", seed: 1, threshold: -100, budget: 200_000, every: 10_000)
        XCTAssertNotNil(result.frames, "evaluation means every 10k frames: \(result.means)")
    }
}
