import ColonyTransport

extension DropCounter {
    /// Drops per reason as status figures (`"dropped: out of range": 3`) for a member's heartbeat
    /// stats: `colony status` shows them beside the member's other figures. At most one per
    /// `DropReason`, so the stats stay small whatever the senders claim.
    var statusFigures: [String: Double] {
        Dictionary(uniqueKeysWithValues: byReason().map { ("dropped: \($0.key)", Double($0.value)) })
    }
}
