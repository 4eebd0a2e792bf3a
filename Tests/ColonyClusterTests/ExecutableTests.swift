import ColonyCluster
import ColonyTestSupport
import ColonyTransport
import Foundation
import XCTest

/// The thin mains, as a person runs them: `colony-coordinator` and `colony status` (skipped when the
/// executables were not built next to the tests).
final class ExecutableTests: XCTestCase {
    private func executable(_ name: String) throws -> URL {
        guard let path = BuiltExecutable.path(name) else { throw XCTSkip("\(name) is not built next to the tests") }
        return URL(fileURLWithPath: path)
    }

    private func run(_ url: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let outcome = try BuiltExecutable.run(url.lastPathComponent, arguments) else { throw XCTSkip("\(url.lastPathComponent) is not built") }
        return (outcome.status, outcome.output + outcome.error)
    }

    /// A free loopback port: bind one, note it, let it go.
    private func freeEndpoint() throws -> String {
        let probe = try ZMQSocket(ZMQContext(), .router)
        defer { probe.close() }
        try probe.bind("tcp://127.0.0.1:*")
        return try probe.lastEndpoint
    }

    func testCoordinatorExecutableServesStatusAndExitsWhenTheRunIsDone() throws {
        let coordinatorURL = try executable("colony-coordinator")
        let colonyURL = try executable("colony")
        let endpoint = try freeEndpoint()

        let coordinator = Process()
        coordinator.executableURL = coordinatorURL
        coordinator.arguments = ["--bind", endpoint, "--heartbeat-interval", "0.05"]
        let log = Pipe()
        coordinator.standardError = log
        try coordinator.run()
        defer { if coordinator.isRunning { coordinator.terminate() } }

        let learner = CoordinatorClient(configuration: .init(
            coordinator: endpoint, member: .thisProcess(role: .learner, name: "learner"), heartbeatInterval: testInterval,
            stats: { MemberStats(updatesPerSecond: 4) }, logger: .silent()))
        learner.start()
        defer { learner.stop() }
        XCTAssertTrue(eventually(timeout: 10) { learner.isRegistered })

        let table = try run(colonyURL, ["status", "--coordinator", endpoint])
        XCTAssertEqual(table.status, 0, table.output)
        XCTAssertTrue(table.output.contains("1 member (1 learner)"), table.output)
        XCTAssertTrue(table.output.contains("4.0 updates/s"), table.output)
        let json = try run(colonyURL, ["status", "--coordinator", endpoint, "--json"])
        let status = try JSONDecoder().decode(ClusterStatus.self, from: Data(json.output.utf8))
        XCTAssertEqual(status.members.first?.name, "learner")

        learner.requestShutdown(reason: "done")
        coordinator.waitUntilExit()
        let said = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(coordinator.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("colony-coordinator stopped: the run is done (done)"), said)
        XCTAssertTrue(learner.isShutdownRequested)

        let nobody = try run(colonyURL, ["status", "--coordinator", endpoint, "--timeout", "0.2"])
        XCTAssertEqual(nobody.status, 1)
        XCTAssertEqual(nobody.output, "error: no coordinator answered at \(endpoint) within 0.2 s: is it running? "
                       + "If the run uses keys (`colony cluster up` makes them in <run directory>/keys), pass --keys DIR.\n")
    }

    func testCoordinatorExecutableSaysWhyItStoppedOnSIGTERM() throws {
        let coordinatorURL = try executable("colony-coordinator")
        let endpoint = try freeEndpoint()
        let coordinator = Process()
        coordinator.executableURL = coordinatorURL
        coordinator.arguments = ["--bind", endpoint]
        let log = Pipe()
        coordinator.standardError = log
        try coordinator.run()
        // Up (signal handlers installed) once it answers.
        XCTAssertTrue(eventually(timeout: 10) { (try? CoordinatorRequest.status(coordinator: endpoint, timeout: .milliseconds(200))) != nil })
        coordinator.terminate()  // SIGTERM
        coordinator.waitUntilExit()
        let said = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(coordinator.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("colony-coordinator stopped: SIGTERM"), said)
    }

    /// Flags obey the bounds the cluster file's keys have (`--envs 1000000000` once reached 6.8 GB).
    func testFlagsObeyTheClusterFilesBounds() throws {
        let worker = try run(try executable("colony-worker"), ["--config", "unread.toml", "--envs", "1000000000"])
        XCTAssertNotEqual(worker.status, 0)
        XCTAssertTrue(worker.output.contains("--envs must be in 1...4096, not 1000000000"), worker.output)
        let cluster = try run(try executable("colony"), ["cluster", "up", "unread.toml", "--workers", "100000"])
        XCTAssertNotEqual(cluster.status, 0)
        XCTAssertTrue(cluster.output.contains("--workers must be in 0...1024, not 100000"), cluster.output)
        let both = try run(try executable("colony"), ["cluster", "up", "unread.toml", "--keys", "k", "--insecure"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.output.contains("--keys and --insecure contradict each other"), both.output)
    }

    /// When the coordinator's exit ends a run, `colony cluster up` says so (it used to blame the learner).
    func testClusterUpNamesTheCoordinatorWhenItsExitEndsTheRun() throws {
        let colonyURL = try executable("colony")
        _ = try executable("colony-coordinator")
        // The coordinator's address is taken, so colony-coordinator exits at once with an error.
        let squatter = try ZMQSocket(ZMQContext(), .router)
        defer { squatter.close() }
        try squatter.bind("tcp://127.0.0.1:*")
        let endpoint = try squatter.lastEndpoint
        let directory = NSTemporaryDirectory() + "colony-launcher-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/impala.toml"
        try """
            algorithm = "impala"
            env = "CartPole-v1"
            runs_dir = "\(directory)/runs"

            [cluster]
            coordinator = "\(endpoint)"
            workers = 0
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run(colonyURL, ["cluster", "up", path])
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("the coordinator (colony-coordinator) exited with status"), result.output)
        XCTAssertFalse(result.output.contains("the learner exited"), result.output)
    }
}
