import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import Synchronization

/// The learner process (`colony-learner`): takes trajectories (IMPALA) or gradients (A3C) from any
/// number of workers, updates, publishes version-stamped parameters, and owns the run directory
/// exactly as `colony train` writes it.
///
/// Sockets (docs/wire.md): a ROUTER for worker data with credit-based flow control (each worker may
/// have `credits` messages in flight; a credit comes back when one is consumed, so a slow learner
/// slows the workers instead of queueing without bound) and a PUB for parameters ("latest wins").
/// Both are owned by the thread that calls `run()`.
///
/// The loop: receive → (IMPALA) batch `batch_unrolls` unrolls → V-trace update, or (A3C) apply each
/// gradient as it arrives → publish parameters → log episodes → checkpoint every N frames → at the
/// frame budget, checkpoint, ask the coordinator to shut the run down, return.
public final class LearnerRole: Sendable {
    public struct Result: Sendable {
        public var frames: Int
        public var updates: Int
        public var episodes: Int
        public var resumedFrom: Int?
        public var stopReason: String
    }

    public let settings: ClusterSettings
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .nothingToDo))
    private let boundEndpoints = Mutex<[String: String]>([:])

    public init(settings: ClusterSettings, logger: ClusterLogger = ClusterLogger(label: "learner")) {
        self.settings = settings
        self.logger = logger
    }

    /// Asks `run()` to checkpoint and return (from any thread).
    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// The data and parameter endpoints once bound.
    public var endpoints: [String: String] { boundEndpoints.withLock { $0 } }

    /// Runs the learner on the calling thread until the frame budget, a stop, or a shutdown order.
    public func run() throws -> Result {
        logger.logSlurmNode(of: "learner")
        let directory = settings.runDirectory
        try directory.create()
        let core = try LearnerCore(settings: settings)
        let returns100 = ReturnsCSV(path: directory.returns100)
        var counters = LearnerCounters()
        var resumedFrom: Int?
        if FileManager.default.fileExists(atPath: directory.latestCheckpoint) {
            try LearnerCheckpoint.load(core.networks, group: "networks", counters: &counters, returns100: returns100, settings: settings, from: directory.latestCheckpoint)
            resumedFrom = counters.frames
            logger.info("resuming from \(directory.latestCheckpoint) at frame \(counters.frames), parameter version \(counters.version)")
        }
        let host = try LearnerHost(settings: settings, returns100: returns100, frame: counters.frames,
                                   stats: { [self] in self.stats.withLock { $0 } }, logger: logger)
        defer { host.client.stop() }
        let endpoints = host.endpoints, data = host.data, board = host.board
        boundEndpoints.withLock { $0 = endpoints }
        logger.info("\(settings.algorithm) learner on \(settings.environment): data \(endpoints["data"]!), parameters \(endpoints["parameters"]!)")
        func publish() throws { try host.publish(core.parameters, version: counters.version) }
        try publish()

        let drops = DropCounter()
        let limits = LearnerMessages.learnerLimits
        var outstanding: [[UInt8]: Int] = [:]  // credits granted and not yet used, per worker identity
        var pending: [ValidatedTrajectory] = []
        var lags: [Double] = []
        var metrics = MetricAccumulator()
        var window = ThroughputWindow(counters)
        var nextCheckpoint = (counters.frames / settings.checkpointInterval + 1) * settings.checkpointInterval
        var stopReason = ""

        func grant(_ identity: FrameBuffer, _ count: Int) throws {
            guard count > 0 else { return }
            outstanding[identity.bytes, default: 0] += count
            try host.grantCredits(count, to: identity)
        }

        while true {
            if stopRequested.load(ordering: .relaxed) { stopReason = "stopped"; break }
            if let signal = StopSignal.requested { stopReason = "signal \(signal)"; break }
            if host.shutdownOrdered { stopReason = "the coordinator ordered shutdown"; break }
            if counters.frames >= settings.frames { stopReason = "frame budget of \(settings.frames) reached"; break }

            if try data.waitReadable(timeout: 50) {
                // Drain what is queued, then update: a batch of messages per wake-up.
                for _ in 0..<256 where counters.frames < settings.frames {
                    guard let receipt = try data.receiveWire(limits: limits, routed: true, dontWait: true, drops: drops) else { break }
                    guard case .message(let message, let routing) = receipt, let identity = routing else {
                        if case .dropped(let error, let sender, _) = receipt {
                            logger.warning("dropped a message from \(sender.map(formatID) ?? "an unknown sender"): \(error)")
                        }
                        continue
                    }
                    let key = identity.bytes
                    switch message.type {
                    case .credit:
                        // A (re)connecting worker: top it up to the window.
                        try grant(identity, settings.credits - min(settings.credits, outstanding[key] ?? 0))
                    case .episodes:
                        counters.episodes += try host.recordEpisodes(message, frame: counters.frames)
                    case .trajectory, .gradient:
                        outstanding[key] = max(0, (outstanding[key] ?? 1) - 1)
                        try grant(identity, 1)
                        let lag = counters.version - Int(message.parameterVersion)
                        guard lag >= 0, lag <= settings.maxPolicyLag else {
                            drops.record(.stale, sender: message.senderID)
                            logger.debug("dropped \(message.type) of version \(message.parameterVersion) (learner at \(counters.version), max lag \(settings.maxPolicyLag))")
                            continue
                        }
                        lags.append(Double(lag))
                        if message.type == .trajectory {
                            let batch: ValidatedTrajectory
                            do { batch = try core.validate(LearnerMessages.trajectory(message)) } catch {
                                drops.record(.schema, sender: message.senderID)
                                logger.warning("dropped a trajectory from \(formatID(message.senderID)): \(error)")
                                continue
                            }
                            counters.frames += batch.count
                            pending.append(batch)
                            if pending.count >= settings.batchUnrolls {
                                let grouped = Dictionary(grouping: pending) { $0.steps }
                                pending.removeAll()
                                for group in grouped.values {
                                    metrics.add(try core.learn(ValidatedTrajectory.concatenating(group)))
                                    counters.version += 1
                                    counters.updates += 1
                                }
                                try publish()
                            }
                        } else {
                            let gradient = try message.tensors[0].floats()
                            guard gradient.count == core.parameterCount else {
                                drops.record(.schema, sender: message.senderID)
                                continue
                            }
                            counters.frames += Int(try message.tensors[1].int32s()[0])
                            metrics.add(core.apply(gradient))
                            counters.version += 1
                            counters.updates += 1
                            try publish()
                        }
                    default:
                        drops.record(.unexpectedType, sender: message.senderID)
                    }
                }
            }

            try host.publishIfSilent(core.parameters, version: counters.version)
            if let (framesPerSecond, updatesPerSecond) = window.close(counters) {
                let lag = lags.isEmpty ? nil : lags.reduce(0, +) / Double(lags.count)
                lags.removeAll(keepingCapacity: true)
                stats.withLock {
                    $0 = MemberStats(
                        framesPerSecond: framesPerSecond, updatesPerSecond: updatesPerSecond, policyLag: lag, meanReturn: host.recentMeanReturn,
                        waitingOn: framesPerSecond == 0 ? .nothingToDo : nil,
                        extra: ["frames": Double(counters.frames), "frames_at": Date().timeIntervalSince1970,
                                "version": Double(counters.version), "dropped": Double(drops.total)])
                }
                board.scalar("charts/SPS", framesPerSecond, step: counters.frames)
                board.scalar("charts/updates_per_second", updatesPerSecond, step: counters.frames)
                if let lag { board.scalar("charts/policy_lag", lag, step: counters.frames) }
                metrics.write(to: board, step: counters.frames)
            }
            if counters.frames >= nextCheckpoint {
                try LearnerCheckpoint.save(core.networks, group: "networks", counters: counters, returns100: returns100, settings: settings, to: directory)
                try host.recordProgress(counters, settings: settings)
                try board.flush()
                nextCheckpoint += settings.checkpointInterval
            }
        }

        try LearnerCheckpoint.save(core.networks, group: "networks", counters: counters, returns100: returns100, settings: settings, to: directory)
        metrics.write(to: board, step: counters.frames)
        try host.finish(counters, settings: settings, reason: stopReason)
        if drops.total > 0 { logger.info("dropped messages: \(drops.snapshot())") }
        logger.info("learner stopped: \(stopReason) at frame \(counters.frames) after \(counters.updates) updates")
        return Result(frames: counters.frames, updates: counters.updates, episodes: counters.episodes, resumedFrom: resumedFrom, stopReason: stopReason)
    }
}

/// The learner's counters, saved with its networks.
struct LearnerCounters {
    var frames = 0
    var updates = 0
    var episodes = 0
    var version = 0
}

/// A learner's checkpoint: `checkpoints/latest.h5` (+ numbered, the last 3 kept), its learning state
/// under `group` (IMPALA/A3C: the networks with their optimizer state; replay-based: the whole
/// learner core), the counters and the current 100-episode window.
enum LearnerCheckpoint {
    static func save(_ state: any Checkpointable, group: String, counters: LearnerCounters, returns100: ReturnsCSV, settings: ClusterSettings, to directory: RunDirectory) throws {
        let numbered = directory.numberedCheckpoint(frame: counters.frames)
        try HDF5File.writeAtomically(numbered) { file in
            try file.setAttribute("format", "colony-learner-checkpoint")
            try file.setAttribute("version", Int64(1))
            try file.setAttribute("algorithm", settings.algorithm)
            try file.writeString(settings.configuration.toml(annotated: false), at: "config")
            let writer = CheckpointWriter(file: file)
            try state.save(to: writer.group(group))
            try writer.write([counters.frames, counters.updates, counters.episodes, counters.version], "counters")
            try writer.write(returns100.pendingReturns, "returns100_window")
        }
        try AtomicFile.replace(directory.latestCheckpoint) { try FileManager.default.copyItem(atPath: numbered, toPath: $0) }
        for old in directory.numberedCheckpoints().dropLast(3) { try? FileManager.default.removeItem(atPath: old) }
    }

    static func load(_ state: any Checkpointable, group: String, counters: inout LearnerCounters, returns100: ReturnsCSV, settings: ClusterSettings, from path: String) throws {
        let file = try HDF5File.open(path)
        guard (try? file.stringAttribute("format")) == "colony-learner-checkpoint" else {
            throw CheckpointError.notAColonyCheckpoint(path: path)
        }
        let algorithm = try file.stringAttribute("algorithm")
        guard algorithm == settings.algorithm else {
            throw CheckpointError.wrongAgent(path: path, expected: settings.algorithm, found: algorithm)
        }
        let reader = CheckpointReader(file: file)
        try state.restore(from: reader.group(group))
        let values = try reader.ints("counters")
        guard values.count == 4 else { throw CheckpointError.shapeMismatch(entry: "counters", expected: 4, found: values.count) }
        counters = LearnerCounters(frames: values[0], updates: values[1], episodes: values[2], version: values[3])
        returns100.pendingReturns = try reader.doubles("returns100_window")
        try returns100.truncate(afterFrame: counters.frames)
    }
}
