import ColonyCluster
import ColonyTransport
import Foundation
import Synchronization
import XCTest

/// One test body, two transports (Hummingbird's habit): every coordinator test runs over inproc:// and tcp://.
enum TestTransport: String, CaseIterable {
    case inproc, tcp

    /// A fresh endpoint to bind: a unique inproc name, or any free loopback port.
    func bindEndpoint() -> String {
        switch self {
        case .inproc: "inproc://coordinator-\(UUID().uuidString)"
        case .tcp: "tcp://127.0.0.1:*"
        }
    }
}

/// Heartbeats every 50 ms: the drop after three silent intervals takes 150 ms.
let testInterval: Duration = .milliseconds(50)

/// Log lines kept for assertions.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    func logger(_ label: String, level: LogLevel = .debug) -> ClusterLogger {
        ClusterLogger(label: label, level: level) { [self] line in lines.withLock { $0.append(line) } }
    }

    var all: [String] { lines.withLock { $0 } }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

/// A coordinator, its members and their shared context; everything is stopped at the end of the test.
final class Cluster {
    let transport: TestTransport
    let context = ZMQContext()
    let logs = LogCapture()
    private(set) var coordinator: Coordinator!
    private(set) var endpoint = ""
    private var clients: [CoordinatorClient] = []
    private var coordinators: [Coordinator] = []

    init(_ transport: TestTransport) throws {
        self.transport = transport
        try startCoordinator(at: transport.bindEndpoint())
    }

    /// Starts a (new) coordinator at `bindEndpoint`; members keep the old `endpoint` to reconnect to.
    @discardableResult
    func startCoordinator(at bindEndpoint: String) throws -> Coordinator {
        let coordinator = Coordinator(configuration: .init(endpoint: bindEndpoint, heartbeatInterval: testInterval,
                                                           logger: logs.logger("coordinator")), context: context)
        try coordinator.start()
        self.coordinator = coordinator
        coordinators.append(coordinator)
        endpoint = coordinator.boundEndpoint!.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
        return coordinator
    }

    func client(_ role: MemberRole, _ name: String, endpoints: [String: String] = [:],
                stats: @escaping @Sendable () -> MemberStats = { MemberStats() },
                onShutdown: (@Sendable (String) -> Void)? = nil, start: Bool = true) -> CoordinatorClient {
        let client = CoordinatorClient(configuration: .init(
            coordinator: endpoint, member: .thisProcess(role: role, name: name, endpoints: endpoints),
            heartbeatInterval: testInterval, stats: stats, onShutdown: onShutdown, logger: logs.logger(name)), context: context)
        clients.append(client)
        if start { client.start() }
        return client
    }

    deinit {
        for client in clients { client.stop() }
        for coordinator in coordinators { coordinator.stop() }
    }
}

/// Polls `condition` every 5 ms until it holds (true) or `timeout` passes (false).
func eventually(timeout: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return try condition()
}

/// A value shared between a test and the closures it hands to clients.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func update(_ body: (inout Value) -> Void) { value.withLock { body(&$0) } }
}
