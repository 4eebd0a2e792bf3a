import ColonyCluster
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// Ape-X DQN and distributed SAC as real processes (`colony cluster up`: coordinator, colony-replay,
/// learner, 2 workers) reaching the issue's thresholds, judged by the learner's evaluation of its
/// evaluation policy (`returns-eval.csv`).
final class ReplayClusterIntegrationTests: XCTestCase {
    private var directory: String!
    private var processes: [Process] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-replay-cluster-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
    }

    override func tearDownWithError() throws {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Ape-X DQN with 2 workers: the greedy policy's mean return over 100 episodes reaches 475 on
    /// CartPole-v1 within 200k frames.
    func testApeXDQNLearnsCartPoleWithin200kFrames() throws {
        try learns(file: "apex-dqn-cartpole.toml", algorithm: "apex_dqn", environment: "CartPole-v1", threshold: 475, frames: 200_000, seconds: 400)
    }

    /// Distributed SAC with 2 workers reaches −200 on Pendulum-v1 within 50k frames.
    func testDistributedSACLearnsPendulumWithin50kFrames() throws {
        try learns(file: "sac-pendulum.toml", algorithm: "apex_sac", environment: "Pendulum-v1", threshold: -200, frames: 50_000, seconds: 400)
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
    private func shippedFile(_ name: String, runsDirectory: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../cluster/\(name)").standardized.path
        var text = try String(contentsOfFile: source, encoding: .utf8)
        let probe = try ZMQSocket(ZMQContext(), .router)
        try probe.bind("tcp://127.0.0.1:*")
        let endpoint = try probe.lastEndpoint
        probe.close()
        text = text.replacingOccurrences(of: #"coordinator = "tcp://127.0.0.1:\d+""#, with: "coordinator = \"\(endpoint)\"", options: .regularExpression)
        text = text.replacingOccurrences(of: #"runs_dir = "runs/cluster""#, with: "runs_dir = \"\(runsDirectory)\"", options: .regularExpression)
        let path = directory + "/" + name
        try AtomicFile.write(text, to: path)
        return path
    }

    private func start(_ name: String, _ arguments: [String], log: String) throws -> Process {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var executable: String?
        for _ in 0..<4 {
            let candidate = url.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { executable = candidate; break }
            url.deleteLastPathComponent()
        }
        guard let executable else { throw XCTSkip("\(name) is not built next to the tests") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append(process)
        return process
    }
}
