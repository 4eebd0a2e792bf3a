import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import Synchronization

/// The learner of a replay-based run (`apex_dqn`, `apex_sac`; `colony-learner` picks it from the
/// cluster file): samples batches from `colony-replay`, updates, sends new priorities back, publishes
/// parameters every `publish_every` updates, and owns the run directory as `colony train` writes it
/// (returns100.csv from the episodes that workers report, TensorBoard, HDF5 checkpoints), plus
/// `returns-eval.csv`: its evaluation policy's mean return every `eval_every` frames.
///
/// Two sample requests are kept in flight, so the next batch travels while this one trains; the
/// replay server's rate limiter holds them until workers have inserted enough (samples per insert),
/// which is what paces learning against acting. Frames are what workers report with their episodes.
/// Sockets: a ROUTER for worker reports, a PUB for parameters, a DEALER to the replay server, all
/// owned by the thread that calls `run()`. With `[cluster] hold_at_target` (a population member's cluster, which stays
/// up across boundaries) it checkpoints at the target and holds; its replay server writes its table there too
/// (`ReplayHold`). At the release it resumes `latest.h5` (the donor's, after an exploit) with the next interval's
/// configuration once the server has reloaded `replay.h5` (the donor's table, after an exploit), samples on a new
/// connection and publishes a new parameter version.
public final class ReplayLearnerRole: Sendable {
    public let settings: ClusterSettings
    /// Reads the run's settings again (its file, with the command line's overrides) when a hold is released.
    private let reloadSettings: (@Sendable () throws -> ClusterSettings)?
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .nothingToDo))
    private let boundEndpoints = Mutex<[String: String]>([:])
    /// Sample requests kept in flight.
    static let samplePipelineDepth = 2

    public init(settings: ClusterSettings, logger: ClusterLogger = ClusterLogger(label: "learner"),
                reloadSettings: (@Sendable () throws -> ClusterSettings)? = nil) {
        precondition(settings.replay != nil, "ReplayLearnerRole needs a replay-based cluster file")
        self.settings = settings
        self.logger = logger
        self.reloadSettings = reloadSettings
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    public var endpoints: [String: String] { boundEndpoints.withLock { $0 } }

    public func run() throws -> LearnerRole.Result {
        logger.logSlurmNode(of: "learner")
        var settings = self.settings
        guard !settings.holdsAtTarget || reloadSettings != nil else {
            throw TrainingError("[cluster] hold_at_target: this learner cannot reread its cluster file to go on after a hold")
        }
        var replaySettings = settings.replay!
        let directory = settings.runDirectory
        let lock = try RunDirectoryLock(directory)  // one learner per run directory, until this returns
        defer { withExtendedLifetime(lock) {} }
        try directory.create()
        var core = try settings.makeReplayLearner()
        let returns100 = ReturnsCSV(path: directory.returns100)
        let evaluations = EvaluationLog(path: directory.path + "/returns-eval.csv")
        var counters = LearnerCounters()
        let resumedFrom = try LearnerCheckpoint.resume(core, group: LearnerCheckpoint.group(of: settings), counters: &counters, returns100: returns100, settings: settings, logger: logger)
        if resumedFrom != nil { try evaluations.truncate(afterFrame: counters.frames) }
        let host = try LearnerHost(settings: settings, returns100: returns100, counters: counters,
                                   stats: { [self] in self.stats.withLock { $0 } }, logger: logger)
        defer { host.client.stop() }
        let endpoints = host.endpoints, data = host.data, client = host.client
        var recorder = host.recorder
        boundEndpoints.withLock { $0 = endpoints }
        logger.info("\(settings.algorithm) learner on \(settings.environment): data \(endpoints["data"]!), parameters \(endpoints["parameters"]!), "
            + "batches of \(core.batchSize), \(replaySettings.table.rateLimiter)")
        func publish() throws { try host.publish(core.actingParameters, version: counters.version) }
        try publish()
        let zmq = host.context

        let drops = host.drops
        // Worker reports are checked against this run's bounds as they arrive (docs/wire.md, "Meaning").
        let inputBounds = try LearnerInputBounds(settings: settings, parameterCount: core.parameterCount)
        let limits = inputBounds.limits
        let sampled = SampledTransitionFilter(bounds: inputBounds.values, layout: replaySettings.layout)
        func evaluationAfter(_ frames: Int) -> Int {
            replaySettings.evaluationInterval > 0 ? (frames / replaySettings.evaluationInterval + 1) * replaySettings.evaluationInterval : Int.max
        }
        var nextEvaluation = evaluationAfter(counters.frames)
        var replay: ReplayConnection?
        var stopReason: StopReason

        func evaluate() throws {
            let returns = try PolicyEvaluation.returns(
                environment: settings.environmentSettings, episodes: replaySettings.evaluationEpisodes, seed: settings.seed &+ 1_000_003
            ) { core.evaluationActions($0, count: $1) }
            let row = ReturnsCSV.Row(frame: counters.frames, returns: returns)
            try evaluations.append(row)
            recorder.board.scalar("eval/mean_return", row.mean, step: counters.frames)
            logger.info(String(format: "evaluation at frame %d: %.1f ± %.1f over %d episodes", counters.frames, row.mean,
                               row.std / Double(returns.count).squareRoot(), returns.count))
        }

        // Worker reports: episodes and the frames they stepped.
        func receiveReports(timeout: Int) throws {
            guard try data.waitReadable(timeout: timeout) else { return }
            for _ in 0..<256 {
                guard let receipt = try data.receiveWire(limits: limits, routed: true, dontWait: true, drops: drops) else { break }
                guard case .message(let message, _) = receipt else {
                    if case .dropped(let error, let sender, _) = receipt {
                        logger.warning("dropped a message from \(sender.map(formatID) ?? "an unknown sender"): \(error)")
                    }
                    continue
                }
                switch message.type {
                case .episodes:
                    counters.frames += LearnerMessages.reportedFrames(message)
                    counters.episodes += try host.recordEpisodes(message, frame: counters.frames)
                case .credit:
                    break  // a worker's link asks for credits; here the replay server's rate limiter paces workers
                default:
                    drops.record(.unexpectedType, sender: message.senderID)
                }
            }
        }

        while true {
            if let reason = host.stopReason(counters, requested: stopRequested.load(ordering: .relaxed)) {
                guard settings.holdsAtTarget, case .frameBudget = reason else { stopReason = reason; break }
                switch try host.holdUntilReleased(core, group: LearnerCheckpoint.group(of: settings), counters: counters,
                                                  parameters: core.actingParameters, stopRequested: { stopRequested.load(ordering: .relaxed) },
                                                  reread: reloadSettings!, logger: logger,
                                                  ready: { ReplayHold.isReleased(to: $0.frames, in: $0.runDirectory) }) {
                case .stopped(let reason):
                    return LearnerRole.Result(frames: counters.frames, updates: counters.updates, episodes: counters.episodes,
                                              resumedFrom: resumedFrom, stopReason: reason.description)
                case .released(let next):
                    let heldVersion = counters.version
                    let changes = LearnerHold.changedAgentValues(from: settings, to: next)
                    settings = next
                    replaySettings = settings.replay!
                    core = try settings.makeReplayLearner()
                    counters = LearnerCounters()
                    _ = try LearnerCheckpoint.resume(core, group: LearnerCheckpoint.group(of: settings), counters: &counters,
                                                     returns100: returns100, settings: settings, logger: logger)
                    try evaluations.truncate(afterFrame: counters.frames)
                    nextEvaluation = evaluationAfter(counters.frames)
                    // Its workers hold the version published before the boundary: the next one must supersede it.
                    counters.version = max(counters.version, heldVersion) + 1
                    try host.startInterval(settings: settings, returns100: returns100, counters: counters)
                    recorder = host.recorder
                    // The server dropped the sample requests from before the boundary: ask again on a new connection.
                    replay = nil
                    logger.info("released to frame \(settings.frames): publishing parameter version \(counters.version)"
                                + (changes.isEmpty ? "" : "; [agent] \(changes.joined(separator: ", "))"))
                    try publish()
                    continue
                }
            }

            // (Re)connect to the replay server the coordinator names.
            if replay == nil {
                guard let endpoint = try client.discover(timeout: .seconds(1))?.replay?.endpoints["replay"] else {
                    stats.withLock { $0.waitingOn = "replay server unreachable" }
                    try receiveReports(timeout: 200)
                    continue
                }
                replay = try ReplayConnection(endpoint: endpoint, context: zmq)
                logger.info("sampling from the replay server at \(endpoint)")
            }
            let connection = replay!
            while connection.client.outstandingSamples < Self.samplePipelineDepth {
                try connection.client.requestSample(core.batchSize, beta: core.importanceExponent(atFrame: counters.frames))
            }

            try receiveReports(timeout: 0)
            if let sample = try connection.client.receiveSample(timeout: 20) {
                connection.lastReply = Date().timeIntervalSince1970
                // Ask for the next batch before training on this one.
                try connection.client.requestSample(core.batchSize, beta: core.importanceExponent(atFrame: counters.frames))
                // Items from the table are checked again: a checkpoint or a server of another run may hold what no insert check saw.
                let checked = sampled.filter(sample)
                if checked.rejected > 0 {
                    for _ in 0..<checked.rejected { drops.record(.outOfRange, sender: nil) }
                    logger.warning("the replay server sent \(checked.rejected) transitions outside this run's bounds (\(checked.problem ?? "")); skipped, their priorities set to 0")
                    if !checked.rejectedKeys.isEmpty {
                        try connection.client.updatePriorities(keys: checked.rejectedKeys, priorities: [Float](repeating: 0, count: checked.rejectedKeys.count))
                    }
                }
                guard !checked.keys.isEmpty else { continue }
                let batch = replaySettings.layout.batch(checked.payloads, weights: checked.weights)
                let (info, priorities) = core.learn(batch)
                if let priorities, priorities.count == checked.keys.count {
                    try connection.client.updatePriorities(keys: checked.keys, priorities: priorities)
                }
                recorder.add(info)
                counters.updates += 1
                counters.version += 1
                if counters.updates % replaySettings.publishEvery == 0 {
                    try publish()
                }
            } else if Date().timeIntervalSince1970 - connection.lastReply > 10 {
                // Held by the rate limiter (workers slow or gone), or the server restarted elsewhere.
                let named = try client.discover(timeout: .seconds(1))?.replay?.endpoints["replay"]
                if let named, named != connection.endpoint {
                    logger.warning("the replay server moved to \(named); reconnecting")
                    replay = nil
                    continue
                }
                connection.lastReply = Date().timeIntervalSince1970
            }

            try host.publishIfSilent(core.actingParameters, version: counters.version)
            if let rates = recorder.closeThroughputWindow(frames: counters.frames, updates: counters.updates) {
                var extra = ["frames": Double(counters.frames), "frames_at": Date().timeIntervalSince1970, "version": Double(counters.version), "dropped": Double(drops.total)]
                    .merging(drops.statusFigures) { $1 }
                if let last = evaluations.rows.last { extra["eval_mean_return"] = last.mean }
                stats.withLock {
                    $0 = MemberStats(
                        framesPerSecond: rates.framesPerSecond, updatesPerSecond: rates.updatesPerSecond, meanReturn: recorder.recentMeanReturn,
                        waitingOn: rates.updatesPerSecond == 0 ? .rateLimiter : nil, extra: extra)
                }
            }
            if counters.frames >= nextEvaluation {
                try evaluate()
                nextEvaluation = evaluationAfter(counters.frames)
            }
            try host.checkpointIfDue(core, group: "learner", counters: counters, testMeanReturn: evaluations.rows.last?.mean)
        }

        if counters.frames >= settings.frames && evaluations.rows.last?.frame != counters.frames && replaySettings.evaluationInterval > 0 { try evaluate() }
        return try host.finish(core, group: "learner", counters: counters, reason: stopReason, resumedFrom: resumedFrom,
                               logger: logger, testMeanReturn: evaluations.rows.last?.mean)
    }
}

/// The learner's link to one replay server: its client and when it last answered.
private final class ReplayConnection {
    let endpoint: String
    let client: ReplayClient
    var lastReply = Date().timeIntervalSince1970

    init(endpoint: String, context: ZMQContext) throws {
        self.endpoint = endpoint
        client = try ReplayClient(endpoint: endpoint, context: context)
    }
}
