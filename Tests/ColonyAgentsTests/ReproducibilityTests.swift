import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import Foundation
import XCTest
@testable import ColonyAgents

/// For every registered algorithm: the same seed gives the same run, and a run saved at frame k,
/// restored into fresh objects and continued is bit-identical to the uninterrupted run.
final class ReproducibilityTests: XCTestCase {
    /// An environment each algorithm can act in, and overrides that make it update within a few thousand frames.
    private func setting(for id: String) throws -> (environment: String, overrides: [String: ConfigurationValue]) {
        let schema = try Agents.schema(id)
        var overrides: [String: ConfigurationValue] = [:]
        // Start learning early so that the frames around the checkpoint include updates.
        for (key, value) in [("learning_starts", ConfigurationValue.int(200)), ("buffer_size", .int(5000)), ("batch_size", .int(32))]
        where schema.key(key) != nil {
            overrides[key] = value
        }
        if id == "q_learning" { return ("CliffWalking-v0", overrides) }
        let continuous = ["sac", "td3", "ddpg"].contains(id)
        return (continuous ? "Pendulum-v1" : "CartPole-v1", overrides)
    }

    /// The shipped algorithms (tests elsewhere register extra agents in the same process).
    private var builtIns: [String] { BuiltInAlgorithms.all.map(\.schema.agent).sorted() }

    private struct Trace: Equatable {
        var rewards: [Double] = []
        var actions: [String] = []
        var info: [[String: Double]] = []
    }

    private func drive(_ agent: any ParallelAgent, _ environments: VectorEnvironment, actions: inout [Action], frames: Int) throws -> Trace {
        var trace = Trace()
        var taken = 0
        while taken < frames {
            try environments.step(actions)
            taken += environments.count
            let step = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations)
            actions = step.actions
            trace.rewards += environments.rewards
            trace.actions.append(actions.map(\.description).joined(separator: ","))
            if !step.info.isEmpty { trace.info.append(step.info.scalars) }
        }
        return trace
    }

    private func makeAgent(_ id: String, environment: String, environments: Int, overrides: [String: ConfigurationValue]) throws -> any ParallelAgent {
        let probe = try Environments.make(environment, seed: 0)
        return try Agents.makeParallel(
            id, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, environments: environments, seed: 7, overrides: overrides)
    }

    func testEveryAlgorithmResumesBitForBitFromACheckpoint() throws {
        let directory = NSTemporaryDirectory() + "colony-repro-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertFalse(builtIns.isEmpty)
        for id in builtIns {
            let (environment, overrides) = try setting(for: id)
            let count = 2
            let (k, m) = (1_500, 1_500)

            // Uninterrupted run, with a checkpoint at frame k.
            let agent = try makeAgent(id, environment: environment, environments: count, overrides: overrides)
            let environments = try LocalVectorEnvironment(id: environment, count: count, seed: 3)
            var actions = agent.reset(observations: environments.observations)
            _ = try drive(agent, environments, actions: &actions, frames: k)
            let path = directory + "/\(id).h5"
            try AgentCheckpoint.save(agent, to: path)
            let snapshot = try XCTUnwrap(environments.snapshot())
            let pendingActions = actions
            let uninterrupted = try drive(agent, environments, actions: &actions, frames: m)
            XCTAssertTrue(id == "random" || !uninterrupted.info.isEmpty, "\(id) made no update in frames \(k)..<\(k + m); the test would prove nothing")

            // Fresh objects restored from the file continue identically.
            let restored = try makeAgent(id, environment: environment, environments: count, overrides: overrides)
            try AgentCheckpoint.load(restored, from: path)
            XCTAssertEqual(restored.frames, agent.frames - m, id)
            let freshEnvironments = try LocalVectorEnvironment(id: environment, count: count, seed: 12345)
            try freshEnvironments.restore(snapshot)
            var resumedActions = pendingActions
            let resumed = try drive(restored, freshEnvironments, actions: &resumedActions, frames: m)
            XCTAssertEqual(resumed.rewards, uninterrupted.rewards, "\(id): rewards diverged after restoring")
            XCTAssertEqual(resumed.actions, uninterrupted.actions, "\(id): actions diverged after restoring")
            XCTAssertEqual(resumed.info, uninterrupted.info, "\(id): updates diverged after restoring")
        }
    }

    func testTheSameSeedGivesTheSameRun() throws {
        for id in builtIns {
            let (environment, overrides) = try setting(for: id)
            var traces: [Trace] = []
            for _ in 0..<2 {
                let agent = try makeAgent(id, environment: environment, environments: 2, overrides: overrides)
                let environments = try LocalVectorEnvironment(id: environment, count: 2, seed: 3)
                var actions = agent.reset(observations: environments.observations)
                traces.append(try drive(agent, environments, actions: &actions, frames: 1_000))
            }
            XCTAssertEqual(traces[0], traces[1], id)
        }
    }

    func testCheckpointsOfAnotherAlgorithmOrShapeAreRefused() throws {
        let directory = NSTemporaryDirectory() + "colony-refuse-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ids = builtIns.filter { $0 != "random" }.filter { $0 != "q_learning" && !["sac", "td3", "ddpg"].contains($0) }
        guard ids.count >= 2 else { throw XCTSkip("needs two discrete algorithms") }
        let first = try makeAgent(ids[0], environment: "CartPole-v1", environments: 1, overrides: [:])
        let path = directory + "/a.h5"
        try AgentCheckpoint.save(first, to: path)
        let other = try makeAgent(ids[1], environment: "CartPole-v1", environments: 1, overrides: [:])
        XCTAssertThrowsError(try AgentCheckpoint.load(other, from: path)) { error in
            XCTAssertEqual(error as? CheckpointError, .wrongAgent(path: path, expected: ids[1], found: ids[0]))
        }
        let acrobot = try makeAgent(ids[0], environment: "Acrobot-v1", environments: 1, overrides: [:])
        XCTAssertThrowsError(try AgentCheckpoint.load(acrobot, from: path)) { error in
            XCTAssertTrue("\(error)".contains("was saved for spaces"), "\(error)")
        }
        let wider = try makeAgent(ids[0], environment: "CartPole-v1", environments: 1, overrides: ["hidden_sizes": .intList([17])])
        XCTAssertThrowsError(try AgentCheckpoint.load(wider, from: path)) { error in
            XCTAssertTrue("\(error)".contains("different network"), "\(error)")
        }
        XCTAssertThrowsError(try AgentCheckpoint.load(first, from: directory + "/missing.h5"))
    }
}
