/// Why a message was refused. Every field of a received message is checked before it is used; the
/// first failed check throws one of these and the message is dropped (and counted, see `DropCounter`).
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A message with no frames at all (or a ROUTER envelope with nothing after the peer's identity).
    case noFrames
    /// The frames add up to more than the receiver's limit.
    case oversize(bytes: Int, limit: Int)
    /// Frame 0 ends before the field at `needed` bytes.
    case truncatedHeader(needed: Int, actual: Int)
    /// Frame 0 has bytes after the last tensor descriptor.
    case trailingHeaderBytes(expected: Int, actual: Int)
    /// Frame 0 does not start with "CLNY".
    case badMagic
    case unsupportedVersion(UInt16)
    case unknownType(UInt16)
    /// A known type this receiver does not take (a trajectory sent to the coordinator).
    case typeNotAccepted(MessageType)
    case tooManyTensors(count: Int, limit: Int)
    /// The header announces a different number of tensor frames than arrived.
    case frameCountMismatch(declared: Int, actual: Int)
    case unknownDType(tensor: Int, raw: UInt8)
    case rankTooHigh(tensor: Int, rank: Int, limit: Int)
    /// The product of the dimensions (times the element size) does not fit in the limits.
    case dimensionOverflow(tensor: Int)
    /// The descriptor's byte length is not dims × element size.
    case byteLengthMismatch(tensor: Int, declared: UInt64, expected: Int)
    /// The tensor's frame does not have the descriptor's byte length.
    case frameLengthMismatch(tensor: Int, declared: Int, actual: Int)
    /// A NaN or infinity where the receiver asked for finite numbers.
    case nonFinite(tensor: Int, index: Int)
    /// The message's tensors do not have the shape its type's `MessageSchema` declares.
    case schema(String)
    /// Well formed, but a value lies outside what the run allows (an action outside the action space,
    /// a reward beyond the bound, a return that is not finite): the schema's `meaning` check.
    case outOfRange(String)
    /// A control message's JSON payload is missing, not UTF-8, or not the expected object.
    case badControlPayload(String)
    /// A typed accessor was asked for a dtype the tensor does not have.
    case wrongDType(expected: WireDType, actual: WireDType)

    /// The coarse reason a `DropCounter` counts under.
    public var reason: DropReason {
        switch self {
        case .noFrames: .noFrames
        case .oversize: .oversize
        case .truncatedHeader, .trailingHeaderBytes: .malformedHeader
        case .badMagic: .badMagic
        case .unsupportedVersion: .unsupportedVersion
        case .unknownType: .unknownType
        case .typeNotAccepted: .typeNotAccepted
        case .tooManyTensors: .tooManyTensors
        case .frameCountMismatch: .frameCountMismatch
        case .unknownDType, .rankTooHigh: .badDescriptor
        case .dimensionOverflow: .dimensionOverflow
        case .byteLengthMismatch: .byteLengthMismatch
        case .frameLengthMismatch: .frameLengthMismatch
        case .nonFinite: .nonFinite
        case .schema, .wrongDType: .schema
        case .outOfRange: .outOfRange
        case .badControlPayload: .badControlPayload
        }
    }

    public var description: String {
        switch self {
        case .noFrames: "message has no frames"
        case let .oversize(bytes, limit): "message of \(bytes) bytes exceeds the limit of \(limit)"
        case let .truncatedHeader(needed, actual): "header frame has \(actual) bytes, needs at least \(needed)"
        case let .trailingHeaderBytes(expected, actual): "header frame has \(actual) bytes, descriptors end at \(expected)"
        case .badMagic: "header does not start with \"CLNY\""
        case let .unsupportedVersion(version): "protocol version \(version) is not supported (this build speaks \(WireMessage.protocolVersion))"
        case let .unknownType(raw): "unknown message type \(raw)"
        case let .typeNotAccepted(type): "message type \(type) is not accepted here"
        case let .tooManyTensors(count, limit): "\(count) tensors exceed the limit of \(limit)"
        case let .frameCountMismatch(declared, actual): "header declares \(declared) tensor frames, message has \(actual)"
        case let .unknownDType(tensor, raw): "tensor \(tensor): unknown dtype \(raw)"
        case let .rankTooHigh(tensor, rank, limit): "tensor \(tensor): rank \(rank) exceeds the limit of \(limit)"
        case let .dimensionOverflow(tensor): "tensor \(tensor): dimensions overflow the size limit"
        case let .byteLengthMismatch(tensor, declared, expected): "tensor \(tensor): descriptor says \(declared) bytes, dims × dtype give \(expected)"
        case let .frameLengthMismatch(tensor, declared, actual): "tensor \(tensor): frame has \(actual) bytes, descriptor says \(declared)"
        case let .nonFinite(tensor, index): "tensor \(tensor): element \(index) is not finite"
        case let .schema(detail): "schema: \(detail)"
        case let .outOfRange(detail): "out of range: \(detail)"
        case let .badControlPayload(detail): "control payload: \(detail)"
        case let .wrongDType(expected, actual): "tensor is \(actual), not \(expected)"
        }
    }
}

/// The reasons messages are dropped for, as `DropCounter` and `colony status` name them.
public enum DropReason: String, CaseIterable, Sendable, Codable {
    case noFrames = "no frames"
    case oversize = "oversize"
    case malformedHeader = "malformed header"
    case badMagic = "bad magic"
    case unsupportedVersion = "unsupported version"
    case unknownType = "unknown type"
    case typeNotAccepted = "type not accepted"
    case tooManyTensors = "too many tensors"
    case frameCountMismatch = "frame count mismatch"
    case badDescriptor = "bad descriptor"
    case dimensionOverflow = "dimension overflow"
    case byteLengthMismatch = "byte length mismatch"
    case frameLengthMismatch = "frame length mismatch"
    case nonFinite = "non-finite"
    case schema = "schema"
    case badControlPayload = "bad control payload"
    /// Data computed with parameters older than the receiver's maximum policy lag.
    case stale = "stale"
    /// A valid message of a type this socket's protocol does not use here.
    case unexpectedType = "unexpected type"
    /// A value outside the run's spaces or bounds (docs/wire.md, "Meaning").
    case outOfRange = "out of range"
    /// Data stamped with a parameter version the receiver has not published yet.
    case futureVersion = "future version"
    /// A control action (shutdown, unregister) from a sender that is not the registered member it claims to be.
    case unregisteredSender = "unregistered sender"
    /// A registration under a live member's role and name from another identity (a discovery hijack).
    case nameTaken = "name taken"
    /// A registration beyond the coordinator's member limit.
    case tooManyMembers = "too many members"
    /// A request beyond the number a server holds while its rate limiter blocks.
    case tooManyHeld = "too many held requests"
}
