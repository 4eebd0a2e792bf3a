import Foundation

/// What the coordinator answers to a status request (`colony status --json` prints it as is).
public struct ClusterStatus: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var id: String
        public var role: MemberRole
        public var name: String
        public var host: String
        public var pid: Int
        public var endpoints: [String: String]
        /// Seconds since its last heartbeat (or registration).
        public var heartbeatAgeSeconds: Double
        public var registeredSecondsAgo: Double
        public var stats: MemberStats

        public init(id: String, role: MemberRole, name: String, host: String, pid: Int, endpoints: [String: String],
                    heartbeatAgeSeconds: Double, registeredSecondsAgo: Double, stats: MemberStats) {
            self.id = id
            self.role = role
            self.name = name
            self.host = host
            self.pid = pid
            self.endpoints = endpoints
            self.heartbeatAgeSeconds = heartbeatAgeSeconds
            self.registeredSecondsAgo = registeredSecondsAgo
            self.stats = stats
        }

        enum CodingKeys: String, CodingKey {
            case id, role, name, host, pid, endpoints, stats
            case heartbeatAgeSeconds = "heartbeat_age_seconds", registeredSecondsAgo = "registered_seconds_ago"
        }
    }

    /// Figures for the whole run, from the members' stats.
    public struct Aggregate: Codable, Sendable, Equatable {
        /// Sum over workers (frames are made there); the learners' sum when no worker reports any.
        public var framesPerSecond: Double?
        /// Sum over learners.
        public var updatesPerSecond: Double?
        /// The learners' figure (the largest, if several); the workers' mean when no learner reports one.
        public var policyLag: Double?
        /// Mean over the members that report one.
        public var meanReturn: Double?
        public var members: Int
        /// Members per role name.
        public var roles: [String: Int]

        enum CodingKeys: String, CodingKey {
            case framesPerSecond = "frames_per_second", updatesPerSecond = "updates_per_second", policyLag = "policy_lag"
            case meanReturn = "mean_return", members, roles
        }

        public init(members: [Member]) {
            func values(_ role: MemberRole?, _ figure: (MemberStats) -> Double?) -> [Double] {
                members.filter { role == nil || $0.role == role }.compactMap { figure($0.stats) }.filter(\.isFinite)
            }
            // Members' figures are finite but may be huge (forged): a sum that overflows is no figure (and no JSON).
            func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
            func sum(_ values: [Double]) -> Double? { values.isEmpty ? nil : finite(values.reduce(0, +)) }
            func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : finite(values.reduce(0) { $0 + $1 / Double(values.count) }) }
            framesPerSecond = sum(values(.worker, \.framesPerSecond)) ?? sum(values(.learner, \.framesPerSecond))
            updatesPerSecond = sum(values(.learner, \.updatesPerSecond))
            policyLag = values(.learner, \.policyLag).max() ?? mean(values(.worker, \.policyLag))
            meanReturn = mean(values(nil, \.meanReturn))
            self.members = members.count
            roles = Dictionary(members.map { ($0.role.rawValue, 1) }, uniquingKeysWith: +)
        }
    }

    /// A member dropped for silence, kept for a while so `colony status` can say so.
    public struct DroppedMember: Codable, Sendable, Equatable {
        public var id: String
        public var role: MemberRole
        public var name: String
        public var host: String
        public var pid: Int
        public var silentSeconds: Double
        public var droppedSecondsAgo: Double

        public init(id: String, role: MemberRole, name: String, host: String, pid: Int, silentSeconds: Double, droppedSecondsAgo: Double) {
            self.id = id
            self.role = role
            self.name = name
            self.host = host
            self.pid = pid
            self.silentSeconds = silentSeconds
            self.droppedSecondsAgo = droppedSecondsAgo
        }

        enum CodingKeys: String, CodingKey {
            case id, role, name, host, pid
            case silentSeconds = "silent_seconds", droppedSecondsAgo = "dropped_seconds_ago"
        }
    }

    /// Where the coordinator listens.
    public var endpoint: String
    /// The coordinator's run id (changes when it restarts).
    public var runID: String
    public var uptimeSeconds: Double
    public var heartbeatIntervalSeconds: Double
    /// Sorted by role, then name.
    public var members: [Member]
    public var aggregate: Aggregate
    /// The most recent members dropped for silence (newest first).
    public var droppedMembers: [DroppedMember]
    /// Messages the coordinator refused: sender id (or "unknown") → reason → count.
    public var droppedMessages: [String: [String: Int]]
    /// Set once a member asked to end the run (and everyone was told).
    public var shutdownReason: String?
    /// Members left out of `members` so that the reply stays within the message limit (workers
    /// first; `aggregate` still counts them). Nil when every member is listed.
    public var omittedMembers: Int?

    public init(endpoint: String, runID: String, uptimeSeconds: Double, heartbeatIntervalSeconds: Double, members: [Member],
                aggregate: Aggregate, droppedMembers: [DroppedMember], droppedMessages: [String: [String: Int]], shutdownReason: String?) {
        self.endpoint = endpoint
        self.runID = runID
        self.uptimeSeconds = uptimeSeconds
        self.heartbeatIntervalSeconds = heartbeatIntervalSeconds
        self.members = members
        self.aggregate = aggregate
        self.droppedMembers = droppedMembers
        self.droppedMessages = droppedMessages
        self.shutdownReason = shutdownReason
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, members, aggregate
        case runID = "run_id", uptimeSeconds = "uptime_seconds", heartbeatIntervalSeconds = "heartbeat_interval_seconds"
        case droppedMembers = "dropped_members", droppedMessages = "dropped_messages", shutdownReason = "shutdown_reason"
        case omittedMembers = "omitted_members"
    }

    /// This status with as many members as fit in `bytes` of JSON (workers are left out first).
    public func fitting(inBytes bytes: Int) -> ClusterStatus {
        var status = self
        let encoder = JSONEncoder()
        guard let size = try? encoder.encode(status).count, size > bytes else { return status }
        status.members = members.filter { $0.role != .worker } + members.filter { $0.role == .worker }
        while !status.members.isEmpty, let size = try? encoder.encode(status).count, size > bytes {
            let keep = status.members.count / 2
            status.omittedMembers = (status.omittedMembers ?? 0) + status.members.count - keep
            status.members.removeLast(status.members.count - keep)
        }
        return status
    }
}
