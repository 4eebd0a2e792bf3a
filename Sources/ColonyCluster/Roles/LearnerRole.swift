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
/// frame budget, checkpoint, ask the coordinator to shut the run down, return. With `[cluster] hold_at_target` (a
/// population member's cluster, which stays up across boundaries) it checkpoints at the target instead and holds,
/// its workers attached, until `LearnerHold` releases it: then it rereads its file, resumes `latest.h5` (the donor's,
/// after an exploit) with the next interval's configuration and publishes that as a new parameter version.
public final class LearnerRole: Sendable {
    public struct Result: Sendable {
        public var frames: Int
        public var updates: Int
        public var episodes: Int
        public var resumedFrom: Int?
        public var stopReason: String
    }

    public let settings: ClusterSettings
    /// Reads the run's settings again (its file, with the command line's overrides) when a hold is released.
    private let reloadSettings: (@Sendable () throws -> ClusterSettings)?
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .nothingToDo))
    private let boundEndpoints = Mutex<[String: String]>([:])

    public init(settings: ClusterSettings, logger: ClusterLogger = ClusterLogger(label: "learner"),
                reloadSettings: (@Sendable () throws -> ClusterSettings)? = nil) {
        self.settings = settings
        self.logger = logger
        self.reloadSettings = reloadSettings
    }

    /// Asks `run()` to checkpoint and return (from any thread).
    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// The data and parameter endpoints once bound.
    public var endpoints: [String: String] { boundEndpoints.withLock { $0 } }

    /// Runs the learner on the calling thread until the frame budget, a stop, or a shutdown order.
    public func run() throws -> Result {
        logger.logSlurmNode(of: "learner")
        var settings = self.settings
        guard !settings.holdsAtTarget || reloadSettings != nil else {
            throw TrainingError("[cluster] hold_at_target: this learner cannot reread its cluster file to go on after a hold")
        }
        let directory = settings.runDirectory
        let lock = try RunDirectoryLock(directory)  // one learner per run directory, until this returns
        defer { withExtendedLifetime(lock) {} }
        try directory.create()
        var core = try LearnerCore(settings: settings)
        let returns100 = ReturnsCSV(path: directory.returns100)
        var counters = LearnerCounters()
        let resumedFrom = try LearnerCheckpoint.resume(core.networks, group: LearnerCheckpoint.group(of: settings), counters: &counters, returns100: returns100, settings: settings, logger: logger)
        let host = try LearnerHost(settings: settings, returns100: returns100, counters: counters,
                                   stats: { [self] in self.stats.withLock { $0 } }, logger: logger)
        defer { host.client.stop() }
        let endpoints = host.endpoints, data = host.data
        var recorder = host.recorder
        boundEndpoints.withLock { $0 = endpoints }
        logger.info("\(settings.algorithm) learner on \(settings.environment): data \(endpoints["data"]!), parameters \(endpoints["parameters"]!)")
        func publish() throws { try host.publish(core.parameters, version: counters.version) }
        try publish()

        let drops = host.drops
        // Every message is checked against this run's spaces and bounds as it arrives (docs/wire.md, "Meaning").
        var limits = try LearnerInputBounds(settings: settings, parameterCount: core.parameterCount).limits
        var outstanding: [[UInt8]: Int] = [:]  // credits granted and not yet used, per worker identity
        var pending: [ValidatedTrajectory] = []
        var lags: [Double] = []
        var stopReason: StopReason
        // Data stamped before the version a released hold published came from the policy before the boundary.
        var releasedVersion = 0

        func grant(_ identity: FrameBuffer, _ count: Int) throws {
            guard count > 0 else { return }
            // One entry per connection that ever asked: forget the idle ones before the map grows without bound.
            if outstanding[identity.bytes] == nil, outstanding.count >= Self.maximumTrackedWorkers {
                outstanding = outstanding.filter { $0.value > 0 }
                guard outstanding.count < Self.maximumTrackedWorkers else { return }
            }
            outstanding[identity.bytes, default: 0] += count
            try host.grantCredits(count, to: identity)
        }

        while true {
            if let reason = host.stopReason(counters, requested: stopRequested.load(ordering: .relaxed)) {
                guard settings.holdsAtTarget, case .frameBudget = reason else { stopReason = reason; break }
                switch try host.holdUntilReleased(core.networks, group: LearnerCheckpoint.group(of: settings), counters: counters,
                                                  parameters: core.parameters, stopRequested: { stopRequested.load(ordering: .relaxed) },
                                                  reread: reloadSettings!, logger: logger) {
                case .stopped(let reason):
                    return Result(frames: counters.frames, updates: counters.updates, episodes: counters.episodes, resumedFrom: resumedFrom,
                                  stopReason: reason.description)
                case .released(let next):
                    let heldVersion = counters.version
                    let changes = LearnerHold.changedAgentValues(from: settings, to: next)
                    settings = next
                    core = try LearnerCore(settings: settings)
                    counters = LearnerCounters()
                    _ = try LearnerCheckpoint.resume(core.networks, group: LearnerCheckpoint.group(of: settings), counters: &counters,
                                                     returns100: returns100, settings: settings, logger: logger)
                    // The workers hold the version published before the boundary: the next one must supersede it, even
                    // when a donor's checkpoint counted fewer.
                    counters.version = max(counters.version, heldVersion) + 1
                    releasedVersion = counters.version
                    pending.removeAll(keepingCapacity: true)
                    lags.removeAll(keepingCapacity: true)
                    limits = try LearnerInputBounds(settings: settings, parameterCount: core.parameterCount).limits
                    try host.startInterval(settings: settings, returns100: returns100, counters: counters)
                    recorder = host.recorder
                    logger.info("released to frame \(settings.frames): publishing parameter version \(counters.version)"
                                + (changes.isEmpty ? "" : "; [agent] \(changes.joined(separator: ", "))"))
                    try publish()
                    continue
                }
            }

            if try data.waitReadable(timeout: 50) {
                // Drain what is queued, then update: a batch of messages per wake-up.
                for _ in 0..<256 where counters.frames < settings.frames {
                    guard let receipt = try data.receiveWire(limits: limits, routed: true, dontWait: true, drops: drops) else { break }
                    guard case .message(let message, let routing) = receipt, let identity = routing else {
                        if case .dropped(let error, let sender, let routing) = receipt {
                            logger.warning("dropped a message from \(sender.map(formatID) ?? "an unknown sender"): \(error)")
                            // A refused unroll or gradient (an A3C gradient of the shapes before a release changed
                            // hidden_sizes, say) spent one of its worker's credits: give it back, or the worker waits
                            // for a credit forever. Only a credit outstanding is returned, so the window still holds.
                            if let routing, let owed = outstanding[routing.bytes], owed > 0 {
                                outstanding[routing.bytes] = owed - 1
                                try grant(routing, 1)
                            }
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
                        // Compared as sent (UInt64): a stamp beyond Int.max must not trap.
                        guard message.parameterVersion <= UInt64(counters.version) else {
                            drops.record(.futureVersion, sender: message.senderID)
                            logger.warning("dropped \(message.type) of version \(message.parameterVersion) from \(formatID(message.senderID)): the learner is at \(counters.version)")
                            continue
                        }
                        let lag = counters.version - Int(message.parameterVersion)
                        guard lag <= settings.maxPolicyLag else {
                            drops.record(.stale, sender: message.senderID)
                            logger.debug("dropped \(message.type) of version \(message.parameterVersion) (learner at \(counters.version), max lag \(settings.maxPolicyLag))")
                            continue
                        }
                        guard message.parameterVersion >= UInt64(releasedVersion) else {
                            drops.record(.stale, sender: message.senderID)
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
                                recorder.add(try core.learn(pending))
                                pending.removeAll(keepingCapacity: true)
                                counters.version += 1
                                counters.updates += 1
                                try publish()
                            }
                        } else {
                            let gradient = try message.tensors[0].floats()
                            guard gradient.count == core.parameterCount else {
                                drops.record(.schema, sender: message.senderID)
                                continue
                            }
                            guard let info = try? core.apply(gradient) else {
                                drops.record(.unexpectedType, sender: message.senderID)  // unreachable: the limits take only this flow's type
                                continue
                            }
                            counters.frames += Int(try message.tensors[1].int32s().first ?? 0)  // 1...bound, checked on arrival
                            recorder.add(info)
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
            if let rates = recorder.closeThroughputWindow(frames: counters.frames, updates: counters.updates) {
                let lag = lags.isEmpty ? nil : lags.reduce(0, +) / Double(lags.count)
                lags.removeAll(keepingCapacity: true)
                stats.withLock {
                    $0 = MemberStats(
                        framesPerSecond: rates.framesPerSecond, updatesPerSecond: rates.updatesPerSecond, policyLag: lag,
                        meanReturn: recorder.recentMeanReturn, waitingOn: rates.framesPerSecond == 0 ? .nothingToDo : nil,
                        extra: ["frames": Double(counters.frames), "frames_at": Date().timeIntervalSince1970,
                                "version": Double(counters.version), "dropped": Double(drops.total)].merging(drops.statusFigures) { $1 })
                }
                if let lag { recorder.board.scalar("charts/policy_lag", lag, step: counters.frames) }
            }
            try host.checkpointIfDue(core.networks, group: "networks", counters: counters)
        }
        return try host.finish(core.networks, group: "networks", counters: counters, reason: stopReason, resumedFrom: resumedFrom, logger: logger)
    }
}

extension LearnerRole {
    /// Worker connections whose credits the learner tracks; idle ones are forgotten beyond this.
    static let maximumTrackedWorkers = 4096
}

/// The learner's counters, saved with its networks.
struct LearnerCounters {
    var frames = 0
    var updates = 0
    var episodes = 0
    var version = 0
}
