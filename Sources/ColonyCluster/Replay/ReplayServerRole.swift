import ColonyExperiments
import ColonyNumerics
import ColonyStorage
import ColonyTransport
import Foundation
import Synchronization

/// Settings of a replay server (`colony-replay`, the `[replay]` table of a TOML file).
public struct ReplayServerSettings: Sendable {
    public var table: ReplayTableConfiguration
    /// The coordinator to register with (role `.replay`, endpoint "replay"); nil: do not register.
    public var coordinator: String?
    /// Where the ROUTER binds (`tcp://HOST:*` picks a free port).
    public var bind: String
    public var name: String
    /// Seconds between checkpoints (nil or no path: never); a checkpoint is also written on stop.
    public var checkpointEverySeconds: Double?
    /// The checkpoint file; restored on start when it exists.
    public var checkpointPath: String?
    public var seed: UInt64
    public var heartbeatInterval: Duration
    /// The run's item bounds (from a cluster file): inserts whose rows fall outside are refused. Nil:
    /// shapes and finite numbers only.
    public var itemBounds: ReplayItemBounds?
    /// Inserts (and, separately, sample requests) held while the rate limiter blocks, over all
    /// connections; beyond it the longest connection's newest request gives way or the newcomer is
    /// refused (`FairRequestQueue`, counted), so no peer can make the server queue without bound. Workers keep `insert_window`
    /// inserts each in flight and a learner 2 samples, far below.
    public var maximumHeldRequests: Int
    /// The largest sample a request may ask for: a request for a million items would take the rate
    /// limiter's whole sample budget for a long time, and the learner's requests wait behind it.
    public var maximumSampleBatch: Int
    /// A held member's cluster (`[cluster] hold_at_target`): the server writes its table when the learner holds and
    /// reloads it when the population releases the learner (`ReplayHold`); nil: it serves straight through.
    public var hold: ReplayServerHold?

    public init(table: ReplayTableConfiguration, coordinator: String? = nil, bind: String = "tcp://127.0.0.1:*", name: String = "replay",
                checkpointEverySeconds: Double? = nil, checkpointPath: String? = nil, seed: UInt64 = UInt64.random(in: 0...UInt64.max),
                heartbeatInterval: Duration = .seconds(1), itemBounds: ReplayItemBounds? = nil, maximumHeldRequests: Int = 4096,
                maximumSampleBatch: Int = ReplayMessages.maximumBatch, hold: ReplayServerHold? = nil) {
        self.maximumSampleBatch = maximumSampleBatch
        self.hold = hold
        self.itemBounds = itemBounds
        self.maximumHeldRequests = maximumHeldRequests
        self.table = table
        self.coordinator = coordinator
        self.bind = bind
        self.name = name
        self.checkpointEverySeconds = checkpointEverySeconds
        self.checkpointPath = checkpointPath
        self.seed = seed
        self.heartbeatInterval = heartbeatInterval
    }
}

/// The replay server: one `ReplayTable` behind a ROUTER, owned by the thread that calls `run()`.
///
/// Requests (`ReplayMessages`): inserts are answered with their keys, samples with a batch; a request
/// the rate limiter blocks is held (per kind and connection, connections served round-robin:
/// `FairRequestQueue`) and answered when the limiter allows, filled in parts
/// when only part of it fits (a batch larger than 2 × error_buffer could never fit at once). Priority
/// updates are applied at once. Every `checkpointEverySeconds` the table is snapshotted on this thread
/// and written on another, so serving goes on during the write; a checkpoint found at start is restored
/// (a configuration mismatch stops the server with an error naming the field). In a held member's cluster it stops
/// serving while the learner holds at a boundary, with its table written, and reloads the table at the release
/// (`ReplayHold`).
public final class ReplayServerRole: Sendable {
    public let settings: ReplayServerSettings
    private let logger: ClusterLogger
    private let stopRequested = Atomic<Bool>(false)
    private let stats = Mutex(MemberStats(waitingOn: .nothingToDo))
    private let tableStats = Mutex(ReplayTableStatistics())
    private let boundEndpoint = Mutex<String?>(nil)
    private let checkpointsWritten = Atomic<Int>(0)
    private let writing = Atomic<Bool>(false)

    public init(settings: ReplayServerSettings, logger: ClusterLogger = ClusterLogger(label: "replay")) {
        self.settings = settings
        self.logger = logger
    }

    /// Asks `run()` to checkpoint and return (from any thread).
    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    /// The ROUTER's endpoint once bound.
    public var endpoint: String? { boundEndpoint.withLock { $0 } }

    /// The table's counters as of the last loop turn (from any thread).
    public var statistics: ReplayTableStatistics { tableStats.withLock { $0 } }

    /// The figures sent in heartbeats.
    public var memberStats: MemberStats { stats.withLock { $0 } }

    /// Checkpoints completed since start.
    public var checkpoints: Int { checkpointsWritten.load(ordering: .relaxed) }

    /// An insert waiting for the rate limiter (or for the inserts ahead of it): the received tensors
    /// themselves (no copy) and how many rows are in. Its keys are consecutive, from `firstKey`.
    private struct HeldInsert {
        var routing: FrameBuffer
        var sender: UInt64
        var sequence: UInt64
        var payloads: WireTensor
        var priorities: WireTensor
        /// A packed insert's frames (u8 [B, frame values]); nil for whole Float items.
        var frames: WireTensor?
        var done = 0
        var firstKey: UInt64 = 0
        var count: Int { priorities.elementCount }
    }

    private struct HeldSample {
        var routing: FrameBuffer
        var sender: UInt64
        var sequence: UInt64
        var batch: Int
        var beta: Double
        var result = ReplaySample(payloads: [], keys: [], weights: [])
        /// The result's frames, packed (a table with frame columns).
        var frames: [UInt8] = []
    }

    /// Serves on the calling thread until `stop()`, a shutdown order, or a signal.
    public func run() throws {
        logger.logSlurmNode(of: "replay server")
        var table = try ReplayTable(settings.table)
        guard settings.hold == nil || settings.checkpointPath != nil else {
            throw TrainingError("[cluster] hold_at_target: the replay server writes its table at every hold, so it needs a checkpoint path")
        }
        if let path = settings.checkpointPath {
            for stale in AtomicFile.removeStaleTemporaries(of: path) { logger.info("removed \(stale), left by a checkpoint write that was killed") }
        }
        if let path = settings.checkpointPath, FileManager.default.fileExists(atPath: path) {
            let dropped = try table.restore(from: path)
            logger.info("restored \(table.size) items from \(path) (next key \(table.nextKey))")
            if dropped > 0 { logger.warning("left out \(dropped) items of \(path) whose payload held NaN or infinity") }
        }
        let itemSize = table.itemSize
        // A table with frame columns answers samples packed: the other Floats, then the frames as bytes.
        let frameBlocks = settings.table.frames?.blocks
        let replyWidth = settings.table.storedFloats
        let zmq = ZMQContext()
        let socket = try ZMQSocket(zmq, .router)
        defer { socket.close() }
        try socket.setRouterMandatory(false)
        try socket.setLinger(milliseconds: 0)
        try socket.setHighWaterMarks(send: 1000, receive: 1000)
        let limits = ReplayMessages.serverLimits(items: settings.itemBounds)
        try socket.setMaximumMessageSize(bytes: Int64(limits.maximumMessageBytes))
        try socket.bind(settings.bind)
        let endpoint = try socket.lastEndpoint
        boundEndpoint.withLock { $0 = endpoint }

        let shutdownOrdered = Atomic<Bool>(false)
        var client: CoordinatorClient?
        if let coordinator = settings.coordinator {
            let registered = CoordinatorClient(configuration: .init(
                coordinator: coordinator,
                member: .thisProcess(role: .replay, name: settings.name, endpoints: ["replay": endpoint]),
                heartbeatInterval: settings.heartbeatInterval,
                stats: { [self] in self.stats.withLock { $0 } },
                onShutdown: { _ in shutdownOrdered.store(true, ordering: .relaxed) },
                logger: ClusterLogger(label: "replay", level: logger.level, sink: logger.sink)), context: zmq)
            registered.start()
            client = registered
        }
        defer { client?.stop() }
        logger.info("replay server \(settings.name): \(settings.table.selector), capacity \(table.capacity), item size \(itemSize), endpoint \(endpoint)")

        var sender = WireSender()
        let drops = DropCounter()
        var rng = RandomSource(seed: settings.seed)
        // Per connection, served round-robin (see FairRequestQueue): a flooding peer cannot starve the others.
        var heldInserts = FairRequestQueue<HeldInsert>(capacity: settings.maximumHeldRequests)
        var heldSamples = FairRequestQueue<HeldSample>(capacity: settings.maximumHeldRequests)
        var lastCheckpoint = ContinuousClock.now
        // A held member's cluster: the frame target the learner trains to, and whether the server holds there.
        var holdTarget = settings.hold?.target ?? 0
        var holding = false
        var lastHoldCheck = ContinuousClock.now
        var window = (time: ContinuousClock.now, inserts: table.statistics.inserts, samples: table.statistics.samples)

        func reply(_ routing: FrameBuffer, _ message: WireMessage) throws {
            _ = try socket.send(message, routingID: routing, dontWait: true)
        }

        func checkpoint(wait: Bool) {
            guard let path = settings.checkpointPath else { return }
            guard writing.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
            let snapshot = table.snapshot()
            let finished = DispatchSemaphore(value: 0)
            let thread = Thread { [self] in
                do {
                    try snapshot.write(to: path)
                    checkpointsWritten.add(1, ordering: .relaxed)
                } catch {
                    logger.error("checkpoint to \(path) failed: \(error)")
                }
                writing.store(false, ordering: .releasing)
                finished.signal()
            }
            thread.name = "replay-checkpoint"
            thread.start()
            if wait { finished.wait() }
        }

        /// Inserts `count` rows of a held insert from row `done` on, reading the received tensors in place.
        func insertRows(of insert: HeldInsert, count: Int) throws -> Range<UInt64> {
            let width = insert.payloads.shape[1], rows = insert.done..<(insert.done + count)
            return try insert.payloads.withValues(as: Float.self) { floats in
                try insert.priorities.withValues(as: Float.self) { priorities in
                    let (floats, priorities) = (UnsafeBufferPointer(rebasing: floats[rows.lowerBound * width..<rows.upperBound * width]),
                                                UnsafeBufferPointer(rebasing: priorities[rows]))
                    guard let frames = insert.frames else { return try table.insert(payloads: floats, priorities: priorities) }
                    let frameValues = frames.shape[1]
                    return try frames.withValues(as: UInt8.self) { bytes in
                        try table.insert(packedFloats: floats, frames: UnsafeBufferPointer(rebasing: bytes[rows.lowerBound * frameValues..<rows.upperBound * frameValues]),
                                         priorities: priorities)
                    }
                }
            }
        }

        /// Nil when an insert's items have this table's shape: whole Float items, or (a table with frame columns)
        /// packed with the table's frame blocks; else why not.
        func insertShapeProblem(_ message: WireMessage) -> String? {
            let width = message.tensors[0].shape[1]
            guard let blocks = ReplayMessages.frameBlocks(message, after: 2) else {
                return width == itemSize ? nil : "items of \(width) floats (table: \(itemSize))"
            }
            guard let frameBlocks else { return "items with frames as bytes, but this table keeps no frames (items of \(itemSize) floats)" }
            guard blocks == frameBlocks, width == replyWidth else {
                return "packed items of \(width) floats and frames at \(blocks.offsets) × \(blocks.width) "
                    + "(table: \(replyWidth) floats and frames at \(frameBlocks.offsets) × \(frameBlocks.width))"
            }
            return nil
        }

        /// Moves held requests forward as far as the limiter allows; true when anything moved. Nothing moves while the
        /// server holds at a boundary: the table stays what it wrote.
        func drain() throws -> Bool {
            if holding { return false }
            var moved = false
            var progress = true
            while progress {
                progress = false
                if var head = heldInserts.head {
                    let n = min(head.count - head.done, table.rateLimiter.insertsAllowed, table.capacity)
                    if n > 0 {
                        let keys: Range<UInt64>
                        do {
                            keys = try insertRows(of: head, count: n)
                        } catch {
                            // The schema let it through, so this is a bug; drop the request, keep serving.
                            heldInserts.removeHead()
                            drops.record(.schema, sender: nil)
                            logger.error("dropped an insert the table refused: \(error)")
                            progress = true
                            continue
                        }
                        if head.done == 0 { head.firstKey = keys.lowerBound }
                        head.done += n
                        progress = true
                        if head.done == head.count {
                            heldInserts.removeHead()
                            let first = head.firstKey, count = head.count
                            let keyTensor = WireTensor(of: Int64.self, shape: [count]) { keys in
                                for row in 0..<count { keys[row] = Int64(bitPattern: first + UInt64(row)) }
                            }
                            try reply(head.routing, sender.message(.replayInsert, parameterVersion: head.sequence, tensors: [keyTensor]))
                        } else {
                            heldInserts.updateHead(head)
                        }
                    }
                }
                if var head = heldSamples.head, table.size > 0 {
                    let n = min(head.batch - head.result.count, table.rateLimiter.samplesAllowed)
                    if n > 0 {
                        let part: ReplaySample
                        if frameBlocks != nil {
                            let packed = try table.samplePacked(n, beta: head.beta, rng: &rng)
                            part = packed.sample
                            head.frames += packed.frames
                        } else {
                            part = try table.sample(n, beta: head.beta, rng: &rng)
                        }
                        head.result.payloads += part.payloads
                        head.result.keys += part.keys
                        head.result.weights += part.weights
                        progress = true
                        // A queue table (max times sampled) may run dry mid-batch: answer with what there is.
                        if head.result.count == head.batch || part.count < n {
                            heldSamples.removeHead()
                            let r = head.result
                            try reply(head.routing, sender.message(.replaySampleReply, parameterVersion: head.sequence, tensors: [
                                WireTensor(r.payloads, shape: [r.count, replyWidth]),
                                WireTensor(r.keys.map { Int64(bitPattern: $0) }),
                                WireTensor(r.weights),
                            ] + (frameBlocks.map { ReplayMessages.frameTensors(head.frames, rows: r.count, blocks: $0) } ?? [])))
                        } else {
                            heldSamples.updateHead(head)
                        }
                    }
                }
                moved = moved || progress
            }
            return moved
        }

        var stopReason = "stopped"
        while true {
            if stopRequested.load(ordering: .relaxed) { stopReason = "stopped"; break }
            if shutdownOrdered.load(ordering: .relaxed) { stopReason = "the coordinator ordered shutdown"; break }

            if try socket.waitReadable(timeout: 50) {
                for _ in 0..<256 {
                    guard let receipt = try socket.receiveWire(limits: limits, routed: true, dontWait: true, drops: drops) else { break }
                    guard case .message(let message, let routing) = receipt, let routing else {
                        if case .dropped(let error, let claimed, _) = receipt {
                            logger.warning("dropped a message from \(claimed.map(formatID) ?? "an unknown sender"): \(error)")
                        }
                        continue
                    }
                    switch message.type {
                    case .replayInsert:
                        if let problem = insertShapeProblem(message) {
                            drops.record(.schema, sender: message.senderID)
                            logger.warning("dropped an insert with \(problem)")
                            continue
                        }
                        let held = HeldInsert(routing: routing, sender: message.senderID, sequence: message.sequence,
                                              payloads: message.tensors[0], priorities: message.tensors[1],
                                              frames: message.tensors.count == 4 ? message.tensors[2] : nil)
                        let waits = !heldInserts.isEmpty || !table.canInsert(held.count)
                        switch heldInserts.append(held, from: routing.bytes) {
                        case .held: break
                        case .heldEvicting(let evicted): drops.record(.tooManyHeld, sender: evicted.sender)
                        case .refused: drops.record(.tooManyHeld, sender: message.senderID); continue
                        }
                        if waits { table.recordRateLimiterWait(insert: true) }
                    case .replaySample:
                        // The schema checked both: batch in 1...maximumBatch, beta finite and non-negative.
                        let batch = Int(try message.tensors[0].int32s().first ?? 1), beta = Double(try message.tensors[1].floats().first ?? 0)
                        guard batch <= settings.maximumSampleBatch else {
                            drops.record(.outOfRange, sender: message.senderID)
                            logger.warning("dropped a sample request for \(batch) items (at most \(settings.maximumSampleBatch)) from \(formatID(message.senderID))")
                            continue
                        }
                        let waits = !heldSamples.isEmpty || !table.canSample(batch)
                        switch heldSamples.append(HeldSample(routing: routing, sender: message.senderID, sequence: message.sequence, batch: batch, beta: beta),
                                                  from: routing.bytes) {
                        case .held: break
                        case .heldEvicting(let evicted): drops.record(.tooManyHeld, sender: evicted.sender)
                        case .refused: drops.record(.tooManyHeld, sender: message.senderID); continue
                        }
                        if waits { table.recordRateLimiterWait(insert: false) }
                    case .replayPriorityUpdate:
                        let keys = try message.tensors[0].int64s().map { UInt64(bitPattern: $0) }
                        table.updatePriorities(keys: keys, priorities: try message.tensors[1].floats())
                    default:
                        drops.record(.unexpectedType, sender: message.senderID)
                    }
                    _ = try drain()
                }
            }
            _ = try drain()

            let now = ContinuousClock.now
            if let hold = settings.hold, now - lastHoldCheck >= .milliseconds(50) {
                lastHoldCheck = now
                let runDirectory = hold.runDirectory
                if !holding, let held = LearnerHold.held(in: runDirectory), held.target == holdTarget {
                    // The learner holds at its checkpoint: write the table as it is there (after any write in flight).
                    while writing.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.01) }
                    holding = true
                    try table.checkpoint(to: settings.checkpointPath!)
                    checkpointsWritten.add(1, ordering: .relaxed)
                    try ReplayHold.write(.init(heldAt: holdTarget), in: runDirectory)
                    logger.info("holding at frame \(holdTarget) with the learner: \(table.size) items written to \(settings.checkpointPath!)")
                } else if holding, let release = try LearnerHold.pendingRelease(in: runDirectory), release.target > holdTarget {
                    // Its own table again, or the donor's that an exploit put in its place; requests from before the
                    // boundary are dropped (their senders come back on new connections once this is recorded).
                    let next = try hold.rereadTable()
                    guard next.target >= release.target else {
                        throw TrainingError("the cluster file reread for the release to frame \(release.target) sets frames = \(next.target): "
                            + "the population writes the file before it releases the learner")
                    }
                    table = try ReplayTable(next.table)
                    do { try table.restore(from: settings.checkpointPath!) } catch {
                        throw TrainingError("the release to frame \(release.target): \(error) (a replay-based member's table keeps its configuration: "
                            + "do not mutate the keys it derives from, \(ReplayClusterSettings.tableKeys.sorted().joined(separator: ", ")))")
                    }
                    let dropped = heldInserts.count + heldSamples.count
                    heldInserts = FairRequestQueue(capacity: settings.maximumHeldRequests)
                    heldSamples = FairRequestQueue(capacity: settings.maximumHeldRequests)
                    try ReplayHold.write(.init(heldAt: holdTarget, releasedTo: release.target), in: runDirectory)
                    holding = false
                    lastCheckpoint = now
                    window = (now, table.statistics.inserts, table.statistics.samples)
                    logger.info("released to frame \(release.target): \(table.size) items from \(settings.checkpointPath!)"
                        + (dropped > 0 ? ", \(dropped) requests from before the boundary dropped" : ""))
                    holdTarget = release.target
                }
            }
            if !holding, let every = settings.checkpointEverySeconds, now - lastCheckpoint >= .seconds(every) {
                lastCheckpoint = now
                checkpoint(wait: false)
            }
            let current = table.statistics
            tableStats.withLock { $0 = current }
            let elapsed = now - window.time
            if elapsed >= .seconds(1) {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                let insertRate = Double(current.inserts - window.inserts) / seconds
                let sampleRate = Double(current.samples - window.samples) / seconds
                window = (now, current.inserts, current.samples)
                let waiting: WaitingOn? = holding ? .boundaryHold
                    : (!heldInserts.isEmpty || !heldSamples.isEmpty) ? .rateLimiter : (insertRate == 0 && sampleRate == 0 ? .nothingToDo : nil)
                stats.withLock {
                    $0 = MemberStats(waitingOn: waiting, extra: [
                        "size": Double(current.size), "inserts_per_second": insertRate, "samples_per_second": sampleRate,
                        "held_inserts": Double(heldInserts.count), "held_samples": Double(heldSamples.count),
                        "evicted_key_updates": Double(current.evictedKeyUpdates),
                        "rate_limiter_waits": Double(current.insertWaits + current.sampleWaits),
                        "dropped_messages": Double(drops.total),
                    ].merging(drops.statusFigures) { $1 })
                }
            }
        }
        // Wait for a periodic write in flight, then write the final state; a server stopped while it holds leaves the
        // boundary's file (perhaps a donor's table by now) as it is.
        while writing.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.01) }
        if !holding { checkpoint(wait: true) }
        tableStats.withLock { $0 = table.statistics }
        logger.info("replay server stopped: \(stopReason); \(table.size) items, \(table.statistics.inserts) inserted, \(table.statistics.samples) sampled")
    }
}
