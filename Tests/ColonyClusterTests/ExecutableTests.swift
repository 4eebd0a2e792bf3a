import ColonyCluster
import ColonyTransport
import Foundation
import XCTest

/// The thin mains, as a person runs them: `colony-coordinator` and `colony status` (skipped when the
/// executables were not built next to the tests).
final class ExecutableTests: XCTestCase {
    private func executable(_ name: String) throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw XCTSkip("\(name) is not built next to the tests")
    }

    private func run(_ url: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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
        XCTAssertEqual(nobody.output, "error: no coordinator answered at \(endpoint) within 0.2 s: is it running?\n")
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
}
