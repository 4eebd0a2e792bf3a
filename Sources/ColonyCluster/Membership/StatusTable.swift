import Foundation

/// `colony status` as text: one line about the coordinator, a table of members, the aggregate
/// figures, and what was dropped.
///
/// ```
/// coordinator tcp://0.0.0.0:5555  run 3f2a9c0d11e4b7a2  up 12m03s  heartbeat 1.0 s  4 members (1 learner, 3 workers)
///
/// ROLE     NAME       HOST    PID    HEARTBEAT  FRAMES/S  UPDATES/S  WAITING ON
/// learner  learner    node1   4121   0.3 s      45.1k     12.0       -
/// worker   worker-0   node2   977    0.8 s      15.0k     -          backpressure
///
/// aggregate: 45.1k frames/s, 12.0 updates/s, policy lag 1.3, mean return 187.2
/// ```
public enum StatusTable {
    public static func render(_ status: ClusterStatus) -> String {
        var lines: [String] = []
        let roleCounts = MemberRole.allCases.compactMap { role -> String? in
            guard let count = status.aggregate.roles[role.rawValue], count > 0 else { return nil }
            return "\(count) \(role.rawValue)\(count == 1 ? "" : "s")"
        }
        let memberSummary = status.members.isEmpty ? "no members" :
            "\(status.members.count) member\(status.members.count == 1 ? "" : "s") (\(roleCounts.joined(separator: ", ")))"
        lines.append("coordinator \(status.endpoint)  run \(status.runID)  up \(duration(status.uptimeSeconds))  "
            + "heartbeat \(String(format: "%.1f", status.heartbeatIntervalSeconds)) s  \(memberSummary)")
        if let reason = status.shutdownReason { lines.append("shutting down: \(reason)") }

        if !status.members.isEmpty {
            lines.append("")
            var rows = [["ROLE", "NAME", "HOST", "PID", "HEARTBEAT", "FRAMES/S", "UPDATES/S", "WAITING ON"]]
            for member in status.members {
                rows.append([
                    member.role.rawValue, member.name, member.host, "\(member.pid)",
                    String(format: "%.1f s", member.heartbeatAgeSeconds),
                    figure(member.stats.framesPerSecond), figure(member.stats.updatesPerSecond),
                    member.stats.waitingOn?.rawValue ?? "-",
                ])
            }
            lines += table(rows)
        }
        if let omitted = status.omittedMembers { lines.append("(\(omitted) more members not listed: the reply is kept within its size limit)") }

        let aggregate = status.aggregate
        var figures: [String] = []
        figures.append("\(figure(aggregate.framesPerSecond)) frames/s")
        figures.append("\(figure(aggregate.updatesPerSecond)) updates/s")
        figures.append("policy lag \(aggregate.policyLag.map { String(format: "%.1f", $0) } ?? "-")")
        figures.append("mean return \(aggregate.meanReturn.map { String(format: "%.1f", $0) } ?? "-")")
        lines.append("")
        lines.append("aggregate: " + figures.joined(separator: ", "))

        for dropped in status.droppedMembers {
            lines.append("dropped \(dropped.droppedSecondsAgo < 60 ? String(format: "%.0f s", dropped.droppedSecondsAgo) : duration(dropped.droppedSecondsAgo)) ago: "
                + "\(dropped.role.rawValue) \(dropped.name) (\(dropped.host), pid \(dropped.pid)), silent for \(String(format: "%.1f", dropped.silentSeconds)) s")
        }
        let refused = status.droppedMessages.sorted { $0.key < $1.key }.map { sender, reasons in
            "\(sender): " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        }
        if !refused.isEmpty { lines.append("refused messages: " + refused.joined(separator: "; ")) }
        // What members refused on their own sockets (their stats' "dropped: <reason>" figures).
        let prefix = "dropped: "
        for member in status.members {
            let reasons = member.stats.extra.filter { $0.key.hasPrefix(prefix) && $0.value > 0 }.sorted { $0.key < $1.key }
            guard !reasons.isEmpty else { continue }
            lines.append("refused by \(member.name): " + reasons.map { "\($0.key.dropFirst(prefix.count)) ×\(String(format: "%.0f", $0.value))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    /// 45123 → "45.1k", nil → "-".
    static func figure(_ value: Double?) -> String {
        guard let value else { return "-" }
        if abs(value) >= 1e6 { return String(format: "%.2fM", value / 1e6) }
        if abs(value) >= 1e3 { return String(format: "%.1fk", value / 1e3) }
        return String(format: "%.1f", value)
    }

    /// 725 → "12m05s".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
        return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
    }

    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
