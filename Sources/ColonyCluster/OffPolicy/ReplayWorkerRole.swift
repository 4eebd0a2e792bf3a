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
public final class ReplayWorkerRole: Sendable {
    public let settings: ClusterSettings
    public let index: Int
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .learnerUnreachable))
    /// How long without parameters, or without an insert answered, before asking the coordinator again.
    public let silenceTimeout: Double

    public init(settings: ClusterSettings, index: Int, silenceTimeout: Double = 10, logger: ClusterLogger = ClusterLogger(label: "worker")) {
        precondition(settings.replay != nil, "ReplayWorkerRole needs a replay-based cluster file")
        self.settings = settings
        self.index = index
        self.silenceTimeout = silenceTimeout
        self.logger = logger
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
        let replaySettings = settings.replay!
        let layout = replaySettings.layout
        let seed = settings.seed &+ 7919 &* UInt64(index + 1) &+ UInt64.random(in: 0...1_000_000)
        let environments = try VectorEnvironments.make(settings.environmentSettings, count: settings.environmentsPerWorker, seed: seed)
        let actor = try settings.makeReplayActor(index: index, seed: seed &+ 1)
        let sink = ActorSink<PrioritizedTransitions>()
        let writer = TransitionWriter(
            actor: actor, layout: layout, gamma: settings.configuration.float("gamma"), environments: environments.count,
            batchSize: replaySettings.transitionsPerInsert, sink: sink)

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
                    let insertStart = Date().timeIntervalSince1970
                    var inserted = false
                    while !inserted && !stopping() {
                        do {
                            try replay.insertPipelined(payloads: batch.items, priorities: batch.priorities, window: replaySettings.insertWindow, timeout: .seconds(1))
                            inserted = true
                        } catch ReplayClientError.timedOut {
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
