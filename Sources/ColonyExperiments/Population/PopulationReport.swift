import Foundation

/// `colony pbt status`: fitness per generation and slot, the current members' values, and each current
/// member's ancestry (the lineages it descends from and where it copied them).
public struct PopulationReport {
    public let state: PopulationState
    public let records: [LineageRecord]

    public init(state: PopulationState, records: [LineageRecord]) {
        self.state = state
        self.records = records
    }

    public var text: String {
        let settings = state.settings
        var lines = [
            "\(settings.agent) on \(settings.environment): \(settings.size) members, \(settings.rule), "
                + "generation \(state.generation) of \(settings.generations) (\(settings.interval) frames each)"
                + (settings.sharesReplay ? ", shared replay" : "") + (settings.parameterNoise > 0 ? ", parameter noise σ = \(settings.parameterNoise)" : "")
                + (settings.targetFitness.map { ", target fitness \($0)" } ?? "") + (settings.cluster.map { ", members as clusters of \($0)" } ?? ""),
            "",
        ]
        let generations = (0..<state.generation).map { "g\($0 + 1)" }
        let keys = settings.mutations.compactMap { $0.split(separator: "=").first.map(String.init) }
        lines.append((["slot", "lineage"] + generations + keys).joined(separator: "\t"))
        for member in state.members {
            let fitness = member.fitness.map { $0.map { String(format: "%.1f", $0) } ?? "failed" }
            lines.append(([String(member.slot), String(member.lineage)] + fitness + keys.map { member.values[$0] ?? "" }).joined(separator: "\t"))
        }
        if !records.isEmpty {
            lines += ["", "lineage (newest first): lineage ← parent at generation g"]
            // The record that created each lineage: its first exploit, or its start.
            var origin: [Int: LineageRecord] = [:]
            for record in records where record.action == "exploit" && origin[record.lineage] == nil { origin[record.lineage] = record }
            for member in state.members {
                var chain = ["\(member.lineage)"]
                var lineage = member.lineage
                while let record = origin[lineage], chain.count < 1_000 {
                    chain.append("\(record.parent) (g\(record.generation), slot \(record.donorSlot ?? record.slot))")
                    lineage = record.parent
                }
                lines.append("slot \(member.slot): " + chain.joined(separator: " ← "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
