/// What a message is, as frame 0's `message type` field (u16) says.
///
/// Values are grouped in ranges so each family can grow without renumbering (see docs/wire.md):
/// 1–15 membership and control, 16–31 learner data, 32–47 replay, 48–63 environment host, 64 and up free. A value that is
/// not a case here is an unknown type and the message is dropped.
public enum MessageType: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    // Membership and control (UTF-8 JSON in one u8 tensor).
    case register = 1
    case registered = 2
    case heartbeat = 3
    case heartbeatReply = 4
    case discover = 5
    case discoverReply = 6
    case statusRequest = 7
    case statusReply = 8
    case shutdown = 9
    case unregister = 10

    // Learner data (raw tensors).
    case trajectory = 16
    case gradient = 17
    case parameters = 18
    case episodes = 19
    case credit = 20

    // Replay server (raw tensors).
    case replayInsert = 32
    case replaySample = 33
    case replaySampleReply = 34
    case replayPriorityUpdate = 35

    // Environment host (docs/envhost.md): a Python process serving Gymnasium environments.
    case envSpecRequest = 48
    case envSpec = 49
    case envReset = 50
    case envObservations = 51
    case envStep = 52
    case envStepResult = 53
    case envError = 54
    case envRender = 55
    case envFrame = 56
    case envClose = 57
    case envClosed = 58

    /// Control messages carry exactly one rank-1 u8 tensor holding UTF-8 JSON.
    public var isControl: Bool { rawValue < 16 || Self.hostControlTypes.contains(self) }

    /// Membership and control between cluster members (the coordinator's traffic).
    public var isMembershipControl: Bool { rawValue < 16 }

    /// The environment host's JSON messages (the rest of its family carries tensors).
    private static let hostControlTypes: Set<MessageType> = [.envSpecRequest, .envSpec, .envError, .envClose, .envClosed]

    public var description: String {
        switch self {
        case .register: "register"
        case .registered: "registered"
        case .heartbeat: "heartbeat"
        case .heartbeatReply: "heartbeatReply"
        case .discover: "discover"
        case .discoverReply: "discoverReply"
        case .statusRequest: "statusRequest"
        case .statusReply: "statusReply"
        case .shutdown: "shutdown"
        case .unregister: "unregister"
        case .trajectory: "trajectory"
        case .gradient: "gradient"
        case .parameters: "parameters"
        case .episodes: "episodes"
        case .credit: "credit"
        case .replayInsert: "replayInsert"
        case .replaySample: "replaySample"
        case .replaySampleReply: "replaySampleReply"
        case .replayPriorityUpdate: "replayPriorityUpdate"
        case .envSpecRequest: "envSpecRequest"
        case .envSpec: "envSpec"
        case .envReset: "envReset"
        case .envObservations: "envObservations"
        case .envStep: "envStep"
        case .envStepResult: "envStepResult"
        case .envError: "envError"
        case .envRender: "envRender"
        case .envFrame: "envFrame"
        case .envClose: "envClose"
        case .envClosed: "envClosed"
        }
    }
}

/// The element type of a wire tensor (descriptor byte 0).
public enum WireDType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case f32 = 1
    case f64 = 2
    case i32 = 3
    case i64 = 4
    case u8 = 5

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: 4
        case .f64, .i64: 8
        case .u8: 1
        }
    }

    public var isFloatingPoint: Bool { self == .f32 || self == .f64 }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f64: "f64"
        case .i32: "i32"
        case .i64: "i64"
        case .u8: "u8"
        }
    }
}

/// A Swift scalar that has a wire dtype: `Float`, `Double`, `Int32`, `Int64`, `UInt8`.
public protocol WireScalar: BitwiseCopyable, Sendable {
    static var wireDType: WireDType { get }
}

extension Float: WireScalar { public static var wireDType: WireDType { .f32 } }
extension Double: WireScalar { public static var wireDType: WireDType { .f64 } }
extension Int32: WireScalar { public static var wireDType: WireDType { .i32 } }
extension Int64: WireScalar { public static var wireDType: WireDType { .i64 } }
extension UInt8: WireScalar { public static var wireDType: WireDType { .u8 } }

#if _endian(big)
#error("Colony's wire format sends tensor bytes in host order and requires a little-endian host")
#endif
