import ColonyTransport
import Dispatch
import Foundation
import Synchronization

/// The transport issue's figures: payload bytes per second through Colony's wire path (pack a tensor,
/// encode, send, receive, decode, validate every field and every float) over tcp://127.0.0.1, against
/// raw libzmq PUSH/PULL moving the same payload in the same run, at 16 KiB, 256 KiB and 4 MiB messages (an
/// unroll of 20 steps × 8 environments × 84×84×4 uint8 frames is 4.5 MB), f32 and u8 payloads.
///
/// - raw: a pre-built byte array sent with `zmq_send` (libzmq copies it), received with `zmq_msg_recv`
///   without copying it out — the cheapest a Swift program gets from libzmq.
/// - wire PUSH/PULL: each message packs a fresh f32 (or u8) tensor (one copy, the unroll leaving the rollout
///   buffer), sends it zero-copy, and the receiver decodes and validates it (schema; the finite check for f32).
/// - wire DEALER/ROUTER with credits: the same unrolls, but the worker sends only while it holds a
///   credit and the learner grants one back per unroll consumed (about 1 MiB in flight), as docs/wire.md describes.
///
/// Sender and receiver run on their own threads, each owning its socket.
struct TransportBenchmarks {
    let options: BenchOptions

    private static let sizes = [16 << 10, 256 << 10, 4 << 20]
    /// Credits bound the bytes in flight per worker: about 1 MiB of unrolls (at least 4).
    private static func creditWindow(size: Int) -> Int { max(4, (1 << 20) / size) }
    private static let warmUp = 0.3

    /// Each case is measured in this many interleaved rounds (raw, wire, credits, raw, ...) and the best
    /// round counts: on a shared machine, the least disturbed round is the closest to what the code can do.
    private static let rounds = 5

    func run() throws {
        var rows: [(name: String, size: Int, colony: Rate, raw: Rate)] = []
        let seconds = options.seconds / Double(Self.rounds)
        var curveRows: [(name: String, size: Int, plain: Rate, curve: Rate)] = []
        let curve = try Self.benchmarkSecurity()
        for size in Self.sizes {
            var raw: [Rate] = [], wire: [Rate] = [], bytes: [Rate] = [], credits: [Rate] = [], rawCurve: [Rate] = [], wireCurve: [Rate] = []
            for _ in 0..<Self.rounds {
                raw.append(try rawPushPull(size: size, seconds: seconds))
                wire.append(try wirePushPull(size: size, seconds: seconds))
                bytes.append(try wirePushPull(size: size, seconds: seconds, bytes: true))
                credits.append(try wireWithCredits(size: size, seconds: seconds))
                rawCurve.append(try rawPushPull(size: size, seconds: seconds, security: curve))
                wireCurve.append(try wirePushPull(size: size, seconds: seconds, security: curve))
            }
            rows.append(("wire PUSH/PULL, f32", size, Rate.best(wire), Rate.best(raw)))
            rows.append(("wire PUSH/PULL, u8", size, Rate.best(bytes), Rate.best(raw)))
            rows.append(("wire DEALER/ROUTER, \(Self.creditWindow(size: size)) credits", size, Rate.best(credits), Rate.best(raw)))
            curveRows.append(("raw libzmq PUSH/PULL", size, Rate.best(raw), Rate.best(rawCurve)))
            curveRows.append(("wire PUSH/PULL", size, Rate.best(wire), Rate.best(wireCurve)))
        }
        print("\n## Transport: payload throughput over tcp://127.0.0.1 (sender and receiver threads; best of \(Self.rounds) interleaved rounds of \(String(format: "%g", seconds)) s)\n")
        print("| path | message | Colony | raw libzmq PUSH/PULL | ratio | goal |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for row in rows {
            let ratio = row.colony.bytesPerSecond / row.raw.bytesPerSecond
            print("| \(row.name) | \(Self.label(row.size)) | \(row.colony) | \(row.raw) | \(String(format: "%.0f%%", ratio * 100))\(ratio >= 0.5 ? " ✓" : " ✗") | ≥ 50% |")
        }
        print("- note: wire = pack + encode + send (zero-copy) + receive (zero-copy) + decode + validate (header, descriptors, schema, NaN/inf scan)")
        print("- note: raw = pre-built bytes, zmq_send (copies) + zmq_msg_recv (no copy out); machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")

        print("\n## Transport with CurveZMQ (authenticated and encrypted, as `--keys` runs) against plain tcp://, same run\n")
        print("| path | message | plain | CURVE | CURVE / plain |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for row in curveRows {
            print("| \(row.name) | \(Self.label(row.size)) | \(row.plain) | \(row.curve) | \(String(format: "%.0f%%", 100 * row.curve.bytesPerSecond / row.plain.bytesPerSecond)) |")
        }
        print("- note: CURVE encrypts every byte (XSalsa20-Poly1305, libsodium) on libzmq's I/O threads; \(machineLoadNote())")
    }

    private static func label(_ size: Int) -> String { size >= 1 << 20 ? "\(size >> 20) MiB" : "\(size >> 10) KiB" }

    /// A run's keys made in memory: the receiver serves with the server pair, the sender presents an authorized member key.
    private static func benchmarkSecurity() throws -> CurveSecurity {
        let server = try CurveKeyPair.generate(), member = try CurveKeyPair.generate()
        return try CurveSecurity(serverPublicKey: server.publicKey, server: server, member: member, authorizedKeys: [member.publicKey])
    }

    /// Bytes and messages per second of payload.
    struct Rate: CustomStringConvertible, Sendable {
        var bytesPerSecond: Double
        var messagesPerSecond: Double
        var description: String {
            String(format: "%.0f MB/s (%@ msg/s)", bytesPerSecond / 1e6, format(messagesPerSecond))
        }

        static func best(_ rates: [Rate]) -> Rate { rates.max { $0.bytesPerSecond < $1.bytesPerSecond }! }
    }

    // MARK: The three paths

    private func rawPushPull(size: Int, seconds: Double, security: CurveSecurity? = nil) throws -> Rate {
        try measure(
            seconds: seconds, receiverKind: .pull, senderKind: .push, security: security,
            receive: { socket in
                guard let message = try socket.receiveBuffers() else { return 0 }
                return message.frames[0].count
            },
            send: { socket, stopped in
                let frame = [UInt8](repeating: 1, count: size)
                while !stopped() { try socket.send([frame]) }
            })
    }

    private func wirePushPull(size: Int, seconds: Double, security: CurveSecurity? = nil, bytes: Bool = false) throws -> Rate {
        let limits = Self.limits(size: size, dtype: bytes ? .u8 : .f32)
        return try measure(
            seconds: seconds, receiverKind: .pull, senderKind: .push, security: security,
            receive: { socket in
                guard case .message(let message, _)? = try socket.receiveWire(limits: limits) else { return 0 }
                return message.tensors[0].byteCount
            },
            send: { socket, stopped in
                let pack: () -> WireTensor
                if bytes {
                    let (shape, source) = Self.frames(size: size)
                    pack = { Self.pack(source, shape: shape) }
                } else {
                    let (shape, source) = Self.unroll(size: size)
                    pack = { Self.pack(source, shape: shape) }
                }
                var sender = WireSender()
                while !stopped() {
                    try socket.send(sender.message(.trajectory, parameterVersion: 1, tensors: [pack()]))
                }
            })
    }

    private func wireWithCredits(size: Int, seconds: Double) throws -> Rate {
        let limits = Self.limits(size: size)
        let window = Self.creditWindow(size: size)
        let batch = max(1, window / 4)
        let consumed = Counter()
        return try measure(
            seconds: seconds, receiverKind: .router, senderKind: .dealer,
            receive: { socket in
                // The learner: grant a worker's request for credits; grant one back per unroll consumed.
                var learner = WireSender(senderID: 1)
                guard let receipt = try socket.receiveWire(limits: limits, routed: true) else { return 0 }
                guard case .message(let message, let worker?) = receipt else { return 0 }
                switch message.type {
                case .credit:
                    let asked = Int(try message.tensors[0].int32s()[0])
                    try socket.send(learner.message(.credit, tensors: [WireTensor([Int32(min(asked, window))], shape: [1])]), routingID: worker)
                    return 0
                case .trajectory:
                    // One credit back per unroll consumed, returned in batches of a quarter window
                    // (like delayed ACKs) to cut control traffic; one worker here, so one counter.
                    let due = consumed.add(1)
                    if due >= batch {
                        consumed.reset()
                        try socket.send(learner.message(.credit, tensors: [WireTensor([Int32(due)], shape: [1])]), routingID: worker)
                    }
                    return message.tensors[0].byteCount
                default:
                    return 0
                }
            },
            send: { socket, stopped in
                // The worker: ask for credits, send an unroll only while holding one.
                let (shape, source) = Self.unroll(size: size)
                var worker = WireSender()
                var credits = 0
                try socket.send(worker.message(.credit, tensors: [WireTensor([Int32(window)], shape: [1])]))
                while !stopped() {
                    // Collect granted credits without waiting; wait (briefly, to see `stopped`) only when none is left.
                    while true {
                        if let receipt = try socket.receiveWire(limits: .default, dontWait: true) {
                            if case .message(let grant, _) = receipt, grant.type == .credit {
                                credits += Int(try grant.tensors[0].int32s()[0])
                            }
                            continue
                        }
                        if try credits > 0 || !socket.waitReadable(timeout: 100) { break }
                    }
                    guard credits > 0 else { continue }
                    try socket.send(worker.message(.trajectory, parameterVersion: 1, tensors: [Self.pack(source, shape: shape)]))
                    credits -= 1
                }
            })
    }

    // MARK: Unrolls

    /// A [T, N, obs] f32 unroll of `size` bytes and the rollout buffer it is packed from.
    private static func unroll(size: Int) -> (shape: [Int], source: [Float]) {
        let count = size / 4
        let shape = count >= 65536 ? [64, 32, count / 2048] : [32, 8, count / 256]
        return (shape, (0..<count).map { Float($0 % 1000) * 0.001 })
    }

    /// A [T, N, obs] u8 unroll of `size` bytes (pixels) and the rollout buffer it is packed from.
    private static func frames(size: Int) -> (shape: [Int], source: [UInt8]) {
        let shape = size >= 65536 ? [64, 32, size / 2048] : [32, 8, size / 256]
        return (shape, (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) })
    }

    /// One copy: the rollout buffer into the message's own (then sent without copying).
    private static func pack<Scalar: WireScalar>(_ source: [Scalar], shape: [Int]) -> WireTensor {
        WireTensor(of: Scalar.self, shape: shape) { target in
            _ = target.initialize(from: source)
        }
    }

    private static func limits(size: Int, dtype: WireDType = .f32) -> WireLimits {
        var limits = WireLimits.default
        limits.maximumMessageBytes = 2 * size + 4096
        limits.schemas[.trajectory] = MessageSchema(tensors: [.init("observations", dtype, ["T", "N", "obs"])],
                                                   bounds: ["T": 1...1024, "N": 1...1024, "obs": 1...4096])
        return limits
    }

    // MARK: Harness

    /// Runs `send` on one thread and `receive` on another over tcp://127.0.0.1; the receiver counts
    /// payload bytes for `seconds` after a warm-up, then both stop.
    private func measure(seconds: Double, receiverKind: ZMQSocket.Kind, senderKind: ZMQSocket.Kind, security: CurveSecurity? = nil,
                         receive: @escaping @Sendable (ZMQSocket) throws -> Int,
                         send: @escaping @Sendable (ZMQSocket, _ stopped: () -> Bool) throws -> Void) throws -> Rate {
        let context = ZMQContext(security: security)
        let shared = BenchShared()
        let bound = DispatchSemaphore(value: 0)

        let receiver = OwningThread(name: "bench-receiver") {
            do {
                let socket = try ZMQSocket(context, receiverKind)
                defer { socket.close() }
                try socket.setReceiveTimeout(milliseconds: 100)
                try socket.bind("tcp://127.0.0.1:*")
                shared.endpoint.withLock { $0 = try? socket.lastEndpoint }
                bound.signal()
                let warmUpEnd = DispatchTime.now().uptimeNanoseconds + UInt64(Self.warmUp * 1e9)
                while DispatchTime.now().uptimeNanoseconds < warmUpEnd { _ = try receive(socket) }
                let start = DispatchTime.now().uptimeNanoseconds
                var bytes = 0
                var messages = 0
                var elapsed = 0.0
                while elapsed < seconds {
                    let count = try receive(socket)
                    if count > 0 {
                        bytes += count
                        messages += 1
                    }
                    elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                }
                shared.result.withLock { $0 = Rate(bytesPerSecond: Double(bytes) / elapsed, messagesPerSecond: Double(messages) / elapsed) }
            } catch {
                shared.failure.withLock { $0 = "receiver: \(error)" }
                bound.signal()
            }
            shared.stop.store(true, ordering: .relaxed)
        }
        receiver.start()
        bound.wait()
        guard let endpoint = shared.endpoint.withLock({ $0 }) else {
            receiver.join()
            throw BenchFailure(shared.failure.withLock { $0 } ?? "receiver did not bind")
        }

        let sender = OwningThread(name: "bench-sender") {
            do {
                let socket = try ZMQSocket(context, senderKind)
                defer { socket.close() }
                try socket.setSendTimeout(milliseconds: 100)  // a full queue returns to check `stop`
                try socket.connect(endpoint)
                try send(socket) { shared.stop.load(ordering: .relaxed) }
            } catch {
                shared.failure.withLock { $0 = $0 ?? "sender: \(error)" }
                shared.stop.store(true, ordering: .relaxed)
            }
        }
        sender.start()
        receiver.join()
        sender.join()
        if let failure = shared.failure.withLock({ $0 }) { throw BenchFailure(failure) }
        return shared.result.withLock { $0 }!
    }
}

/// A count the learner closure keeps between calls (it runs on one thread; the lock only satisfies Sendable).
private final class Counter: Sendable {
    private let value = Mutex(0)
    func add(_ amount: Int) -> Int { value.withLock { $0 += amount; return $0 } }
    func reset() { value.withLock { $0 = 0 } }
}

private final class BenchShared: Sendable {
    let stop = Atomic<Bool>(false)
    let endpoint = Mutex<String?>(nil)
    let result = Mutex<TransportBenchmarks.Rate?>(nil)
    let failure = Mutex<String?>(nil)
}

private struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
