import ColonyTransport
import Foundation

public enum ReplayClientError: Error, Equatable, CustomStringConvertible {
    case timedOut(String)
    case badReply(String)
    case badInsert(String)

    public var description: String {
        switch self {
        case .timedOut(let what): "replay client: no reply to \(what) in time (server down, or the rate limiter holds it)"
        case .badReply(let why): "replay client: bad reply: \(why)"
        case .badInsert(let why): "replay client: cannot insert: \(why)"
        }
    }
}

/// A replay server's client for workers and learners: one DEALER, created, used and closed on the
/// caller's thread (the owning thread; not Sendable).
///
/// Three ways to talk to the server, freely mixed on one client:
/// - synchronous: `insert` and `sample` wait for their reply (which the server's rate limiter may hold
///   back); `updatePriorities` returns once queued (no reply);
/// - pipelined inserts, for actors that do not need the keys: `insertPipelined` returns at once while at
///   most `window` inserts are unanswered, so round trips overlap but a learner that stops sampling
///   still stops the actor (the rate limiter holds the replies); `flushInserts` waits for all of them;
/// - asynchronous samples, for a learner that serves other sockets meanwhile: `requestSample`, then
///   `receiveSample(timeout:)` polls for the oldest request's batch.
///
/// Every reply echoes its request's sequence number, and one sequence space covers all requests, so
/// whatever arrives while the client waits for something else is filed by number: insert replies
/// retire pipelined inserts, sample replies wait for `receiveSample`, and a reply nobody waits for any
/// more (a timed-out call, or requests given up with `abandonOutstandingRequests`) is discarded.
///
/// With `frames` (the run's table keeps frames), inserts travel packed: each item's frame columns as
/// bytes, the rest as Floats. Sample replies say themselves whether they are packed; either way
/// `ReplaySample.payloads` holds whole Float items.
public final class ReplayClient {
    /// The most sample requests that may be outstanding at once.
    public static let maximumOutstandingSamples = 8

    public let endpoint: String
    /// Where an item's frames sit, when inserts send them as bytes.
    public let frames: FrameBlocks?
    private let socket: ZMQSocket
    private var sender = WireSender()
    private let limits = ReplayMessages.clientLimits()
    public let drops = DropCounter()

    /// Sequence numbers of unanswered pipelined inserts, oldest first.
    private var pendingInserts: [UInt64] = []
    /// Sequence numbers of requested samples not yet handed out by `receiveSample`, oldest first.
    private var pendingSamples: [UInt64] = []
    /// Replies to `pendingSamples` that arrived before `receiveSample` asked for them.
    private var arrivedSamples: [UInt64: WireMessage] = [:]
    /// The request a synchronous call waits for, and its reply once filed.
    private var awaited: (type: MessageType, sequence: UInt64)?
    private var awaitedReply: WireMessage?

    public init(endpoint: String, context: ZMQContext, frames: FrameBlocks? = nil) throws {
        self.endpoint = endpoint
        self.frames = frames
        socket = try ZMQSocket(context, .dealer)
        try socket.setLinger(milliseconds: 0)
        try socket.setHighWaterMarks(send: 1000, receive: 1000)
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    /// Pipelined inserts not answered yet.
    public var outstandingInserts: Int { pendingInserts.count }

    /// Sample requests whose batch `receiveSample` has not returned yet.
    public var outstandingSamples: Int { pendingSamples.count }

    // MARK: Synchronous calls

    /// Inserts `priorities.count` items (payloads `[B, itemSize]` row-major); returns their keys.
    public func insert(payloads: [Float], priorities: [Float], timeout: Duration = .seconds(30)) throws -> [UInt64] {
        let request = try insertRequest(payloads: payloads, priorities: priorities)
        try socket.send(request)
        let reply = try awaitReply(.replayInsert, sequence: request.sequence, timeout: timeout, what: "insert")
        let keys = try reply.tensors[0].int64s().map { UInt64(bitPattern: $0) }
        guard keys.count == priorities.count else { throw ReplayClientError.badReply("\(keys.count) keys for \(priorities.count) items") }
        return keys
    }

    /// Samples `batch` items with importance exponent `beta`.
    public func sample(_ batch: Int, beta: Double, timeout: Duration = .seconds(30)) throws -> ReplaySample {
        let request = sampleRequest(batch, beta: beta)
        try socket.send(request)
        return try Self.decodeSample(awaitReply(.replaySampleReply, sequence: request.sequence, timeout: timeout, what: "sample"))
    }

    /// Sends new priorities for sampled keys (no reply; keys evicted meanwhile are counted by the server).
    public func updatePriorities(keys: [UInt64], priorities: [Float]) throws {
        precondition(keys.count == priorities.count && !keys.isEmpty)
        try socket.send(sender.message(.replayPriorityUpdate, tensors: [
            WireTensor(keys.map { Int64(bitPattern: $0) }), WireTensor(priorities),
        ]))
    }

    // MARK: Pipelined inserts

    /// Sends an insert without waiting for its keys. Returns at once while fewer than `window` inserts
    /// are unanswered; otherwise first waits (filing replies) until one is answered, so at most `window`
    /// are outstanding when it returns. Throws `timedOut` when none is answered within `timeout`: this
    /// batch was then not sent, and may be retried.
    public func insertPipelined(payloads: [Float], priorities: [Float], window: Int = 8, timeout: Duration = .seconds(30)) throws {
        precondition(window >= 1, "the window must allow one insert in flight")
        try fileArrivals()
        guard try wait(until: { pendingInserts.count < window }, deadline: .now + timeout) else {
            throw ReplayClientError.timedOut("pipelined insert (\(pendingInserts.count) unanswered, window \(window))")
        }
        let request = try insertRequest(payloads: payloads, priorities: priorities)
        try socket.send(request)
        pendingInserts.append(request.sequence)
    }

    /// Waits until every pipelined insert is answered (its items are in the table).
    public func flushInserts(timeout: Duration = .seconds(30)) throws {
        guard try wait(until: { pendingInserts.isEmpty }, deadline: .now + timeout) else {
            throw ReplayClientError.timedOut("pipelined inserts (\(pendingInserts.count) unanswered)")
        }
    }

    // MARK: Asynchronous samples

    /// Asks for `batch` items without waiting; `receiveSample` returns the batch. At most
    /// `maximumOutstandingSamples` requests may be outstanding.
    public func requestSample(_ batch: Int, beta: Double) throws {
        precondition(pendingSamples.count < Self.maximumOutstandingSamples,
                     "at most \(Self.maximumOutstandingSamples) sample requests may be outstanding")
        let request = sampleRequest(batch, beta: beta)
        try socket.send(request)
        pendingSamples.append(request.sequence)
    }

    /// The batch answering the oldest outstanding `requestSample`, if it arrives within `milliseconds`
    /// (0: only what is already here); nil when it has not (the request stays outstanding) or when no
    /// request is outstanding. Replies to later requests are kept for later calls.
    public func receiveSample(timeout milliseconds: Int) throws -> ReplaySample? {
        precondition(milliseconds >= 0, "the timeout is in milliseconds, 0 or more")
        guard let oldest = pendingSamples.first else { return nil }
        try fileArrivals()
        guard try wait(until: { arrivedSamples[oldest] != nil }, deadline: .now + .milliseconds(milliseconds)) else { return nil }
        pendingSamples.removeFirst()
        return try Self.decodeSample(arrivedSamples.removeValue(forKey: oldest)!)
    }

    /// Forgets every outstanding pipelined insert and sample request (e.g. after the server restarted
    /// and will never answer them); replies that still arrive for them are discarded.
    public func abandonOutstandingRequests() {
        pendingInserts.removeAll()
        pendingSamples.removeAll()
        arrivedSamples.removeAll()
    }

    // MARK: Requests and replies

    private func insertRequest(payloads: [Float], priorities: [Float]) throws -> WireMessage {
        precondition(!priorities.isEmpty && payloads.count % priorities.count == 0, "payloads must hold B whole items")
        let (rows, itemSize) = (priorities.count, payloads.count / priorities.count)
        guard let frames else {
            return sender.message(.replayInsert, tensors: [WireTensor(payloads, shape: [rows, itemSize]), WireTensor(priorities)])
        }
        if let problem = frames.problem(itemSize: itemSize) { throw ReplayClientError.badInsert(problem) }
        let floatColumns = frames.floatColumns(itemSize: itemSize)
        let packed: (floats: WireTensor, bytes: [UInt8]) = try payloads.withUnsafeBufferPointer { rowsBuffer in
            if let problem = frames.byteProblem(rowsBuffer, count: rows, itemSize: itemSize) { throw ReplayClientError.badInsert(problem) }
            var bytes = [UInt8](repeating: 0, count: rows * frames.values)
            let floats = WireTensor(of: Float.self, shape: [rows, floatColumns]) { floats in
                bytes.withUnsafeMutableBufferPointer {
                    frames.pack(rowsBuffer.baseAddress!, count: rows, itemSize: itemSize, floats: floats.baseAddress!, frames: $0.baseAddress!)
                }
            }
            return (floats, bytes)
        }
        return sender.message(.replayInsert, tensors: [packed.floats, WireTensor(priorities)]
            + ReplayMessages.frameTensors(packed.bytes, rows: rows, blocks: frames))
    }

    private func sampleRequest(_ batch: Int, beta: Double) -> WireMessage {
        sender.message(.replaySample, tensors: [WireTensor([Int32(batch)]), WireTensor([Float(beta)])])
    }

    /// A sample reply's items as whole Floats (unpacking frames sent as bytes).
    private static func decodeSample(_ reply: WireMessage) throws -> ReplaySample {
        let keys = try reply.tensors[1].int64s().map { UInt64(bitPattern: $0) }, weights = try reply.tensors[2].floats()
        guard let blocks = ReplayMessages.frameBlocks(reply, after: 3) else {
            return ReplaySample(payloads: try reply.tensors[0].floats(), keys: keys, weights: weights)
        }
        // The schema checked the shapes: B rows of packed floats and of frame bytes, blocks inside the item.
        let (rows, floatColumns) = (reply.tensors[0].shape[0], reply.tensors[0].shape[1])
        let itemSize = floatColumns + blocks.values
        guard rows > 0 else { return ReplaySample(payloads: [], keys: keys, weights: weights) }
        let payloads = try reply.tensors[0].withValues(as: Float.self) { floats in
            try reply.tensors[3].withValues(as: UInt8.self) { frames in
                [Float](unsafeUninitializedCapacity: rows * itemSize) { items, count in
                    blocks.unpack(floats: floats.baseAddress!, frames: frames.baseAddress!, count: rows, itemSize: itemSize, into: items.baseAddress!)
                    count = rows * itemSize
                }
            }
        }
        return ReplaySample(payloads: payloads, keys: keys, weights: weights)
    }

    private func awaitReply(_ type: MessageType, sequence: UInt64, timeout: Duration, what: String) throws -> WireMessage {
        awaited = (type, sequence)
        awaitedReply = nil
        defer { awaited = nil; awaitedReply = nil }
        guard try wait(until: { awaitedReply != nil }, deadline: .now + timeout) else { throw ReplayClientError.timedOut(what) }
        return awaitedReply!
    }

    /// Files arriving replies until `done()` holds (true) or the deadline passes (false).
    private func wait(until done: () -> Bool, deadline: ContinuousClock.Instant) throws -> Bool {
        while !done() {
            let left = deadline - .now
            guard left > .zero else { return false }
            let milliseconds = Int(left.components.seconds * 1000) + Int(left.components.attoseconds / 1_000_000_000_000_000) + 1
            if try socket.waitReadable(timeout: min(milliseconds, 1000)) { try fileArrivals() }
        }
        return true
    }

    /// Reads every reply already here and files it by sequence number.
    private func fileArrivals() throws {
        while let receipt = try socket.receiveWire(limits: limits, dontWait: true, drops: drops) {
            guard case .message(let message, _) = receipt else { continue }
            let sequence = message.parameterVersion  // replies echo the request's sequence number here
            if message.type == .replayInsert, let index = pendingInserts.firstIndex(of: sequence) {
                pendingInserts.remove(at: index)
            } else if message.type == .replaySampleReply, pendingSamples.contains(sequence) {
                arrivedSamples[sequence] = message
            } else if let awaited, awaited.type == message.type, awaited.sequence == sequence {
                awaitedReply = message
            }
            // Anything else answers a request nobody waits for any more: discarded.
        }
    }
}
