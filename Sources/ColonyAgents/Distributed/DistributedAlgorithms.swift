import ColonyEnvironments
import Synchronization

/// The registry of distributed algorithms (what `colony-learner` and `colony-worker` run), as
/// `Agents` is of single-process agents.
public enum DistributedAlgorithms {
    private static let entries: Mutex<[String: DistributedAlgorithm]> = Mutex(
        Dictionary(uniqueKeysWithValues: builtIns.map { ($0.id, $0) }))

    /// The built-ins, one registration each.
    private static let builtIns: [DistributedAlgorithm] = [
        IMPALADistributed.algorithm,
        A3CDistributed.algorithm,
        ApeXDQNDistributed.algorithm,
        DistributedSACAlgorithm.algorithm,
    ]

    /// Registered ids, sorted.
    public static func list() -> [String] { entries.withLock { $0.keys.sorted() } }

    /// Every registered algorithm, sorted by id.
    public static func all() -> [DistributedAlgorithm] { entries.withLock { $0.values.sorted { $0.id < $1.id } } }

    /// The algorithm `id`, or an error naming the closest registered id.
    public static func lookup(_ id: String) throws -> DistributedAlgorithm {
        let (algorithm, known) = entries.withLock { ($0[id], $0.keys.sorted()) }
        guard let algorithm else {
            let hint = closestMatch(to: id, in: known).map { "did you mean '\($0)'? " } ?? ""
            throw AgentError("'\(id)' does not run distributed; \(hint)distributed algorithms: \(known.joined(separator: ", "))")
        }
        return algorithm
    }

    /// Adds (or replaces) an algorithm.
    public static func register(_ algorithm: DistributedAlgorithm) {
        entries.withLock { $0[algorithm.id] = algorithm }
    }
}
