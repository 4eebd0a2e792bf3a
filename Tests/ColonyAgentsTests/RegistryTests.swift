import ColonyEnvironments
import ColonyNumerics
import XCTest
@testable import ColonyAgents

final class RegistryTests: XCTestCase {
    func testEveryIssueAlgorithmIsRegisteredWithADocumentedDefaultConfiguration() throws {
        let expected = ["a2c", "ddpg", "dqn", "impala", "ppo", "q_learning", "sac", "td3"]
        for id in expected { XCTAssertTrue(Agents.list().contains(id), "\(id) is not registered") }
        for id in Agents.list() {
            let configuration = try Agents.defaultConfiguration(id)
            XCTAssertEqual(configuration.agent, id)
            for key in configuration.schema.keys {
                XCTAssertFalse(key.help.isEmpty, "\(id).\(key.name) has no help text")
            }
            XCTAssertNotNil(configuration.schema.key("num_envs"), "\(id) has no num_envs key")
        }
    }

    func testUnknownAgentsAndKeysAreClearErrors() throws {
        let cartPole = try Environments.make("CartPole-v1", seed: 0)
        XCTAssertThrowsError(try Agents.make("ppo2", observationSpace: cartPole.observationSpace, actionSpace: cartPole.actionSpace, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'ppo'"), "\(error)")
        }
        guard Agents.list().contains("ppo") else { throw XCTSkip("ppo not registered") }
        XCTAssertThrowsError(try Agents.make(
            "ppo", observationSpace: cartPole.observationSpace, actionSpace: cartPole.actionSpace, seed: 1,
            overrides: ["learning_rat": .double(1e-3)])) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'learning_rate'"), "\(error)")
        }
    }

    func testRegisteringACustomAlgorithm() throws {
        let schema = ConfigurationSchema(agent: "custom_random", keys: [ConfigurationKey("num_envs", .int(1), "environments")])
        // Any factory will do: this one hands out the built-in random agent.
        Agents.register("custom_random", defaults: schema) { _, context in
            try Agents.makeParallel("random", observationSpace: context.observationSpace, actionSpace: context.actionSpace,
                                    environments: context.environmentCount, seed: context.seed)
        }
        XCTAssertTrue(Agents.list().contains("custom_random"))
        let cartPole = try Environments.make("CartPole-v1", seed: 0)
        let agent = try Agents.make("custom_random", observationSpace: cartPole.observationSpace, actionSpace: cartPole.actionSpace, seed: 3)
        var action = agent.reset(observation: cartPole.reset(seed: 1))
        for _ in 0..<50 {
            let result = try cartPole.step(action)
            if result.isDone {
                _ = agent.step(observation: result.observation, reward: result.reward, terminated: result.terminated, truncated: result.truncated)
                action = agent.reset(observation: cartPole.reset())
            } else {
                action = agent.step(observation: result.observation, reward: result.reward, terminated: false, truncated: false).action
            }
        }
        XCTAssertEqual(agent.frames, 50)
    }
}
