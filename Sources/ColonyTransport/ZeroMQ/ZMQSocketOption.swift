import CZeroMQ

/// The socket options Colony sets, each with the type of value libzmq reads for it, so that no raw
/// option number (or a value of the wrong width) reaches `zmq_setsockopt` through the public API.
public enum ZMQSocketOption: Sendable, Equatable, CustomStringConvertible {
    /// Messages queued per peer for sending before PUSH/DEALER block and PUB/ROUTER drop.
    case sendHighWaterMark(Int32)
    /// Messages queued per peer for receiving.
    case receiveHighWaterMark(Int32)
    /// Milliseconds a blocking receive waits before EAGAIN (-1: forever).
    case receiveTimeout(milliseconds: Int32)
    /// Milliseconds a blocking send waits before EAGAIN (-1: forever).
    case sendTimeout(milliseconds: Int32)
    /// Milliseconds unsent messages survive `close()`.
    case linger(milliseconds: Int32)
    /// Larger incoming messages are refused and the peer disconnected (-1: no limit).
    case maximumMessageSize(bytes: Int64)
    /// First reconnect delay of a connecting socket.
    case reconnectInterval(milliseconds: Int32)
    /// Upper bound of the reconnect backoff.
    case maximumReconnectInterval(milliseconds: Int32)
    /// Interval of ZMTP heartbeats.
    case heartbeatInterval(milliseconds: Int32)
    /// A peer silent this long after a heartbeat is disconnected.
    case heartbeatTimeout(milliseconds: Int32)
    /// Queue messages only to completed connections.
    case immediate(Bool)
    /// ROUTER fails with EHOSTUNREACH instead of silently dropping messages to unknown peers.
    case routerMandatory(Bool)
    /// The identity a DEALER/REQ presents to a ROUTER.
    case routingID([UInt8])
    /// SUB: receive messages starting with this prefix (empty: all).
    case subscribe(prefix: [UInt8])
    /// Keep only the newest message.
    case conflate(Bool)
    /// CURVE: this socket is the server of its connections.
    case curveServer(Bool)
    /// CURVE keys in Z85 text (40 characters): the server's public key (clients), this socket's own pair.
    case curveServerKey(String)
    case curvePublicKey(String)
    case curveSecretKey(String)
    /// The ZAP domain a CURVE server asks its handler about.
    case zapDomain(String)

    /// libzmq's option number.
    var number: Int32 {
        switch self {
        case .sendHighWaterMark: ZMQ_SNDHWM
        case .receiveHighWaterMark: ZMQ_RCVHWM
        case .receiveTimeout: ZMQ_RCVTIMEO
        case .sendTimeout: ZMQ_SNDTIMEO
        case .linger: ZMQ_LINGER
        case .maximumMessageSize: ZMQ_MAXMSGSIZE
        case .reconnectInterval: ZMQ_RECONNECT_IVL
        case .maximumReconnectInterval: ZMQ_RECONNECT_IVL_MAX
        case .heartbeatInterval: ZMQ_HEARTBEAT_IVL
        case .heartbeatTimeout: ZMQ_HEARTBEAT_TIMEOUT
        case .immediate: ZMQ_IMMEDIATE
        case .routerMandatory: ZMQ_ROUTER_MANDATORY
        case .routingID: ZMQ_ROUTING_ID
        case .subscribe: ZMQ_SUBSCRIBE
        case .conflate: ZMQ_CONFLATE
        case .curveServer: ZMQ_CURVE_SERVER
        case .curveServerKey: ZMQ_CURVE_SERVERKEY
        case .curvePublicKey: ZMQ_CURVE_PUBLICKEY
        case .curveSecretKey: ZMQ_CURVE_SECRETKEY
        case .zapDomain: ZMQ_ZAP_DOMAIN
        }
    }

    /// The value as libzmq takes it: a 32-bit int, a 64-bit int, or bytes.
    enum Value {
        case int32(Int32), int64(Int64), bytes([UInt8])
    }

    var value: Value {
        switch self {
        case .sendHighWaterMark(let v), .receiveHighWaterMark(let v), .receiveTimeout(let v), .sendTimeout(let v), .linger(let v),
             .reconnectInterval(let v), .maximumReconnectInterval(let v), .heartbeatInterval(let v), .heartbeatTimeout(let v):
            .int32(v)
        case .maximumMessageSize(let v): .int64(v)
        case .immediate(let on), .routerMandatory(let on), .conflate(let on), .curveServer(let on): .int32(on ? 1 : 0)
        case .routingID(let bytes), .subscribe(let bytes): .bytes(bytes)
        case .curveServerKey(let text), .curvePublicKey(let text), .curveSecretKey(let text), .zapDomain(let text): .bytes(Array(text.utf8))
        }
    }

    public var description: String {
        switch value {
        case .int32(let v): "option \(number) = \(v)"
        case .int64(let v): "option \(number) = \(v)"
        case .bytes(let b): "option \(number) (\(b.count) bytes)"
        }
    }
}
