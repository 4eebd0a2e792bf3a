import ColonyCluster
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// Ape-X DQN and distributed SAC as real processes (`colony cluster up`: coordinator, colony-replay,
/// learner, 2 workers) reaching the issue's thresholds, judged by the learner's evaluation of its
/// evaluation policy (`returns-eval.csv`).
final class ReplayClusterIntegrationTests: ExecutableTestCase {
    /// Ape-X DQN with 2 workers: the greedy policy's mean return over 100 episodes reaches 475 on
    /// CartPole-v1 within 200k frames.
    func testApeXDQNLearnsCartPoleWithin200kFrames() throws {
        try learns(file: "apex-dqn-cartpole.toml", algorithm: "apex_dqn", environment: "CartPole-v1", threshold: 475, frames: 200_000, seconds: 400)
    }

    /// Ape-X DQN on Catch's uint8 frames, which travel as bytes from workers to colony-replay and back to the learner:
    /// the greedy policy catches at least 90% of 20 balls within 10k frames.
    func testApeXDQNLearnsCatchFromFramesSentAsBytes() throws {
        try learns(file: "apex-dqn-catch.toml", algorithm: "apex_dqn", environment: "Catch-v0", threshold: 0.9, frames: 10_000, seconds: 240)
    }

    /// Distributed SAC with 2 workers reaches −200 on Pendulum-v1 within 50k frames.
    func testDistributedSACLearnsPendulumWithin50kFrames() throws {
        try learns(file: "sac-pendulum.toml", algorithm: "apex_sac", environment: "Pendulum-v1", threshold: -200, frames: 50_000, seconds: 400)
    }

    /// colony-replay SIGKILLed mid-run and started again: it restores its last checkpoint, the learner
    /// and the worker find its new endpoint through the coordinator, and training goes on.
    func testApeXRunGoesOnWhenTheReplayServerIsKilledAndRestarted() throws {
        let path = try shippedFile("apex-dqn-cartpole.toml", runsDirectory: directory + "/runs",
                                   replacing: ["frames = 200_000": "frames = 50_000_000", "eval_every = 10_000": "eval_every = 0"],
                                   appending: "checkpoint_every_seconds = 1\n")
        let coordinator = try XCTUnwrap(try ClusterSettings(path: path).coordinator)
        let checkpoint = "\(directory!)/runs/apex_dqn/CartPole-v1/seed-1/replay.h5"
        try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log")
        let replay = try start("colony-replay", ["--coordinator", coordinator, "--config", path], log: directory + "/replay.log")
        try start("colony-learner", ["--config", path], log: directory + "/learner.log")
        try start("colony-worker", ["--config", path, "--index", "0"], log: directory + "/worker-0.log")
        func learnerFrames() -> Double { status(coordinator)?.members.first { $0.role == .learner }?.stats.extra["frames"] ?? 0 }
        let logs = { self.logTail("learner.log") + self.logTail("worker-0.log") + self.logTail("replay.log") + self.logTail("replay-2.log") }

        XCTAssertTrue(eventually(timeout: 60) { learnerFrames() > 5_000 && FileManager.default.fileExists(atPath: checkpoint) }, "no frames or no replay checkpoint" + logs())
        Thread.sleep(forTimeInterval: 1.5)  // a checkpoint with the run well under way
        kill(replay.processIdentifier, SIGKILL)
        replay.waitUntilExit()
        let framesAtKill = learnerFrames()
        try start("colony-replay", ["--coordinator", coordinator, "--config", path], log: directory + "/replay-2.log")
        XCTAssertTrue(eventually(timeout: 10) { self.logTail("replay-2.log").contains("restored") }, "the restarted server did not restore its checkpoint" + logs())
        // The learner notices after 10 s without replies; workers may insert into the restored table
        // before that, so frames alone do not show that learning goes on: wait for the reconnection.
        XCTAssertTrue(eventually(timeout: 40) { self.logTail("learner.log", characters: 100_000).contains("moved to") }, "the learner did not reconnect" + logs())
        let framesAtReconnect = max(learnerFrames(), framesAtKill)
        XCTAssertTrue(eventually(timeout: 60) { learnerFrames() > framesAtReconnect + 5_000 }, "training did not go on after the replay server restarted" + logs())
    }

    private func learns(file: String, algorithm: String, environment: String, threshold: Double, frames: Int, seconds: Double) throws {
        let path = try shippedFile(file, runsDirectory: directory + "/runs")
        let log = directory + "/cluster.log"
        let cluster = try start("colony", ["cluster", "up", path], log: log)
        let evaluations = "\(directory!)/runs/\(algorithm)/\(environment)/seed-1/returns-eval.csv"
        func rows() -> [ReturnsCSV.Row] { (try? ReturnsCSV.read(evaluations)) ?? [] }
        let deadline = Date().addingTimeInterval(seconds)
        while cluster.isRunning && Date() < deadline && !rows().contains(where: { $0.mean >= threshold }) {
            Thread.sleep(forTimeInterval: 0.5)
        }
        let reached = rows().first { $0.mean >= threshold }
        if cluster.isRunning { kill(cluster.processIdentifier, SIGINT) }
        cluster.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertNotNil(reached, "\(algorithm): no evaluation ≥ \(threshold); evaluations: \(rows().map { "\($0.frame): \(Int($0.mean))" })\n\(output.suffix(4000))")
        if let reached { XCTAssertLessThanOrEqual(reached.frame, frames) }
        for member in ["[worker-0]", "[worker-1]", "[learner]", "[replay]"] {
            XCTAssertTrue(output.contains(member), "no output from \(member)\n\(output.prefix(3000))")
        }
        // Stopped by SIGINT, the learner wrote its status: the episodes the workers reported reached it.
        let status = RunStatus.read("\(directory!)/runs/\(algorithm)/\(environment)/seed-1/status.json")
        XCTAssertGreaterThan(status?.episodes ?? 0, 0, "no episodes reached the learner")
    }

    /// The shipped cluster file with its own free coordinator port and run directory.
    private func shippedFile(_ name: String, runsDirectory: String, replacing edits: [String: String] = [:], appending extra: String = "") throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../cluster/\(name)").standardized.path
        var text = try String(contentsOfFile: source, encoding: .utf8)
        let endpoint = try freeEndpoint()
        text = text.replacingOccurrences(of: #"coordinator = "tcp://127.0.0.1:\d+""#, with: "coordinator = \"\(endpoint)\"", options: .regularExpression)
        text = text.replacingOccurrences(of: #"runs_dir = "runs/cluster""#, with: "runs_dir = \"\(runsDirectory)\"", options: .regularExpression)
        for (old, new) in edits { text = text.replacingOccurrences(of: old, with: new) }
        let path = directory + "/" + name
        try AtomicFile.write(text + extra, to: path)
        return path
    }

}
