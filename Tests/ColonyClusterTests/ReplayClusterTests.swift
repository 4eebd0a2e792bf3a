@testable import ColonyAgents
@testable import ColonyCluster
import ColonyStorage
import Foundation
import XCTest

/// Replay-based cluster files: the table each algorithm implies, overrides, and clear errors.
final class ReplayClusterSettingsTests: XCTestCase {
    private func settings(_ text: String) throws -> ClusterSettings {
        try ClusterSettings(document: try TOMLDocument(parsing: text), source: "test.toml")
    }

    /// A table the machine cannot hold is refused with its size, not allocated; Catch's frames are kept as bytes (one
    /// 10 × 5 plane per observation, shared), 70 bytes an item.
    func testATableLargerThanTheMachineIsRefusedWithItsSize() throws {
        XCTAssertThrowsError(try settings("""
            algorithm = "apex_dqn"
            env = "Catch-v0"
            runs_dir = "/tmp/r"
            [agent]
            buffer_size = 1000000000
            """)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("GiB") && message.contains("lower the agent's buffer_size"), message)
        }
        let table = try XCTUnwrap(try settings("""
            algorithm = "apex_dqn"
            env = "Catch-v0"
            runs_dir = "/tmp/r"
            [agent]
            buffer_size = 10000
            """).replay).table
        XCTAssertEqual(table.frames, ReplayFrameColumns(offsets: [0, 52], width: 50, chunkSize: 50))
        XCTAssertEqual(table.bytesPerItem, 3 * 4 + 50 + 2 * 4)
    }

    func testApeXDQNDerivesItsTableFromTheAgentAndTheEnvironment() throws {
        let s = try settings("""
        algorithm = "apex_dqn"
        env = "CartPole-v1"
        runs_dir = "/tmp/r"
        [agent]
        batch_size = 32
        learning_starts = 500
        buffer_size = 5000
        """)
        let replay = try XCTUnwrap(s.replay)
        XCTAssertEqual(replay.layout.itemSize, 4 + 1 + 1 + 4 + 1)
        XCTAssertEqual(replay.table.itemSize, 11)
        XCTAssertEqual(replay.table.capacity, 5000)
        XCTAssertEqual(replay.table.selector, .prioritized(alpha: 0.6))
        XCTAssertEqual(replay.table.rateLimiter.minSize, 500)
        XCTAssertEqual(replay.table.rateLimiter.samplesPerInsert, 32.0 * 128 / 256)  // batch · gradient_steps / train_freq
        XCTAssertEqual(replay.checkpointPath, "/tmp/r/apex_dqn/CartPole-v1/seed-1/replay.h5")
        XCTAssertEqual(replay.checkpointEverySeconds, 60)
        XCTAssertEqual(s.configuration.agent, "dqn")
    }

    func testApeXSACIsUniformWithOneUpdatePerFrameAndReplayOverridesWin() throws {
        let s = try settings("""
        algorithm = "apex_sac"
        env = "Pendulum-v1"
        [replay]
        samples_per_insert = 64
        capacity = 1000
        checkpoint_every_seconds = 0
        """)
        let replay = try XCTUnwrap(s.replay)
        XCTAssertEqual(replay.layout.itemSize, 3 + 1 + 1 + 3 + 1)
        XCTAssertEqual(replay.table.selector, .uniform)
        XCTAssertEqual(replay.table.capacity, 1000)
        XCTAssertEqual(replay.table.rateLimiter.samplesPerInsert, 64)
        XCTAssertGreaterThanOrEqual(replay.table.rateLimiter.errorBuffer, 64 * Double(replay.transitionsPerInsert))
        XCTAssertNil(replay.checkpointEverySeconds)
    }

    func testMistakesAreClearErrors() {
        let cases: [(String, String)] = [
            ("algorithm = \"impala\"\nenv = \"CartPole-v1\"\n[replay]\ncapacity = 10", "[replay] is for apex_dqn and apex_sac"),
            ("algorithm = \"impala\"\nenv = \"CartPole-v1\"\n[cluster]\nepsilon = 0.3", "'epsilon' is for apex_dqn and apex_sac"),
            ("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[cluster]\nepsilon_alfa = 7", "did you mean 'epsilon_alpha'"),
            ("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[replay]\nitem_size = 12", "takes 11 floats"),
            ("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[replay]\nerror_buffer = 0.5", "deadlock"),
            ("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[replay]\ncapacity = 100", "exceeds the capacity 100"),
            ("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[replay]\ncapacty = 100", "unknown key capacty"),
            ("algorithm = \"apex_dqn\"\nenv = \"Pendulum-v1\"", "discrete"),
        ]
        for (text, expected) in cases {
            do {
                let s = try settings(text)
                _ = try s.makeReplayLearner()
                XCTFail("accepted: \(text)")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(text)\n→ \(error)\nexpected to contain: \(expected)")
            }
        }
    }

    /// Every file in cluster/ (the Atari ones of make bench-atari included) reads without an unknown key or a bad value.
    func testEveryShippedClusterFileReads() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../cluster").standardized.path
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".toml") }.sorted()
        XCTAssertTrue(files.contains("impala-pong.toml") && files.contains("apex-dqn-pong.toml"), "\(files)")
        for file in files {
            XCTAssertNoThrow(try ClusterSettings(path: directory + "/" + file), file)
        }
        let pong = try ClusterSettings(path: directory + "/impala-pong.toml")
        XCTAssertEqual(pong.environment, "gym:ALE/Pong-v5")
        XCTAssertEqual(pong.frames, 10_000_000)
    }

    func testTheShippedClusterFilesParse() throws {
        for file in ["apex-dqn-cartpole.toml", "sac-pendulum.toml"] {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../cluster/\(file)").standardized.path
            let s = try ClusterSettings(path: path)
            XCTAssertNotNil(s.replay, file)
            _ = try s.makeReplayLearner()
        }
    }

    /// Single-process DQN keeps its target fixed during each round of gradient_steps updates; an Ape-X
    /// learner that synced every few updates instead (10 frames' worth) let Q diverge to 1e11.
    func testApeXTargetSyncsAsRarelyAsSingleProcessDQN() throws {
        let zoo = try settings("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"")  // 128 steps per 256 frames, target every 10 frames
        XCTAssertEqual(try ApeXDQNLearnerCore(setup: zoo.distributedSetup()).updatesPerTargetSync, 128)
        let frameClock = try settings("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[agent]\ntrain_freq = 4\ngradient_steps = 1\ntarget_update_interval = 1000")
        // r = 64 · 1 / 4 = 16 samples per insert: an update per 4 frames, so 1000 frames are 250 updates.
        XCTAssertEqual(try ApeXDQNLearnerCore(setup: frameClock.distributedSetup()).updatesPerTargetSync, 250)
    }

    func testTransitionItemsRoundTrip() {
        let layout = TransitionLayout(observationSize: 2, actionSize: 1)
        var items: [Float] = []
        layout.append(observation: [1, 2], action: [3], reward: 4, next: [5, 6], discount: 0.9, to: &items)
        layout.append(observation: [7, 8], action: [0], reward: -1, next: [9, 10], discount: 0, to: &items)
        XCTAssertEqual(items.count, 2 * layout.itemSize)
        let batch = layout.batch(items, weights: [0.5, 1])
        XCTAssertEqual(batch.observations, [1, 2, 7, 8])
        XCTAssertEqual(batch.actions, [3, 0])
        XCTAssertEqual(batch.rewards, [4, -1])
        XCTAssertEqual(batch.nextObservations, [5, 6, 9, 10])
        XCTAssertEqual(batch.discounts, [0.9, 0])
        XCTAssertEqual(batch.weights, [0.5, 1])
    }

    func testApeXWorkersExploreWithTheirOwnEpsilon() throws {
        let s = try settings("algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[cluster]\nworkers = 3")
        let epsilons = (0..<3).map { ReplayWorkerRole(settings: s, index: $0).explorationRate! }
        XCTAssertEqual(epsilons[0], 0.4, accuracy: 1e-12)
        XCTAssertEqual(epsilons[1], pow(0.4, 1 + 7.0 / 2), accuracy: 1e-12)
        XCTAssertEqual(epsilons[2], pow(0.4, 8), accuracy: 1e-12)
    }
}
