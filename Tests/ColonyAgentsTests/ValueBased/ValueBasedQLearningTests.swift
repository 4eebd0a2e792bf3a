import XCTest
import ColonyEnvironments
import ColonyNumerics
import ColonyAgents

final class ValueBasedQLearningTests: XCTestCase {
    func testNeedsDiscreteObservationsAndActions() {
        let box = Space.box(low: -1, high: 1, count: 2)
        XCTAssertThrowsError(try Agents.makeParallel("q_learning", observationSpace: box, actionSpace: .discrete(2), environments: 1, seed: 0)) { error in
            XCTAssertEqual("\(error)", "q_learning needs a discrete observation space; the environment has \(box)")
        }
        XCTAssertThrowsError(try Agents.makeParallel("q_learning", observationSpace: .discrete(4), actionSpace: box, environments: 1, seed: 0)) { error in
            XCTAssertEqual("\(error)", "q_learning needs a discrete action space; the environment has \(box)")
        }
    }

    /// One hand-computed update: Q(s, a) += α (r + γ max Q(s′) − Q(s, a)); none at termination.
    func testTabularUpdateMatchesTheFormula() throws {
        let agent = try QLearning(
            configuration: QLearning.schema.resolve(["learning_rate": .double(0.5), "gamma": .double(0.9), "initial_q": .double(2)]),
            context: AgentContext(observationSpace: .discrete(3), actionSpace: .discrete(2), environmentCount: 1, seed: 4))
        guard case .discrete(let a0) = agent.reset(observations: [0])[0] else { return XCTFail() }
        let step = agent.step(observations: [1], rewards: [-1], terminated: [false], truncated: [false], finalObservations: [nil])
        XCTAssertEqual(agent.table[a0], 2 + 0.5 * (-1 + 0.9 * 2 - 2))
        XCTAssertEqual(step.info["losses/td_loss"]!, Double((-1 + 0.9 * 2 - 2) * (-1 + 0.9 * 2 - 2)), accuracy: 1e-6)
        guard case .discrete(let a1) = step.actions[0] else { return XCTFail() }
        // Termination: no bootstrap, even though the next observation (the new episode's) has value 2.
        _ = agent.step(observations: [0], rewards: [5], terminated: [true], truncated: [false], finalObservations: [[2]])
        XCTAssertEqual(agent.table[2 + a1], 2 + 0.5 * (5 - 2))
    }

    func testCliffWalkingFindsTheOptimalPath() throws {
        let agent = try ValueBasedTestSupport.agent("q_learning", environment: "CliffWalking-v1", seed: 1)
        try AgentRunner.train(agent, on: LocalVectorEnvironment(id: "CliffWalking-v1", count: 1, seed: 1), frames: 20_000, seed: 1)
        // Capped at 200 steps: CliffWalking has no time limit, and a wrong greedy policy may circle forever.
        let returns = try ValueBasedTestSupport.evaluate(agent, environment: "CliffWalking-v1", episodes: 20, seed: 2, maxEpisodeSteps: 200)
        XCTAssertEqual(returns, [Double](repeating: -13, count: 20))
    }

    func testEvalModeStoresNothing() throws {
        let agent = try ValueBasedTestSupport.agent("q_learning", environment: "CliffWalking-v1", seed: 1) as! QLearning
        try AgentRunner.train(agent, on: LocalVectorEnvironment(id: "CliffWalking-v1", count: 1, seed: 1), frames: 2_000, seed: 1)
        let (table, frames) = (agent.table, agent.frames)
        agent.mode = .eval
        let environments = try LocalVectorEnvironment(id: "CliffWalking-v1", count: 1, seed: 3)
        _ = try ValueBasedTestSupport.drive(agent, on: environments, frames: 200, from: agent.reset(observations: environments.observations))
        XCTAssertEqual(agent.table, table)
        XCTAssertEqual(agent.frames, frames)
    }

    func testCheckpointResumesBitIdentically() throws {
        let path = ValueBasedTestSupport.temporaryPath(self, "q")
        func make(_ seed: UInt64) throws -> any ParallelAgent {
            try ValueBasedTestSupport.agent("q_learning", environment: "CliffWalking-v1", environments: 2, seed: seed, ["exploration_initial_eps": .double(1)])
        }
        let original = try make(3)
        let environments = try LocalVectorEnvironment(id: "CliffWalking-v1", count: 2, seed: 4)
        var actions = try ValueBasedTestSupport.drive(original, on: environments, frames: 1_001, from: original.reset(observations: environments.observations)).actions
        try AgentCheckpoint.save(original, to: path)
        let expected = try ValueBasedTestSupport.drive(original, on: environments, frames: 3_000, from: actions)

        let twin = try make(3)
        let replayed = try LocalVectorEnvironment(id: "CliffWalking-v1", count: 2, seed: 4)
        actions = try ValueBasedTestSupport.drive(twin, on: replayed, frames: 1_001, from: twin.reset(observations: replayed.observations)).actions
        let restored = try make(99)
        try AgentCheckpoint.load(restored, from: path)
        let resumed = try ValueBasedTestSupport.drive(restored, on: replayed, frames: 3_000, from: actions)
        XCTAssertFalse(expected.returns.isEmpty)
        XCTAssertEqual(resumed.returns, expected.returns)
        XCTAssertEqual(resumed.infos, expected.infos)
        XCTAssertEqual((restored as! QLearning).table, (original as! QLearning).table)
    }
}
