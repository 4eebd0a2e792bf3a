import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyNumerics
import ColonyTransport
import Foundation
import Synchronization

/// A rollout worker (`colony-worker`): steps N environments with batched inference on its copy of
/// the newest parameters, sends unrolls of T steps (IMPALA) or their A2C gradients (A3C) to the
/// learner, and reports finished episodes.
///
/// It finds the learner through the coordinator, so it can start at any moment; when the learner
/// goes silent (killed, restarted elsewhere) it asks the coordinator again and reconnects, keeping
/// its environments. Every start has a fresh run id (`WireSender.processRunID`) stamped on what it
/// sends, with the parameter version it acted with, so the learner can measure policy lag and tell
/// a restarted worker from an old one. All sockets belong to the thread that calls `run()`.
public final class WorkerRole: Sendable {
    public let settings: ClusterSettings
    public let index: Int
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .learnerUnreachable))

    /// How long without a credit or parameters before the learner counts as gone.
    public let learnerTimeout: Double
    /// Reads the run's settings again (its file, with the command line's overrides) when its held learner is released.
    private let reloadSettings: (@Sendable () throws -> ClusterSettings)?

    public init(settings: ClusterSettings, index: Int, learnerTimeout: Double = 5, logger: ClusterLogger = ClusterLogger(label: "worker"),
                reloadSettings: (@Sendable () throws -> ClusterSettings)? = nil) {
        self.settings = settings
        self.index = index
        self.learnerTimeout = learnerTimeout
        self.logger = logger
        self.reloadSettings = reloadSettings
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Runs until the coordinator orders shutdown or `stop()`; returns the frames it generated.
    @discardableResult
    public func run() throws -> Int {
        logger.logSlurmNode(of: "worker \(index)")
        var settings = self.settings
        // A3C's workers compute the loss: in a held member's cluster they take each interval's [agent] values too.
        let followsReleases = try settings.holdsAtTarget && settings.distributed.dataFlow == .gradients
        guard !followsReleases || reloadSettings != nil else {
            throw TrainingError("[cluster] hold_at_target: this \(settings.algorithm) worker cannot reread its cluster file to go on after a hold")
        }
        let lanes = try RolloutLane.make(settings: settings, index: index)
        // Frames travel as bytes (a quarter of Floats); the learner's schema expects what its space says.
        let observationsAsBytes = lanes[0].environments.observationSpace.storesAsBytes
        if lanes.count > 1 { logger.info("worker \(index): double-buffered, \(lanes.map(\.environments.count)) environments stepped in turn") }

        let session = WorkerSession(settings: settings, index: index, stats: { [self] in self.stats.withLock { $0 } }, logger: logger)
        defer { session.stop() }
        let (zmq, name, client) = (session.context, session.name, session.client)

        var sender = WireSender()
        var frames = 0
        var progress = WorkerProgress()
        var latencies: [Double] = []
        func stopping() -> Bool { session.stopping(requested: stopRequested.load(ordering: .relaxed)) }
        func setWaiting(_ waiting: WaitingOn?) {
            stats.withLock { $0.waitingOn = waiting }
        }

        // One connection to one learner; a lost learner ends it and the outer loop finds the next.
        connections: while !stopping() {
            setWaiting(.learnerUnreachable)
            guard let learner = try client.waitForLearner(timeout: .seconds(3))?.learner,
                  let dataEndpoint = learner.endpoints["data"], let parametersEndpoint = learner.endpoints["parameters"] else { continue }
            let link = try LearnerLink(context: zmq, data: dataEndpoint, parameters: parametersEndpoint, sender: &sender)
            logger.info("\(name) attached to learner \(learner.name) at \(dataEndpoint)")
            defer { link.close() }

            setWaiting(.noParameters)
            switch try link.awaitFirstParameters(expectedCount: lanes[0].agent.parameterCount, timeout: learnerTimeout, worker: name, logger: logger, stopping: stopping) {
            case .ready: break
            case .retry: continue connections
            case .stopped: break connections
            }
            if followsReleases { try LearnerHold.checkWorkerReachesRunDirectory(settings) }
            var actingVersion = link.version!
            for lane in lanes { lane.agent.setParameters(link.parameters!, version: actingVersion) }
            setWaiting(nil)

            /// Sends one of the actor's outputs once the learner has granted a credit.
            func deliver(_ output: ActorOutput) throws -> Delivery {
                let (type, tensors): (MessageType, [WireTensor])
                switch output {
                case .trajectory(let batch): (type, tensors) = (.trajectory, LearnerMessages.trajectoryTensors(batch, observationsAsBytes: observationsAsBytes))
                case .gradient(let gradient, let frames): (type, tensors) = (.gradient, [WireTensor(gradient), WireTensor([Int32(frames)])])
                }
                do {
                    let waited = Date().timeIntervalSince1970
                    var lastRequest = waited
                    while link.credits == 0 {
                        setWaiting(.backpressure)
                        if stopping() { return .stopping }
                        try link.poll(timeout: 50)
                        let now = Date().timeIntervalSince1970
                        // A learner that still publishes (once a second at least) is there, only not taking data now:
                        // busy, or holding at a population's boundary.
                        if now - max(waited, link.lastHeard) > learnerTimeout { return .learnerLost }
                        // A learner that restarted knows nothing of our credits: ask again once a second.
                        if link.credits == 0 && now - lastRequest >= 1 {
                            try link.requestCredits(&sender)
                            lastRequest = now
                        }
                    }
                    setWaiting(nil)
                    try link.send(sender.message(type, parameterVersion: UInt64(actingVersion), tensors: tensors))
                    return .sent
                } catch {
                    return .learnerLost
                }
            }

            var episodeReturns: [Double] = []
            var episodeLengths: [Int32] = []

            /// Before acting with a new parameter version: if the learner was released to its next interval, the
            /// settings it goes on with. It publishes a version only after reading the release, so every version
            /// from then on is acted on with the next interval's values.
            func releasedSettings() throws -> ClusterSettings? {
                guard followsReleases, let release = try LearnerHold.pendingRelease(in: settings.runDirectory), release.target > settings.frames
                else { return nil }
                return try LearnerHold.settings(after: release, current: settings, reread: try reloadSettings!(), exactTarget: false)
            }

            /// After a finished rollout: hand it to the learner, report episodes, take the newest
            /// parameters; true when the learner is lost.
            func handOver(_ outputs: [ActorOutput]) throws -> Bool {
                var lost = false
                for output in outputs where !lost && !stopping() {
                    lost = try deliver(output) == .learnerLost
                }
                if !episodeReturns.isEmpty {
                    try link.send(sender.message(.episodes, tensors: [WireTensor(episodeReturns), WireTensor(episodeLengths)]))
                    progress.record(returns: episodeReturns)
                    episodeReturns.removeAll()
                    episodeLengths.removeAll()
                }
                try link.poll(timeout: 0)
                // A release is followed before the parameters are taken: the interval's networks may have other shapes.
                if let version = link.version, version != actingVersion {
                    if let next = try releasedSettings() {
                        logger.info(LearnerHold.followed(worker: name, from: settings, to: next))
                        for lane in lanes {
                            for episode in try lane.restart(with: next, index: index) {
                                episodeReturns.append(episode.episodeReturn)
                                episodeLengths.append(Int32(episode.length))
                            }
                            frames += lane.environments.count
                        }
                        settings = next
                    }
                }
                if let version = link.version, version != actingVersion, let parameters = link.parameters,
                   parameters.count == lanes[0].agent.parameterCount {
                    actingVersion = version
                    for lane in lanes { lane.agent.setParameters(parameters, version: version) }
                    // From the learner publishing this version to this worker acting with it.
                    if let published = link.publishedAt { latencies.append(Date().timeIntervalSince1970 - published) }
                    if latencies.count > 1000 { latencies.removeFirst(latencies.count - 1000) }
                }
                let now = Date().timeIntervalSince1970
                if let (rate, mean) = progress.report(frames: frames, now: now) {
                    stats.withLock {
                        $0.framesPerSecond = rate
                        $0.meanReturn = mean
                        $0.policyLag = Double(link.newestSeenVersion - actingVersion)
                        $0.extra = [
                            "frames": Double(frames), "version": Double(actingVersion), "dropped": Double(link.drops.total),
                            "dropped_unrolls": Double(lanes.reduce(0) { $0 + $1.droppedUnrolls }),
                        ]
                        if !latencies.isEmpty {
                            let sorted = latencies.sorted()
                            $0.extra["parameter_latency_p50_ms"] = 1000 * sorted[sorted.count / 2]
                            $0.extra["parameter_latency_p99_ms"] = 1000 * sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
                        }
                    }
                }
                return lost
            }

            for lane in lanes { try lane.start() }
            var lost = false
            // The lanes take turns: while one lane's actor works, the other lane's hosts step.
            while !stopping() && !lost {
                for lane in lanes where !stopping() && !lost {
                    for episode in try lane.advance() {
                        episodeReturns.append(episode.episodeReturn)
                        episodeLengths.append(Int32(episode.length))
                    }
                    frames += lane.environments.count
                    let outputs = lane.agent.outputs.drain()
                    if !outputs.isEmpty { lost = try handOver(outputs) }
                }
            }
            if lost { logger.warning("\(name): the learner at \(dataEndpoint) stopped answering; finding it again") }
        }
        logger.info("\(name) stopped after \(frames) frames")
        return frames
    }
}

/// What became of an output the worker tried to send.
private enum Delivery {
    case sent
    /// The worker was asked to stop while it waited for a credit.
    case stopping
    /// No credit within the timeout, or the socket failed: find the learner again.
    case learnerLost
}

/// A worker's two sockets to one learner: a DEALER for data and credits, a SUB for parameters.
/// Owned by the worker's thread; `close()` ends both.
final class LearnerLink {
    private let data: ZMQSocket
    private let subscription: ZMQSocket
    let drops = DropCounter()
    private(set) var credits = 0
    private(set) var version: Int?
    private(set) var parameters: [Float]?
    private(set) var newestSeenVersion = 0
    /// When parameters last arrived (the learner publishes at least once a second).
    private(set) var lastHeard = Date().timeIntervalSince1970
    /// When the learner published the parameters in `parameters` (when it said).
    private(set) var publishedAt: Double?
    private let limits = LearnerMessages.workerLimits

    init(context: ZMQContext, data endpoint: String, parameters parametersEndpoint: String, sender: inout WireSender) throws {
        data = try ZMQSocket(context, .dealer)
        try data.setHighWaterMarks(send: 64, receive: 64)
        try data.setReconnectInterval(milliseconds: 100, maximum: 1000)
        try data.connect(endpoint)
        subscription = try ZMQSocket(context, .sub)
        try subscription.setHighWaterMarks(send: 4, receive: 4)
        try subscription.setMaximumMessageSize(bytes: Int64(limits.maximumMessageBytes))
        try subscription.subscribe()
        try subscription.connect(parametersEndpoint)
        try requestCredits(&sender)
    }

    func requestCredits(_ sender: inout WireSender) throws {
        try data.send(sender.message(.credit, tensors: [WireTensor([Int32(1)])]), dontWait: true)
    }

    func send(_ message: WireMessage) throws {
        if message.type == .trajectory || message.type == .gradient { credits -= 1 }
        try data.send(message)
    }

    /// Takes credits and the newest parameters that arrived within `timeout` ms.
    func poll(timeout: Int) throws {
        var poller = ZMQPoller()
        poller.add(data)
        poller.add(subscription)
        _ = try poller.poll(timeout: timeout)
        while let receipt = try data.receiveWire(limits: limits, dontWait: true, drops: drops) {
            if case .message(let message, _) = receipt, message.type == .credit {
                credits += Int(try message.tensors[0].int32s().first ?? 0)  // 1...1_000_000, checked on arrival
            }
        }
        // Parameters: latest version wins; older ones queued behind it are skipped undecoded (a fast
        // learner publishes many versions per rollout).
        var newest: WireMessage?
        while let receipt = try subscription.receiveWire(limits: limits, dontWait: true, drops: drops) {
            guard case .message(let message, _) = receipt, message.type == .parameters,
                  let received = Int(exactly: message.parameterVersion) else { continue }  // a version beyond Int.max is no learner's
            lastHeard = Date().timeIntervalSince1970
            newestSeenVersion = max(newestSeenVersion, received)
            if version == nil || received >= version! || message.runID != lastRunID {
                newest = message
                version = received
                lastRunID = message.runID
            }
        }
        if let newest {
            parameters = try newest.tensors[0].floats()
            publishedAt = newest.tensors.count > 1 ? try newest.tensors[1].doubles().first : nil
        }
    }

    private var lastRunID: UInt64 = 0

    func close() {
        data.close()
        subscription.close()
    }
}
