/// What a member is: the role decides what `discover` hands out and how figures add up.
public enum MemberRole: String, Codable, CaseIterable, Sendable, Comparable {
    case learner, worker, replay, other

    public static func < (lhs: MemberRole, rhs: MemberRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What a member is waiting on, in the words `colony status` shows. Roles may use their own words;
/// these are the ones the design names.
public struct WaitingOn: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// A worker that has not received its first parameters.
    public static let noParameters: WaitingOn = "no parameters yet"
    /// A sender blocked at the high-water mark, or out of credits.
    public static let backpressure: WaitingOn = "backpressure"
    /// The replay server's samples-per-insert limiter holds inserts or samples back.
    public static let rateLimiter: WaitingOn = "rate limiter"
    /// Idle (a learner with no data).
    public static let nothingToDo: WaitingOn = "nothing to do"
    /// A held member's cluster at a population's boundary: its learner holds until the population releases it.
    public static let boundaryHold: WaitingOn = "learner holding at a boundary"
    /// A worker whose learner does not answer (or is not registered yet).
    public static let learnerUnreachable: WaitingOn = "learner unreachable"

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The figures a member reports in each heartbeat. On the wire it is one flat JSON object: the named
/// fields under their snake_case keys, then `extra` (any other numbers a role wants to show).
///
/// `{"frames_per_second": 5210.4, "policy_lag": 1.2, "waiting_on": "backpressure", "episodes": 31}`
public struct MemberStats: Codable, Sendable, Equatable {
    /// Environment frames per second (workers: generated; learner: consumed).
    public var framesPerSecond: Double?
    /// Learner updates (optimizer steps) per second.
    public var updatesPerSecond: Double?
    /// Parameter versions between acting and learning (learner: measured; worker: its own lag).
    public var policyLag: Double?
    /// Mean return of recent episodes.
    public var meanReturn: Double?
    /// nil while working.
    public var waitingOn: WaitingOn?
    /// Any other figures, by name (at most 32 kept from the wire).
    public var extra: [String: Double]

    public init(framesPerSecond: Double? = nil, updatesPerSecond: Double? = nil, policyLag: Double? = nil, meanReturn: Double? = nil,
                waitingOn: WaitingOn? = nil, extra: [String: Double] = [:]) {
        self.framesPerSecond = framesPerSecond
        self.updatesPerSecond = updatesPerSecond
        self.policyLag = policyLag
        self.meanReturn = meanReturn
        self.waitingOn = waitingOn
        self.extra = extra
    }

    static let namedKeys: Set<String> = ["frames_per_second", "updates_per_second", "policy_lag", "mean_return", "waiting_on"]
    static let maximumExtra = 32

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        framesPerSecond = try container.decodeIfPresent(Double.self, forKey: Key("frames_per_second"))
        updatesPerSecond = try container.decodeIfPresent(Double.self, forKey: Key("updates_per_second"))
        policyLag = try container.decodeIfPresent(Double.self, forKey: Key("policy_lag"))
        meanReturn = try container.decodeIfPresent(Double.self, forKey: Key("mean_return"))
        waitingOn = try container.decodeIfPresent(WaitingOn.self, forKey: Key("waiting_on"))
        extra = [:]
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
        where !Self.namedKeys.contains(key.stringValue) && extra.count < Self.maximumExtra {
            // Free-form: numbers are kept, anything else is ignored.
            if let value = try? container.decode(Double.self, forKey: key) { extra[key.stringValue] = value }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        // JSON has no NaN or infinity: such figures are left out.
        func put(_ value: Double?, _ key: String) throws {
            if let value, value.isFinite { try container.encode(value, forKey: Key(key)) }
        }
        try put(framesPerSecond, "frames_per_second")
        try put(updatesPerSecond, "updates_per_second")
        try put(policyLag, "policy_lag")
        try put(meanReturn, "mean_return")
        if let waitingOn { try container.encode(waitingOn, forKey: Key("waiting_on")) }
        for (key, value) in extra where !Self.namedKeys.contains(key) { try put(value, key) }
    }
}
