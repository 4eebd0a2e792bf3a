import ColonyTransport
import Foundation

public enum ReplayClientError: Error, Equatable, CustomStringConvertible {
    case timedOut(String)
    case badReply(String)

    public var description: String {
        switch self {
        case .timedOut(let what): "replay client: no reply to \(what) in time (server down, or the rate limiter holds it)"
        case .badReply(let why): "replay client: bad reply: \(why)"
        }
    }
}

/// A replay server's client for workers and learners: one DEALER, created, used and closed on the
/// caller's thread (the owning thread; not Sendable). Calls are synchronous: `insert` and `sample`
/// wait for their reply (which the server's rate limiter may hold back), `updatePriorities` returns
/// once queued. Replies are matched by the request's sequence number; a late reply to an earlier
/// timed-out request is discarded.
public final class ReplayClient {
    public let endpoint: String
    private let socket: ZMQSocket
    private var sender = WireSender()
    private let limits = ReplayMessages.clientLimits()
    public let drops = DropCounter()

    public init(endpoint: String, context: ZMQContext) throws {
        self.endpoint = endpoint
        socket = try ZMQSocket(context, .dealer)
        try socket.setLinger(milliseconds: 0)
        try socket.setHighWaterMarks(send: 1000, receive: 1000)
        try socket.connect(endpoint)
    }

    deinit { socket.close() }

    /// Inserts `priorities.count` items (payloads `[B, itemSize]` row-major); returns their keys.
    public func insert(payloads: [Float], priorities: [Float], timeout: Duration = .seconds(30)) throws -> [UInt64] {
        precondition(!priorities.isEmpty && payloads.count % priorities.count == 0, "payloads must hold B whole items")
        let request = sender.message(.replayInsert, tensors: [
            WireTensor(payloads, shape: [priorities.count, payloads.count / priorities.count]), WireTensor(priorities),
        ])
        try socket.send(request)
        let reply = try awaitReply(.replayInsert, sequence: request.sequence, timeout: timeout, what: "insert")
        let keys = try reply.tensors[0].int64s().map { UInt64(bitPattern: $0) }
        guard keys.count == priorities.count else { throw ReplayClientError.badReply("\(keys.count) keys for \(priorities.count) items") }
        return keys
    }

    /// Samples `batch` items with importance exponent `beta`.
    public func sample(_ batch: Int, beta: Double, timeout: Duration = .seconds(30)) throws -> ReplaySample {
        let request = sender.message(.replaySample, tensors: [WireTensor([Int32(batch)]), WireTensor([Float(beta)])])
        try socket.send(request)
        let reply = try awaitReply(.replaySampleReply, sequence: request.sequence, timeout: timeout, what: "sample")
        return ReplaySample(payloads: try reply.tensors[0].floats(),
                            keys: try reply.tensors[1].int64s().map { UInt64(bitPattern: $0) },
                            weights: try reply.tensors[2].floats())
    }

    /// Sends new priorities for sampled keys (no reply; keys evicted meanwhile are counted by the server).
    public func updatePriorities(keys: [UInt64], priorities: [Float]) throws {
        precondition(keys.count == priorities.count && !keys.isEmpty)
        try socket.send(sender.message(.replayPriorityUpdate, tensors: [
            WireTensor(keys.map { Int64(bitPattern: $0) }), WireTensor(priorities),
        ]))
    }

    private func awaitReply(_ type: MessageType, sequence: UInt64, timeout: Duration, what: String) throws -> WireMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw ReplayClientError.timedOut(what) }
            let milliseconds = max(1, Int(left.components.seconds * 1000) + Int(left.components.attoseconds / 1_000_000_000_000_000))
            guard try socket.waitReadable(timeout: min(milliseconds, 1000)) else { continue }
            guard let receipt = try socket.receiveWire(limits: limits, dontWait: true, drops: drops) else { continue }
            guard case .message(let message, _) = receipt else { continue }
            if message.type == type && message.parameterVersion == sequence { return message }
        }
    }
}
