import CZeroMQ

/// One libzmq socket. Sockets are NOT thread-safe: each has exactly one owning thread, which
/// creates, uses and closes it. It is not `Sendable` on purpose, so the compiler keeps it on its thread.
public final class ZMQSocket {
    public enum Kind: Int32, Sendable {
        case pair = 0, pub = 1, sub = 2, req = 3, rep = 4, dealer = 5, router = 6, pull = 7, push = 8
    }

    public let kind: Kind
    // Keeps the context alive for as long as the socket exists (nil only for the context's own ZAP handler).
    private let context: ZMQContext?
    private var handle: UnsafeMutableRawPointer?

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let socket = zmq_socket(context.handle, kind.rawValue) else { throw ZMQError(function: "zmq_socket") }
        self.context = context
        self.kind = kind
        self.handle = socket
        // Never let close() block process exit on unsent messages unless asked.
        try setOption(.linger(milliseconds: 0))
    }

    /// A socket that does not keep its context alive: the context's ZAP handler, which the context
    /// itself stops before it terminates.
    init(unretainedContext contextHandle: UnsafeMutableRawPointer, _ kind: Kind) throws {
        guard let socket = zmq_socket(contextHandle, kind.rawValue) else { throw ZMQError(function: "zmq_socket") }
        context = nil
        self.kind = kind
        handle = socket
        try setOption(.linger(milliseconds: 0))
    }

    deinit { close() }

    /// Closes the socket; unsent messages are dropped after the linger period.
    public func close() {
        if let handle {
            zmq_close(handle)
            self.handle = nil
        }
    }

    private func live(_ function: String) throws -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(function: function, detail: "socket is closed") }
        return handle
    }

    // MARK: Endpoints

    /// Binds `endpoint`; on tcp:// with the context's CURVE security, as a CURVE server whose
    /// clients the context's ZAP handler admits.
    public func bind(_ endpoint: String) throws {
        if let security = context?.security, CurveSecurity.applies(to: endpoint) {
            guard let server = security.server else {
                throw ZMQError(function: "zmq_bind", detail: "\(endpoint): this member has no server key (server.key) to accept CURVE connections with")
            }
            guard context?.admitsByKey == true else {
                throw ZMQError(function: "zmq_bind", detail: "\(endpoint): the context's ZAP handler is not running, so CURVE clients cannot be checked")
            }
            try setOption(.curveServer(true))
            try setOption(.curveSecretKey(server.secretKey))
            try setOption(.zapDomain("colony"))
        }
        guard zmq_bind(try live("zmq_bind"), endpoint) == 0 else { throw ZMQError(function: "zmq_bind", detail: endpoint) }
        if context?.security?.server != nil, CurveSecurity.applies(to: endpoint), let handle { context?.monitorHandshakes(of: handle) }
    }

    /// Connects to `endpoint`; on tcp:// with the context's CURVE security, presenting this member's key.
    public func connect(_ endpoint: String) throws {
        if let security = context?.security, CurveSecurity.applies(to: endpoint) {
            try setOption(.curveServerKey(security.serverPublicKey))
            try setOption(.curvePublicKey(security.member.publicKey))
            try setOption(.curveSecretKey(security.member.secretKey))
        }
        guard zmq_connect(try live("zmq_connect"), endpoint) == 0 else { throw ZMQError(function: "zmq_connect", detail: endpoint) }
    }

    public func disconnect(_ endpoint: String) throws {
        guard zmq_disconnect(try live("zmq_disconnect"), endpoint) == 0 else { throw ZMQError(function: "zmq_disconnect", detail: endpoint) }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to its port).
    public var lastEndpoint: String {
        get throws {
            var buffer = [CChar](repeating: 0, count: 256)
            var size = buffer.count
            guard zmq_getsockopt(try live("zmq_getsockopt"), ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
                throw ZMQError(function: "zmq_getsockopt", detail: "ZMQ_LAST_ENDPOINT")
            }
            return String(decoding: buffer.prefix(max(0, size - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: Options

    /// Sets one socket option (with the value width libzmq expects for it).
    public func setOption(_ option: ZMQSocketOption) throws {
        let socket = try live("zmq_setsockopt")
        let status: Int32
        switch option.value {
        case .int32(var value): status = zmq_setsockopt(socket, option.number, &value, MemoryLayout<Int32>.size)
        case .int64(var value): status = zmq_setsockopt(socket, option.number, &value, MemoryLayout<Int64>.size)
        case .bytes(let bytes): status = zmq_setsockopt(socket, option.number, bytes, bytes.count)
        }
        guard status == 0 else { throw ZMQError(function: "zmq_setsockopt", detail: option.description) }
    }

    /// Messages queued per peer before PUSH/DEALER block and PUB/ROUTER drop.
    public func setHighWaterMarks(send: Int32, receive: Int32) throws {
        try setOption(.sendHighWaterMark(send))
        try setOption(.receiveHighWaterMark(receive))
    }

    /// Milliseconds a blocking receive waits before throwing EAGAIN (-1: forever).
    public func setReceiveTimeout(milliseconds: Int32) throws { try setOption(.receiveTimeout(milliseconds: milliseconds)) }
    /// Milliseconds a blocking send waits before throwing EAGAIN (-1: forever).
    public func setSendTimeout(milliseconds: Int32) throws { try setOption(.sendTimeout(milliseconds: milliseconds)) }
    /// Milliseconds unsent messages survive `close()`.
    public func setLinger(milliseconds: Int32) throws { try setOption(.linger(milliseconds: milliseconds)) }
    /// Larger messages are refused by libzmq and the peer is disconnected: a bound on what a peer can make us allocate.
    public func setMaximumMessageSize(bytes: Int64) throws { try setOption(.maximumMessageSize(bytes: bytes)) }
    /// Reconnect backoff for connecting sockets.
    public func setReconnectInterval(milliseconds: Int32, maximum: Int32) throws {
        try setOption(.reconnectInterval(milliseconds: milliseconds))
        try setOption(.maximumReconnectInterval(milliseconds: maximum))
    }
    /// ZMTP heartbeats: a silent peer connection is closed after `timeout` ms.
    public func setHeartbeat(interval: Int32, timeout: Int32) throws {
        try setOption(.heartbeatInterval(milliseconds: interval))
        try setOption(.heartbeatTimeout(milliseconds: timeout))
    }
    /// Queue messages only to completed connections (no silent buffering for a peer that is not there).
    public func setImmediate(_ on: Bool) throws { try setOption(.immediate(on)) }
    /// ROUTER fails with EHOSTUNREACH instead of silently dropping messages to unknown peers.
    public func setRouterMandatory(_ on: Bool) throws { try setOption(.routerMandatory(on)) }
    public func setRoutingID(_ id: [UInt8]) throws { try setOption(.routingID(id)) }
    public func subscribe(_ prefix: [UInt8] = []) throws { try setOption(.subscribe(prefix: prefix)) }
    /// Keep only the newest message (for "latest version wins" streams).
    public func setConflate(_ on: Bool) throws { try setOption(.conflate(on)) }

    // MARK: Messages

    /// Sends all frames as one multipart message (atomic: all or none are delivered).
    /// Returns false when `dontWait` is set and the message could not be queued (high-water mark).
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws -> Bool {
        let socket = try live("zmq_send")
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                let rc = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
                if rc >= 0 { break }
                let error = ZMQError(function: "zmq_send")
                if error.code == EINTR { continue }
                // Only the first frame can fail with EAGAIN; later frames of a started message always queue.
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Receives one multipart message. Returns nil on timeout (receive timeout or `dontWait`).
    public func receive(dontWait: Bool = false) throws -> [[UInt8]]? {
        let socket = try live("zmq_msg_recv")
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { message.deallocate() }
        var frames: [[UInt8]] = []
        var more = true
        while more {
            zmq_msg_init(message)
            defer { zmq_msg_close(message) }
            while true {
                let rc = zmq_msg_recv(message, socket, dontWait && frames.isEmpty ? ZMQ_DONTWAIT : 0)
                if rc >= 0 { break }
                let error = ZMQError(function: "zmq_msg_recv")
                if error.code == EINTR { continue }
                if error.isWouldBlock && frames.isEmpty { return nil }
                throw error
            }
            let size = zmq_msg_size(message)
            frames.append(size == 0 ? [] : Array(UnsafeRawBufferPointer(start: zmq_msg_data(message), count: size)))
            more = zmq_msg_more(message) != 0
        }
        return frames
    }

    /// Sends frame buffers as one multipart message without copying large frames: libzmq gets a
    /// reference (`zmq_msg_init_data`) and releases it once the bytes are on the wire (or the message
    /// is dropped). Frames up to `copyThreshold` bytes are copied, which is cheaper than the reference.
    /// Returns false when `dontWait` is set and the message could not be queued (high-water mark).
    @discardableResult
    public func send(_ frames: [FrameBuffer], dontWait: Bool = false, copyThreshold: Int = 1024) throws -> Bool {
        let socket = try live("zmq_msg_send")
        precondition(!frames.isEmpty, "a message has at least one frame")
        let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
        defer { message.deallocate() }
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            while true {
                if frame.count <= copyThreshold || frame.count == 0 {
                    let rc = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
                    if rc >= 0 { break }
                } else {
                    // The hint carries a +1 reference to the buffer; libzmq's free function drops it,
                    // on whichever thread finishes with the message (Swift reference counting is atomic).
                    let hint = Unmanaged.passRetained(frame).toOpaque()
                    let data = UnsafeMutableRawPointer(mutating: frame.baseAddress!)
                    guard zmq_msg_init_data(message, data, frame.count, { _, hint in
                        Unmanaged<FrameBuffer>.fromOpaque(hint!).release()
                    }, hint) == 0 else {
                        Unmanaged<FrameBuffer>.fromOpaque(hint).release()
                        throw ZMQError(function: "zmq_msg_init_data")
                    }
                    let rc = zmq_msg_send(message, socket, flags)
                    if rc >= 0 { break }  // libzmq owns (and will release) the message now
                    let error = ZMQError(function: "zmq_msg_send")  // errno before anything else runs
                    zmq_msg_close(message)  // not sent: runs the free function
                    if error.code == EINTR { continue }
                    if error.isWouldBlock && index == 0 { return false }
                    throw error
                }
                let error = ZMQError(function: "zmq_send")
                if error.code == EINTR { continue }
                // Only the first frame can fail with EAGAIN; later frames of a started message always queue.
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Receives one multipart message into frame buffers that keep libzmq's messages (no copy).
    /// At most `maximumFrames` frames are kept; the rest of a longer message is read and discarded,
    /// and `totalFrames` says how many there were. Returns nil on timeout (receive timeout or `dontWait`).
    public func receiveBuffers(dontWait: Bool = false, maximumFrames: Int = .max) throws -> ReceivedMessage? {
        let socket = try live("zmq_msg_recv")
        var frames: [FrameBuffer] = []
        var total = 0
        var more = true
        while more {
            let message = UnsafeMutablePointer<zmq_msg_t>.allocate(capacity: 1)
            zmq_msg_init(message)
            while true {
                let rc = zmq_msg_recv(message, socket, dontWait && total == 0 ? ZMQ_DONTWAIT : 0)
                if rc >= 0 { break }
                let error = ZMQError(function: "zmq_msg_recv")
                if error.code == EINTR { continue }
                zmq_msg_close(message)
                message.deallocate()
                if error.isWouldBlock && total == 0 { return nil }
                throw error
            }
            more = zmq_msg_more(message) != 0
            total += 1
            if frames.count < maximumFrames {
                frames.append(FrameBuffer(takingMessage: message))
            } else {
                zmq_msg_close(message)
                message.deallocate()
            }
        }
        return ReceivedMessage(frames: frames, totalFrames: total)
    }

    /// Waits up to `timeout` ms for the socket to be readable (-1: forever).
    public func waitReadable(timeout milliseconds: Int) throws -> Bool {
        var item = zmq_pollitem_t(socket: try live("zmq_poll"), fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        while true {
            let rc = zmq_poll(&item, 1, milliseconds)
            if rc >= 0 { return rc > 0 }
            let error = ZMQError(function: "zmq_poll")
            if error.code == EINTR { continue }
            throw error
        }
    }

    var rawHandle: UnsafeMutableRawPointer? { handle }
}

#if canImport(Glibc)
import Glibc
#endif
