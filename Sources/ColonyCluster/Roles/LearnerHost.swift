import ColonyAgents
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import Synchronization

/// What every learner process (`LearnerRole`, `ReplayLearnerRole`) sets up around its update loop:
/// the run's `RunRecorder` (config.toml, TensorBoard, returns100.csv, status.json, checkpoints), a
/// ROUTER for worker data, a PUB for parameters and its registration with the coordinator. Owned by
/// the learner's thread, sockets included.
final class LearnerHost {
    /// The interval's recorder and settings: a learner that holds at its target starts a new one with the next
    /// interval's settings (`startInterval`), on the same sockets.
    private(set) var recorder: RunRecorder
    private(set) var settings: ClusterSettings
    /// Worker data: trajectories, gradients, episode reports, credit requests.
    let data: ZMQSocket
    let endpoints: [String: String]
    let client: CoordinatorClient
    /// The sockets' context, for any further socket the learner opens on its thread.
    let context = ZMQContext()
    /// Messages dropped on arrival, per sender and reason: logged at the end, in the member's
    /// heartbeat stats (`colony status`) and in status.json.
    let drops = DropCounter()
    private let parameters: ZMQSocket
    private let shutdown = ShutdownFlag()
    private var sender = WireSender()
    private var lastPublish = 0.0

    /// Opens the run's recorder at the (resumed) `counters`, binds both sockets on `settings.host` and registers.
    init(settings: ClusterSettings, returns100: ReturnsCSV, counters: LearnerCounters, stats: @escaping @Sendable () -> MemberStats, logger: ClusterLogger) throws {
        self.settings = settings
        recorder = try Self.recorder(settings: settings, returns100: returns100, counters: counters)

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
        let drops = self.drops
        recorder.droppedMessages = { drops.byReason() }
    }

    /// config.toml, TensorBoard and status.json for a run of `settings` starting at `counters`, with the values it
    /// trains with as hyperparameter scalars (a population member's change from one interval to the next).
    private static func recorder(settings: ClusterSettings, returns100: ReturnsCSV, counters: LearnerCounters) throws -> RunRecorder {
        let recorder = try RunRecorder(
            directory: settings.runDirectory, returns100: returns100,
            header: "# effective configuration of the \(settings.algorithm) learner on \(settings.environment), seed \(settings.seed), \(settings.frames) frames\n",
            configuration: settings.configuration.toml(annotated: true), totalFrames: settings.frames,
            checkpointInterval: settings.checkpointInterval, keepCheckpoints: settings.keepCheckpoints,
            frames: counters.frames, updates: counters.updates)
        recorder.recordHyperparameters(settings.configuration, frame: counters.frames)
        return recorder
    }

    /// Records the next interval of a learner that held at its target, trained with `settings` from `counters` on.
    func startInterval(settings: ClusterSettings, returns100: ReturnsCSV, counters: LearnerCounters) throws {
        try recorder.flush()
        recorder = try Self.recorder(settings: settings, returns100: returns100, counters: counters)
        self.settings = settings
        let drops = self.drops
        recorder.droppedMessages = { drops.byReason() }
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
            try recorder.recordEpisode(return: episodeReturn, length: Int(length), frame: frame)
        }
        return returns.count
    }

    /// Why the loop should stop now, if it should: `requested` by the owner, a signal, the
    /// coordinator's shutdown order, or the frame budget.
    func stopReason(_ counters: LearnerCounters, requested: Bool) -> StopReason? {
        recorder.stopReason(frames: counters.frames, requested: requested, shutdownOrdered: shutdownOrdered)
    }

    /// Writes a learner checkpoint of `state` under `group` (and status.json as running: `colony
    /// experiment status` reads it while a distributed cell runs).
    func checkpoint(_ state: any Checkpointable, group: String, counters: LearnerCounters, testMeanReturn: Double? = nil) throws {
        try recorder.checkpoint(frames: counters.frames, episodes: counters.episodes, testMeanReturn: testMeanReturn) { path in
            try LearnerCheckpoint.save(state, group: group, counters: counters, returns100: recorder.returns100, settings: settings, to: path)
        }
    }

    /// Checkpoints when `counters.frames` has reached the next checkpoint.
    func checkpointIfDue(_ state: any Checkpointable, group: String, counters: LearnerCounters, testMeanReturn: @autoclosure () -> Double? = nil) throws {
        if recorder.isCheckpointDue(frames: counters.frames) { try checkpoint(state, group: group, counters: counters, testMeanReturn: testMeanReturn()) }
    }

    /// Holds at the interval's frame target (`[cluster] hold_at_target`): a checkpoint, the pending metrics, status.json
    /// as running, then `hold.json`, which tells the population the checkpoint is there to evaluate.
    func hold(_ state: any Checkpointable, group: String, counters: LearnerCounters) throws {
        try checkpoint(state, group: group, counters: counters)
        recorder.writeMetrics(step: counters.frames)
        try recorder.flush()
        try recorder.writeStatus(.running, frames: counters.frames, episodes: counters.episodes, lastMeanReturn: recorder.lastMeanReturn,
                                 message: "holding at frame \(counters.frames) for the next interval")
        try LearnerHold.recordHeld(.init(frames: counters.frames, target: settings.frames, version: counters.version), in: settings.runDirectory)
    }

    /// Ends the run: a last checkpoint, the pending metrics, status.json (done at the frame budget,
    /// with the reason) and, at the frame budget, the request that the coordinator end the run. (The
    /// owner's `defer { host.client.stop() }` unregisters.)
    func finish(_ state: any Checkpointable, group: String, counters: LearnerCounters, reason: StopReason, resumedFrom: Int?,
                logger: ClusterLogger, testMeanReturn: Double? = nil) throws -> LearnerRole.Result {
        try checkpoint(state, group: group, counters: counters, testMeanReturn: testMeanReturn)
        recorder.writeMetrics(step: counters.frames)
        try recorder.flush()
        let done = counters.frames >= settings.frames
        try recorder.writeStatus(
            done ? .done : .running, frames: counters.frames, episodes: counters.episodes, lastMeanReturn: recorder.lastMeanReturn,
            testMeanReturn: testMeanReturn, message: reason.description)
        if done {
            client.requestShutdown(reason: reason.description)
            Thread.sleep(forTimeInterval: 0.5)  // let the request leave before the client closes
        }
        if drops.total > 0 { logger.info("dropped messages: \(drops.snapshot())") }
        logger.info("learner stopped: \(reason) at frame \(counters.frames) after \(counters.updates) updates")
        return LearnerRole.Result(frames: counters.frames, updates: counters.updates, episodes: counters.episodes,
                                  resumedFrom: resumedFrom, stopReason: reason.description)
    }
}

/// Set once, from the coordinator client's thread, when the coordinator orders shutdown.
final class ShutdownFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}
