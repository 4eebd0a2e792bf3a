import ColonyTransport
import Foundation

/// Who a member is, as it registers: the coordinator keeps this and hands the endpoints out.
public struct MemberInfo: Codable, Sendable, Equatable {
    public var role: MemberRole
    public var name: String
    public var host: String
    public var pid: Int
    /// What the member serves, by name: `["data": "tcp://node1:5601", "parameters": "tcp://node1:5602"]`.
    public var endpoints: [String: String]

    public init(role: MemberRole, name: String, host: String, pid: Int, endpoints: [String: String] = [:]) {
        self.role = role
        self.name = name
        self.host = host
        self.pid = pid
        self.endpoints = endpoints
    }

    /// This process: the host name and pid filled in.
    public static func thisProcess(role: MemberRole, name: String, endpoints: [String: String] = [:]) -> MemberInfo {
        MemberInfo(role: role, name: name, host: ProcessInfo.processInfo.hostName, pid: Int(ProcessInfo.processInfo.processIdentifier), endpoints: endpoints)
    }

    /// A problem with the fields (nil when fine): bounded lengths so a member cannot bloat status replies.
    func problem() -> String? {
        if name.isEmpty || name.utf8.count > 128 { return "name must have 1 to 128 bytes" }
        if host.utf8.count > 255 { return "host longer than 255 bytes" }
        if pid < 0 { return "negative pid" }
        if endpoints.count > 32 { return "more than 32 endpoints" }
        if endpoints.contains(where: { $0.key.utf8.count > 64 || $0.value.utf8.count > 255 }) { return "endpoint name or address too long" }
        return nil
    }
}

/// `register`: the member and its first figures.
struct RegisterPayload: Codable, Sendable {
    var member: MemberInfo
    var stats: MemberStats?
}

/// `registered`: the id the coordinator knows the member by, and the heartbeat schedule it expects.
struct RegisteredPayload: Codable, Sendable {
    var memberID: String
    var heartbeatIntervalSeconds: Double
    var missedHeartbeats: Int

    enum CodingKeys: String, CodingKey {
        case memberID = "member_id", heartbeatIntervalSeconds = "heartbeat_interval_seconds", missedHeartbeats = "missed_heartbeats"
    }
}

/// `heartbeat`: the member's current figures.
struct HeartbeatPayload: Codable, Sendable {
    var stats: MemberStats
}

/// `heartbeatReply`: `known` is false when the coordinator does not know the sender (it restarted,
/// or dropped the member): the member registers again.
struct HeartbeatReplyPayload: Codable, Sendable {
    var known: Bool
    var reason: String?
}

/// `shutdown`: from a member, a request to end the run; from the coordinator, the order.
struct ShutdownPayload: Codable, Sendable {
    var reason: String
}

/// Requests without fields (`discover`, `statusRequest`, `unregister`).
struct EmptyPayload: Codable, Sendable {}

/// `discoverReply`: where the current learner and replay server are, or "none yet".
public struct DiscoverReply: Codable, Sendable, Equatable {
    /// A member as discovery hands it out.
    public struct Member: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var host: String
        public var endpoints: [String: String]
    }

    public var learner: Member?
    public var replay: Member?
    /// "ready" when a learner is registered, "none yet" otherwise (wait and ask again).
    public var message: String

    public var isReady: Bool { learner != nil }

    public static let noneYet = "none yet"
}
