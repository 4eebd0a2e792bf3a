import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyNumerics
import ColonyTransport
import Foundation
import Synchronization

/// A worker of a replay-based run (`apex_dqn`, `apex_sac`; `colony-worker` picks it from the cluster
/// file): steps N environments with batched inference on its copy of the newest parameters; its
/// actor's `TransitionWriter` turns the steps into n-step transitions with initial priorities (Ape-X:
/// its own TD errors) in batches of `transitions_per_insert`, which this role drains from the sink and
/// inserts into `colony-replay`; reports episodes and frames to the learner.
///
/// Inserts are pipelined (`insert_window` in flight); the replay server answers them only as its
/// rate limiter allows, so a slow learner slows the workers. It finds the learner and the replay
/// server through the coordinator and finds them again when either goes silent, keeping its
/// environments. All sockets belong to the thread that calls `run()`.
///
/// In a held member's cluster (`[cluster] hold_at_target`) it waits while its learner holds at a boundary, however
/// long, rather than looking for another replay server; once the learner is released and the server has reloaded its
/// table (`ReplayHold`), it rereads the member's file, builds its actor with the next interval's values and attaches
/// again, so nothing it inserts from then on comes from before the boundary.
public final class ReplayWorkerRole: Sendable {
    public let settings: ClusterSettings
    public let index: Int
    /// Reads the run's settings again (its file, with the command line's overrides) when its learner is released.
    private let reloadSettings: (@Sendable () throws -> ClusterSettings)?
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .learnerUnreachable))
    /// How long without parameters, or without an insert answered, before asking the coordinator again.
    public let silenceTimeout: Double

    public init(settings: ClusterSettings, index: Int, silenceTimeout: Double = 10, logger: ClusterLogger = ClusterLogger(label: "worker"),
                reloadSettings: (@Sendable () throws -> ClusterSettings)? = nil) {
        precondition(settings.replay != nil, "ReplayWorkerRole needs a replay-based cluster file")
        self.settings = settings
        self.index = index
        self.silenceTimeout = silenceTimeout
        self.logger = logger
        self.reloadSettings = reloadSettings
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// Ape-X's ε of this worker (nil for algorithms without ε-greedy exploration).
    public var explorationRate: Double? {
        (try? settings.makeReplayActor(index: index, seed: 0))?.explorationRate
    }

    /// Runs until the coordinator orders shutdown or `stop()`; returns the frames it stepped.
    @discardableResult
    public func run() throws -> Int {
        logger.logSlurmNode(of: "worker \(index)")
        var settings = self.settings
        let followsReleases = settings.holdsAtTarget
        guard !followsReleases || reloadSettings != nil else {
            throw TrainingError("[cluster] hold_at_target: this \(settings.algorithm) worker cannot reread its cluster file to go on after a hold")
        }
        var replaySettings = settings.replay!
        let seed = settings.seed &+ 7919 &* UInt64(index + 1) &+ UInt64.random(in: 0...1_000_000)
        let environments = try VectorEnvironments.make(settings.environmentSettings, count: settings.environmentsPerWorker, seed: seed)
        let sink = ActorSink<PrioritizedTransitions>()
        // The actor and its transition writer take the interval's values (γ, n-step): a release builds them again.
        func makeActor() throws -> (any ReplayActor, TransitionWriter) {
            let actor = try settings.makeReplayActor(index: index, seed: seed &+ 1 &+ UInt64(settings.frames))
            let writer = TransitionWriter(
                actor: actor, layout: replaySettings.layout, gamma: settings.configuration.float("gamma"), environments: environments.count,
                batchSize: replaySettings.transitionsPerInsert, sink: sink)
            return (actor, writer)
        }
        var (actor, writer) = try makeActor()

        let session = WorkerSession(settings: settings, index: index, stats: { [self] in self.stats.withLock { $0 } }, logger: logger)
        defer { session.stop() }
        let (zmq, name, client) = (session.context, session.name, session.client)
        let explorationRate = actor.explorationRate
        if let epsilon = explorationRate { logger.info("\(name): ε = \(String(format: "%.5f", epsilon))") }

        var sender = WireSender()
        var frames = 0, framesToReport = 0
        var progress = WorkerProgress()
        func stopping() -> Bool { session.stopping(requested: stopRequested.load(ordering: .relaxed)) }
        func setWaiting(_ waiting: WaitingOn?) { stats.withLock { $0.waitingOn = waiting } }

        /// Whether the learner holds at this interval's target, or was released and its replay server is reloading.
        func learnerAtBoundary() throws -> Bool {
            guard followsReleases else { return false }
            if LearnerHold.held(in: settings.runDirectory)?.target == settings.frames { return true }
            return try (LearnerHold.pendingRelease(in: settings.runDirectory)?.target ?? Int.min) > settings.frames
        }

        /// The settings of the next interval, once the learner was released to it and the replay server reloaded its table.
        func releasedSettings() throws -> ClusterSettings? {
            guard followsReleases, let release = try LearnerHold.pendingRelease(in: settings.runDirectory), release.target > settings.frames,
                  ReplayHold.isReleased(to: release.target, in: settings.runDirectory) else { return nil }
            return try LearnerHold.settings(after: release, current: settings, reread: try reloadSettings!(), exactTarget: false)
        }

        connections: while !stopping() {
            setWaiting(.learnerUnreachable)
            guard let found = try client.waitForLearner(timeout: .seconds(3)), let learner = found.learner,
                  let dataEndpoint = learner.endpoints["data"], let parametersEndpoint = learner.endpoints["parameters"] else { continue }
            guard let replayEndpoint = found.replay?.endpoints["replay"] else {
                if stats.withLock({ $0.waitingOn }) != "replay server unreachable" {
                    logger.info("\(name): no replay server registered yet at \(settings.coordinator); asking again every 0.5 s")
                }
                setWaiting("replay server unreachable")
                Thread.sleep(forTimeInterval: 0.5)
                continue
            }
            let link = try LearnerLink(context: zmq, data: dataEndpoint, parameters: parametersEndpoint, sender: &sender)
            defer { link.close() }
            // Frames of a uint8 space travel as bytes (the table keeps them so too).
            let replay = try ReplayClient(endpoint: replayEndpoint, context: zmq, frames: replaySettings.table.frames?.blocks)
            logger.info("\(name) attached to learner \(learner.name) at \(dataEndpoint) and replay server \(replayEndpoint)")

            setWaiting(.noParameters)
            switch try link.awaitFirstParameters(expectedCount: actor.parameterCount, timeout: silenceTimeout, worker: name, logger: logger, stopping: stopping) {
            case .ready: break
            case .retry: continue connections
            case .stopped: break connections
            }
            if followsReleases { try LearnerHold.checkWorkerReachesRunDirectory(settings) }
            var actingVersion = link.version!
            actor.setParameters(link.parameters!, version: actingVersion)
            setWaiting(nil)

            try environments.reset(seed: nil)
            writer.clear()
            _ = sink.drain()
            var observations = environments.observations
            var episodeReturns: [Double] = []
            var episodeLengths: [Int32] = []

            while !stopping() {
                let (actions, stored) = actor.act(observations, count: environments.count)
                try environments.step(actions)
                frames += environments.count
                framesToReport += environments.count
                writer.observe(from: observations, stored: stored, environments: environments)
                observations = environments.observations
                for episode in environments.completedEpisodes {
                    episodeReturns.append(episode.episodeReturn)
                    episodeLengths.append(Int32(episode.length))
                }
                let finished = sink.drain()
                guard !finished.isEmpty else { continue }

                // Full batches: insert (waiting only while the window is full), report, new parameters.
                setWaiting(.rateLimiter)
                for batch in finished {
                    var insertStart = Date().timeIntervalSince1970
                    var inserted = false
                    while !inserted && !stopping() {
                        do {
                            try replay.insertPipelined(payloads: batch.items, priorities: batch.priorities, window: replaySettings.insertWindow, timeout: .seconds(1))
                            inserted = true
                        } catch ReplayClientError.timedOut {
                            if let next = try releasedSettings() {
                                // The server dropped what it held from before the boundary: attach again with the next values.
                                logger.info(LearnerHold.followed(worker: name, from: settings, to: next))
                                settings = next
                                replaySettings = settings.replay!
                                (actor, writer) = try makeActor()
                                continue connections
                            }
                            if try learnerAtBoundary() {
                                setWaiting(.boundaryHold)
                                insertStart = Date().timeIntervalSince1970
                                continue
                            }
                            if Date().timeIntervalSince1970 - insertStart > silenceTimeout {
                                logger.warning("\(name): the replay server at \(replayEndpoint) has not answered inserts for \(silenceTimeout) s; asking the coordinator again")
                                continue connections
                            }
                        }
                    }
                }
                setWaiting(nil)
                try link.send(sender.message(.episodes, tensors: [
                    WireTensor(episodeReturns), WireTensor(episodeLengths), WireTensor([Int32(framesToReport)]),
                ]))
                framesToReport = 0
                progress.record(returns: episodeReturns)
                episodeReturns.removeAll()
                episodeLengths.removeAll()

                try link.poll(timeout: 0)
                let now = Date().timeIntervalSince1970
                if let version = link.version, version != actingVersion, let parameters = link.parameters, parameters.count == actor.parameterCount {
                    actor.setParameters(parameters, version: version)
                    actingVersion = version
                } else if now - link.lastHeard > silenceTimeout {
                    logger.warning("\(name): no parameters from the learner for \(silenceTimeout) s; asking the coordinator again")
                    continue connections
                }
                if let (rate, mean) = progress.report(frames: frames, now: now) {
                    stats.withLock {
                        $0.framesPerSecond = rate
                        $0.meanReturn = mean
                        $0.policyLag = Double(link.newestSeenVersion - actingVersion)
                        $0.extra = ["frames": Double(frames), "version": Double(actingVersion), "dropped": Double(link.drops.total),
                                    "outstanding_inserts": Double(replay.outstandingInserts)]
                        if let epsilon = explorationRate { $0.extra["epsilon"] = epsilon }
                    }
                }
            }
        }
        logger.info("\(name) stopped after \(frames) frames")
        return frames
    }
}
