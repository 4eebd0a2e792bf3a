/// What a receiver accepts: sizes, types, which tensors must be finite, and per-type schemas.
/// Each socket's owner decodes with its own limits (the coordinator takes only small control
/// messages; a learner takes large trajectories and no control messages on its data socket).
public struct WireLimits: Sendable {
    /// Largest message (all frames together) in bytes. Also worth setting as the socket's
    /// `ZMQ_MAXMSGSIZE`, so libzmq refuses a larger frame before allocating it.
    public var maximumMessageBytes: Int
    public var maximumTensors: Int
    public var maximumRank: Int
    /// Types this receiver takes (nil: every known type).
    public var acceptedTypes: Set<MessageType>?
    /// Types whose floating-point tensors must hold no NaN or infinity (a tensor spec's
    /// `requireFinite` overrides this per tensor).
    public var finiteTypes: Set<MessageType>
    /// Checked after the generic rules, per type.
    public var schemas: [MessageType: MessageSchema]

    public init(maximumMessageBytes: Int = 64 << 20, maximumTensors: Int = 64, maximumRank: Int = 8,
                acceptedTypes: Set<MessageType>? = nil,
                finiteTypes: Set<MessageType> = WireLimits.numericTypes,
                schemas: [MessageType: MessageSchema] = WireLimits.standardSchemas()) {
        self.maximumMessageBytes = maximumMessageBytes
        self.maximumTensors = maximumTensors
        self.maximumRank = maximumRank
        self.acceptedTypes = acceptedTypes
        self.finiteTypes = finiteTypes
        self.schemas = schemas
    }

    /// 64 MiB messages, every type, finite numbers in data messages, the control and credit schemas.
    public static let `default` = WireLimits()

    /// Control traffic only (the coordinator's socket, `colony status`): small JSON messages.
    public static func control(maximumMessageBytes: Int = 1 << 20) -> WireLimits {
        WireLimits(maximumMessageBytes: maximumMessageBytes, maximumTensors: 1, maximumRank: 1,
                   acceptedTypes: Set(MessageType.allCases.filter(\.isMembershipControl)),
                   schemas: standardSchemas(controlBytes: maximumMessageBytes))
    }

    /// Types that carry numbers a learner or replay server computes with.
    public static let numericTypes: Set<MessageType> = [
        .trajectory, .gradient, .parameters, .episodes, .replayInsert, .replaySampleReply, .replayPriorityUpdate,
    ]

    /// A control schema for every control type and the credit schema; data types have none until a
    /// role declares one (`limits.schemas[.trajectory] = ...`).
    public static func standardSchemas(controlBytes: Int = 1 << 20) -> [MessageType: MessageSchema] {
        var schemas: [MessageType: MessageSchema] = [.credit: .credit]
        for type in MessageType.allCases where type.isControl {
            schemas[type] = .control(maximumBytes: controlBytes)
        }
        return schemas
    }
}
