import Synchronization

/// Counts dropped messages per sender and reason: `["00000000000004d2": ["non-finite": 3], "unknown": ["bad magic": 1]]`.
/// The sender is the id the header claims (when it has the right magic and version), else "unknown";
/// the claim is not trusted for anything but this count. Thread-safe: the socket's thread records,
/// any thread reads.
///
/// Memory is bounded: a peer can claim any id, so after `maximumSenders` distinct senders the rest are
/// counted together under "other" (200k forged ids would otherwise grow the table, and every status
/// reply that carries it, without end).
public final class DropCounter: Sendable {
    private let counts = Mutex<[String: [DropReason: Int]]>([:])
    /// Distinct senders counted by their own key; later ones share `otherKey`.
    public let maximumSenders: Int
    /// Where senders beyond `maximumSenders` are counted.
    public static let otherKey = "other"

    public init(maximumSenders: Int = 256) {
        self.maximumSenders = max(1, maximumSenders)
    }

    /// The key a sender is counted under.
    public static func key(forSender sender: UInt64?) -> String {
        sender.map(formatID) ?? "unknown"
    }

    public func record(_ error: WireError, sender: UInt64?) {
        record(error.reason, sender: sender)
    }

    public func record(_ reason: DropReason, sender: UInt64?) {
        let key = Self.key(forSender: sender)
        counts.withLock { counts in
            let tracked = counts[key] != nil || counts.count < maximumSenders
            counts[tracked ? key : Self.otherKey, default: [:]][reason, default: 0] += 1
        }
    }

    /// Sender → reason → count, with reasons by their names (`DropReason.rawValue`).
    public func snapshot() -> [String: [String: Int]] {
        counts.withLock { counts in
            counts.mapValues { reasons in
                Dictionary(uniqueKeysWithValues: reasons.map { ($0.key.rawValue, $0.value) })
            }
        }
    }

    public func count(sender: UInt64?, reason: DropReason) -> Int {
        counts.withLock { $0[Self.key(forSender: sender)]?[reason] ?? 0 }
    }

    public func count(reason: DropReason) -> Int {
        counts.withLock { $0.values.reduce(0) { $0 + ($1[reason] ?? 0) } }
    }

    /// Reason → count over every sender (a member's status shows these: a bounded, small map).
    public func byReason() -> [String: Int] {
        counts.withLock { counts in
            var totals: [String: Int] = [:]
            for reasons in counts.values {
                for (reason, count) in reasons { totals[reason.rawValue, default: 0] += count }
            }
            return totals
        }
    }

    public var total: Int {
        counts.withLock { $0.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    }
}

/// Ids as 16 lowercase hex digits, the way logs, drop counts and `colony status` show them.
public func formatID(_ id: UInt64) -> String {
    let digits = String(id, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
