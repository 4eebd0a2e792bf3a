import Synchronization

/// Counts dropped messages per sender and reason: `["00000000000004d2": ["non-finite": 3], "unknown": ["bad magic": 1]]`.
/// The sender is the id the header claims (when it has the right magic and version), else "unknown";
/// the claim is not trusted for anything but this count. Thread-safe: the socket's thread records,
/// any thread reads.
public final class DropCounter: Sendable {
    private let counts = Mutex<[String: [DropReason: Int]]>([:])

    public init() {}

    /// The key a sender is counted under.
    public static func key(forSender sender: UInt64?) -> String {
        sender.map(formatID) ?? "unknown"
    }

    public func record(_ error: WireError, sender: UInt64?) {
        record(error.reason, sender: sender)
    }

    public func record(_ reason: DropReason, sender: UInt64?) {
        let key = Self.key(forSender: sender)
        counts.withLock { $0[key, default: [:]][reason, default: 0] += 1 }
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

    public var total: Int {
        counts.withLock { $0.values.reduce(0) { $0 + $1.values.reduce(0, +) } }
    }
}

/// Ids as 16 lowercase hex digits, the way logs, drop counts and `colony status` show them.
public func formatID(_ id: UInt64) -> String {
    let digits = String(id, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
