import ColonyExperiments
import ColonyTransport
import Foundation
import Synchronization

/// What both worker roles (`WorkerRole`, `ReplayWorkerRole`) set up around their loop: a ZeroMQ
/// context, registration with the coordinator under a name of their own, and the shutdown order.
/// Owned by the worker's thread; `stop()` unregisters.
final class WorkerSession {
    let context = ZMQContext()
    /// `worker-<index>-<pid>`: unique among restarts of the same index.
    let name: String
    let client: CoordinatorClient
    private let shutdown = ShutdownFlag()

    init(settings: ClusterSettings, index: Int, stats: @escaping @Sendable () -> MemberStats, logger: ClusterLogger) {
        name = "worker-\(index)-\(ProcessInfo.processInfo.processIdentifier)"
        let shutdown = self.shutdown
        client = CoordinatorClient(configuration: .init(
            coordinator: settings.coordinator, member: .thisProcess(role: .worker, name: name), stats: stats,
            onShutdown: { _ in shutdown.set() },
            logger: ClusterLogger(label: name, level: logger.level, sink: logger.sink)), context: context)
        client.start()
    }

    /// Whether to stop: `stop()` was asked for (`requested`), the coordinator ordered shutdown, or a signal came.
    func stopping(requested: Bool) -> Bool { requested || shutdown.isSet || StopSignal.requested != nil }

    func stop() { client.stop() }
}

extension LearnerLink {
    enum FirstParameters {
        /// `parameters` and `version` hold the learner's first publication, of the expected size.
        case ready
        /// Nothing in `timeout` seconds, or parameters of another size (another configuration): ask the coordinator again.
        case retry
        case stopped
    }

    /// Polls until the learner's first parameters arrive (it publishes at least once a second).
    func awaitFirstParameters(expectedCount: Int, timeout: Double, worker: String, logger: ClusterLogger, stopping: () -> Bool) throws -> FirstParameters {
        let start = Date().timeIntervalSince1970
        while version == nil {
            if stopping() { return .stopped }
            try poll(timeout: 100)
            if Date().timeIntervalSince1970 - start > timeout {
                logger.warning("\(worker): no parameters from the learner in \(timeout) s; asking the coordinator again")
                return .retry
            }
        }
        guard parameters!.count == expectedCount else {
            logger.error("\(worker): the learner publishes \(parameters!.count) parameters, this worker's networks have \(expectedCount): different configuration? retrying")
            Thread.sleep(forTimeInterval: 1)
            return .retry
        }
        return .ready
    }
}
