import ColonyCluster
import ColonyStorage
import ColonyTestSupport
import ColonyTransport
import Foundation
import XCTest

/// A test case that runs the real executables as processes: a fresh temporary directory per test,
/// every process it started killed at the end, and their output in log files for failure messages.
class ExecutableTestCase: XCTestCase {
    var directory: String!
    private(set) var processes: [Process] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-\(String(describing: type(of: self)))-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
    }

    override func tearDownWithError() throws {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An executable built next to the test binary; the test is skipped when there is none.
    func executable(_ name: String) throws -> String {
        guard let path = BuiltExecutable.path(name) else { throw XCTSkip("\(name) is not built next to the tests") }
        return path
    }

    /// Runs `name` to its end: exit status and output (stdout, then stderr).
    func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let outcome = try BuiltExecutable.run(name, arguments) else { throw XCTSkip("\(name) is not built next to the tests") }
        return (outcome.status, outcome.output + outcome.error)
    }

    /// A loopback endpoint that was free a moment ago.
    func freeEndpoint() throws -> String {
        let probe = try ZMQSocket(ZMQContext(), .router)
        defer { probe.close() }
        try probe.bind("tcp://127.0.0.1:*")
        return try probe.lastEndpoint
    }

    /// A loopback port p such that p...p + count − 1 were all free a moment ago, below Linux's ephemeral range (32768 and
    /// up), which outgoing connections draw from: a coordinator on port + slot must not meet another test's connection.
    func freePorts(_ count: Int) throws -> Int {
        for _ in 0..<100 {
            let base = Int.random(in: 20_000...(32_000 - count))
            let context = ZMQContext()
            var probes: [ZMQSocket] = []
            defer { probes.forEach { $0.close() } }
            do {
                for offset in 0..<count {
                    probes.append(try ZMQSocket(context, .router))
                    try probes[offset].bind("tcp://127.0.0.1:\(base + offset)")
                }
                return base
            } catch { continue }
        }
        throw XCTSkip("no \(count) consecutive free loopback ports in 20000...32000")
    }

    /// Starts `name` with its output in `log` (a path).
    @discardableResult
    func start(_ name: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable(name))
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.append(process)
        return process
    }

    /// The end of a log file in this test's directory, for failure messages.
    func logTail(_ name: String, characters: Int = 1500) -> String {
        let text = (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "(no \(name))"
        return "\n--- \(name):\n" + text.suffix(characters)
    }

    /// The coordinator's status; a loaded 2-core machine may miss one reply, so it asks up to 3 times.
    /// `keys`: the run's key directory, for a keyed run (`colony cluster up` makes its own).
    func status(_ coordinator: String, keys: String? = nil) -> ClusterStatus? {
        guard let context = try? ZMQContext(security: keys.map { try RunKeys(directory: $0).security() }) else { return nil }
        for _ in 0..<3 {
            if let status = try? CoordinatorRequest.status(coordinator: coordinator, context: context, timeout: .seconds(2)) { return status }
        }
        return nil
    }
}
