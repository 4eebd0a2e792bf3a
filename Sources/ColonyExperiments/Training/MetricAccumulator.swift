import ColonyAgents
import ColonyStorage

/// Averages an agent's (or learner's) info scalars between TensorBoard writes.
public struct MetricAccumulator: Sendable {
    private var sums: [String: Double] = [:]
    private var counts: [String: Int] = [:]

    public init() {}

    public mutating func add(_ info: AgentInfo) {
        for (key, value) in info.scalars where value.isFinite {
            sums[key, default: 0] += value
            counts[key, default: 0] += 1
        }
    }

    public mutating func write(to board: TensorBoardWriter, step: Int) {
        for (key, sum) in sums { board.scalar(key, sum / Double(counts[key]!), step: step) }
        sums.removeAll(keepingCapacity: true)
        counts.removeAll(keepingCapacity: true)
    }
}
