import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import Synchronization

/// What every learner process (`LearnerRole`, `ReplayLearnerRole`) sets up around its update loop:
/// the run directory's configuration file and TensorBoard writer, a ROUTER for worker data, a PUB for
/// parameters, its registration with the coordinator, and the record of the episodes workers report
/// (returns100.csv, TensorBoard, the recent mean). Owned by the learner's thread, sockets included.
final class LearnerHost {
    let board: TensorBoardWriter
    let returns100: ReturnsCSV
    /// Worker data: trajectories, gradients, episode reports, credit requests.
    let data: ZMQSocket
    let endpoints: [String: String]
    let client: CoordinatorClient
    /// The sockets' context, for any further socket the learner opens on its thread.
    let context = ZMQContext()
    private let parameters: ZMQSocket
    private let shutdown = ShutdownFlag()
    private var sender = WireSender()
    private(set) var recentReturns: [Double] = []
    private var lastPublish = 0.0

    /// Writes `config.toml`, opens TensorBoard, binds both sockets on `settings.host` and registers.
    init(settings: ClusterSettings, returns100: ReturnsCSV, frame: Int, stats: @escaping @Sendable () -> MemberStats, logger: ClusterLogger) throws {
        let directory = settings.runDirectory
        let configuration = settings.configuration.toml(annotated: true)
        try AtomicFile.write(
            "# effective configuration of the \(settings.algorithm) learner on \(settings.environment), seed \(settings.seed), \(settings.frames) frames\n"
                + configuration, to: directory.configuration)
        board = try TensorBoardWriter(directory: directory.path)
        board.text("config", "```\n" + configuration + "```", step: frame)
        self.returns100 = returns100

        let zmq = context
        data = try ZMQSocket(zmq, .router)
        try data.setRouterMandatory(false)
        try data.setHighWaterMarks(send: 1000, receive: 1000)
        try data.setMaximumMessageSize(bytes: Int64(LearnerMessages.learnerLimits.maximumMessageBytes))
        try data.bind("tcp://\(settings.host):*")
        parameters = try ZMQSocket(zmq, .pub)
        try parameters.setHighWaterMarks(send: 4, receive: 4)
        try parameters.bind("tcp://\(settings.host):*")
        endpoints = ["data": try data.lastEndpoint, "parameters": try parameters.lastEndpoint]

        let shutdown = self.shutdown
        client = CoordinatorClient(configuration: .init(
            coordinator: settings.coordinator,
            member: .thisProcess(role: .learner, name: "learner-\(settings.algorithm)", endpoints: endpoints),
            stats: stats,
            onShutdown: { _ in shutdown.set() },
            logger: ClusterLogger(label: "learner", level: logger.level, sink: logger.sink)), context: zmq)
        client.start()
    }

    var shutdownOrdered: Bool { shutdown.isSet }

    /// Publishes `values` as parameter `version`, stamped with the time (workers measure latency).
    func publish(_ values: [Float], version: Int) throws {
        let message = sender.message(
            .parameters, parameterVersion: UInt64(version), tensors: [WireTensor(values), WireTensor([Date().timeIntervalSince1970])])
        try parameters.send(message, dontWait: true)
        lastPublish = Date().timeIntervalSince1970
    }

    /// Publishes when nothing was published for a second: late joiners get parameters even while no update happens.
    func publishIfSilent(_ values: @autoclosure () -> [Float], version: Int) throws {
        if Date().timeIntervalSince1970 - lastPublish > 1 { try publish(values(), version: version) }
    }

    /// Sends a credit grant to one worker.
    func grantCredits(_ count: Int, to identity: FrameBuffer) throws {
        try data.send(sender.message(.credit, tensors: [WireTensor([Int32(count)])]), routingID: identity, dontWait: true)
    }

    /// Records the episodes of a validated `episodes` message at `frame`; returns how many there were.
    func recordEpisodes(_ message: WireMessage, frame: Int) throws -> Int {
        let returns = try message.tensors[0].doubles(), lengths = try message.tensors[1].int32s()
        for (episodeReturn, length) in zip(returns, lengths) {
            board.scalar("charts/episodic_return", episodeReturn, step: frame)
            board.scalar("charts/episodic_length", Double(length), step: frame)
            recentReturns.append(episodeReturn)
            if let row = try returns100.record(episodeReturn: episodeReturn, frame: frame) {
                for (name, value) in [("mean", row.mean), ("std", row.std), ("max", row.max), ("min", row.min)] {
                    board.scalar("summary/returns100/\(name)", value, step: frame)
                }
            }
        }
        if recentReturns.count > 100 { recentReturns.removeFirst(recentReturns.count - 100) }
        return returns.count
    }

    /// Mean of the last 100 reported episodes.
    var recentMeanReturn: Double? { recentReturns.isEmpty ? nil : recentReturns.reduce(0, +) / Double(recentReturns.count) }

    /// Writes status.json as running (at each checkpoint: `colony experiment status` reads it while a
    /// distributed cell runs).
    func recordProgress(_ counters: LearnerCounters, settings: ClusterSettings, testMeanReturn: Double? = nil) throws {
        try RunStatus(
            state: .running, frames: counters.frames, totalFrames: settings.frames, episodes: counters.episodes,
            lastMeanReturn: returns100.rows.last?.mean, testMeanReturn: testMeanReturn
        ).write(to: settings.runDirectory.status)
    }

    /// Writes status.json and, at the frame budget, asks the coordinator to end the run. (The owner's
    /// `defer { host.client.stop() }` unregisters.)
    func finish(_ counters: LearnerCounters, settings: ClusterSettings, reason: String, testMeanReturn: Double? = nil) throws {
        let done = counters.frames >= settings.frames
        try board.flush()
        try RunStatus(
            state: done ? .done : .running, frames: counters.frames, totalFrames: settings.frames, episodes: counters.episodes,
            lastMeanReturn: returns100.rows.last?.mean, testMeanReturn: testMeanReturn, message: reason
        ).write(to: settings.runDirectory.status)
        if done {
            client.requestShutdown(reason: reason)
            Thread.sleep(forTimeInterval: 0.5)  // let the request leave before the client closes
        }
    }
}

/// Set once, from the coordinator client's thread, when the coordinator orders shutdown.
final class ShutdownFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Frames and updates per second, measured over windows of at least a second.
struct ThroughputWindow {
    private var frames: Int
    private var updates: Int
    private var time = Date().timeIntervalSince1970

    init(_ counters: LearnerCounters) {
        frames = counters.frames
        updates = counters.updates
    }

    /// The rates since the window opened, once a second has passed (and a new window opens); nil before.
    mutating func close(_ counters: LearnerCounters) -> (framesPerSecond: Double, updatesPerSecond: Double)? {
        let now = Date().timeIntervalSince1970
        guard now - time >= 1 else { return nil }
        defer { (frames, updates, time) = (counters.frames, counters.updates, now) }
        return (Double(counters.frames - frames) / (now - time), Double(counters.updates - updates) / (now - time))
    }
}
