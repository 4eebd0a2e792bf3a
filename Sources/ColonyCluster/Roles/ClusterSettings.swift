import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage
import Foundation

/// A cluster run as a TOML file (`cluster/impala-cartpole.toml`): what to train, the shape of the
/// cluster, and the algorithm's overrides.
///
/// ```toml
/// algorithm = "impala"        # or "a3c"; "apex_dqn" and "apex_sac" add colony-replay (ReplayClusterSettings)
/// env = "CartPole-v1"
/// frames = 1_000_000
/// seed = 1
/// runs_dir = "runs/cluster"
/// # run_dir = "..."           # the learner's run directory itself, instead of runs_dir/<algorithm>/<env>/seed-<s>
///
/// [cluster]
/// coordinator = "tcp://127.0.0.1:5555"
/// host = "127.0.0.1"          # the address learners and replay servers advertise
/// workers = 2                 # started by `colony cluster up`
/// envs_per_worker = 8
/// credits = 2                 # unrolls each worker may have in flight
/// batch_unrolls = 2           # IMPALA: unrolls per learner update
/// max_policy_lag = 50         # older trajectories or gradients are dropped (counted)
/// checkpoint_every = 100_000
/// keep_checkpoints = 3        # numbered learner checkpoints kept besides latest.h5
/// hold_at_target = false      # at `frames`, checkpoint (and the replay server its table) and wait for the next interval (LearnerHold)
///
/// [agent]                     # keys of `colony config impala` (a3c: of a2c; apex_dqn: dqn; apex_sac: sac)
/// learning_rate = 1e-3
///
/// [replay]                    # apex_dqn and apex_sac only: the replay table (colony-replay --help)
/// ```
public struct ClusterSettings: Sendable {
    public var algorithm: String
    /// The environment id (`env = "..."` or `[env] id`).
    public var environment: String { environmentSettings.id }
    /// The id with the `[env]` table: kwargs, wrappers and the Python of `gym:` environments.
    public var environmentSettings: EnvironmentSettings
    public var frames: Int
    public var seed: UInt64
    public var runsDirectory: String
    /// `run_dir`: the learner's run directory when given (a population member's slot), else under `runsDirectory`.
    public var explicitRunDirectory: String?
    public var coordinator: String
    public var host: String
    public var workers: Int
    public var environmentsPerWorker: Int
    public var credits: Int
    public var batchUnrolls: Int
    public var maxPolicyLag: Int
    public var checkpointInterval: Int
    /// Numbered learner checkpoints kept besides `latest.h5`.
    public var keepCheckpoints: Int
    /// At the frame target the learner checkpoints and waits, its workers attached, for the next interval
    /// (`LearnerHold`: a population member whose cluster stays up across boundaries) instead of ending the run.
    public var holdsAtTarget: Bool
    public var configuration: Configuration
    /// The replay table and off-policy settings of `apex_dqn` and `apex_sac`; nil for IMPALA and A3C.
    public var replay: ReplayClusterSettings?

    /// Ids of the distributed algorithms (`DistributedAlgorithms`), sorted.
    public static var algorithms: [String] { DistributedAlgorithms.list() }
    /// Algorithms whose workers insert transitions into `colony-replay` and whose learner samples them.
    public static var replayAlgorithms: Set<String> { Set(DistributedAlgorithms.all().filter(\.usesReplay).map(\.id)) }
    static let clusterKeys: Set<String> = [
        "coordinator", "host", "workers", "envs_per_worker", "credits", "batch_unrolls", "max_policy_lag", "checkpoint_every",
        "keep_checkpoints", "hold_at_target",
    ]

    /// The registered algorithm this run trains with.
    public var distributed: DistributedAlgorithm { get throws { try DistributedAlgorithms.lookup(algorithm) } }

    /// Whether this run trains from a replay server (Ape-X style) rather than from trajectories or gradients.
    public var usesReplay: Bool { replay != nil }

    /// `[cluster] workers`: also the bound of `colony cluster up --workers`.
    public static let workersRange = 0...1024
    /// `[cluster] envs_per_worker`: also the bound of `colony-worker --envs` and of what a learner accepts.
    public static let environmentsPerWorkerRange = 1...4096

    public init(path: String) throws {
        try self.init(document: try TOMLDocument(contentsOfFile: path), source: path)
    }

    public init(document: TOMLDocument, source: String) throws {
        func fail(_ message: String) -> ConfigurationError { .invalid("\(source): \(message)") }
        func string(_ key: String, _ fallback: String? = nil) throws -> String {
            switch document[key] {
            case .string(let value)?: return value
            case nil: if let fallback { return fallback }; throw fail("missing '\(key)'")
            case let other?: throw fail("'\(key)' must be a string, not \(other)")
            }
        }
        func int(_ key: String, _ fallback: Int, range: ClosedRange<Int>) throws -> Int {
            switch document[key] {
            case .int(let value)? where range.contains(value): return value
            case nil: return fallback
            case let other?: throw fail("'\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), not \(other)")
            }
        }
        for (key, _) in document.table("") where !["algorithm", "env", "frames", "seed", "runs_dir", "run_dir"].contains(key) {
            throw fail("unknown key '\(key)' (top-level keys: algorithm, env, frames, seed, runs_dir, run_dir; tables: [cluster], [agent])")
        }
        algorithm = try string("algorithm")
        guard let distributed = try? DistributedAlgorithms.lookup(algorithm) else {
            throw fail("algorithm '\(algorithm)' does not run as a cluster; use one of \(Self.algorithms.joined(separator: ", "))")
        }
        let replayBased = distributed.usesReplay
        for table in document.tableNames where !["cluster", "agent", "replay", "env", "env.kwargs"].contains(table) {
            throw fail("unknown table [\(table)]; a cluster file has [cluster], [agent], [env] and, for \(Self.replayAlgorithms.sorted().joined(separator: " and ")), [replay]")
        }
        if !replayBased && document.tableNames.contains("replay") {
            throw fail("[replay] is for \(Self.replayAlgorithms.sorted().joined(separator: " and ")); \(algorithm) has no replay server")
        }
        let knownClusterKeys = replayBased ? Self.clusterKeys.union(ReplayClusterSettings.clusterKeys) : Self.clusterKeys
        for (key, _) in document.table("cluster") where !knownClusterKeys.contains(key) {
            if ReplayClusterSettings.clusterKeys.contains(key) {
                throw fail("[cluster] '\(key)' is for \(Self.replayAlgorithms.sorted().joined(separator: " and ")), not \(algorithm)")
            }
            let hint = closestMatch(to: key, in: Array(knownClusterKeys)).map { "; did you mean '\($0)'?" } ?? ""
            throw fail("unknown key '\(key)' in [cluster]\(hint)")
        }
        do {
            guard let settings = try ConfigurationSources.environmentSettings(file: document) else {
                throw fail("no environment: set env = \"<id>\" at the top level or id in [env]")
            }
            environmentSettings = settings
        } catch let error as ConfigurationError {
            throw fail("\(error)")
        }
        frames = try int("frames", 1_000_000, range: 1...Int.max)
        seed = UInt64(try int("seed", 1, range: 0...Int.max))
        runsDirectory = try string("runs_dir", "runs")
        explicitRunDirectory = document["run_dir"] == nil ? nil : try string("run_dir")
        coordinator = try string("cluster.coordinator", "tcp://127.0.0.1:5555")
        host = try string("cluster.host", "127.0.0.1")
        workers = try int("cluster.workers", 2, range: Self.workersRange)
        environmentsPerWorker = try int("cluster.envs_per_worker", 8, range: Self.environmentsPerWorkerRange)
        credits = try int("cluster.credits", 2, range: 1...64)
        batchUnrolls = try int("cluster.batch_unrolls", 2, range: 1...1024)
        maxPolicyLag = try int("cluster.max_policy_lag", 50, range: 0...1_000_000)
        checkpointInterval = try int("cluster.checkpoint_every", 100_000, range: 1...Int.max)
        keepCheckpoints = try int("cluster.keep_checkpoints", RunRecorder.defaultKeepCheckpoints, range: 1...10_000)
        switch document["cluster.hold_at_target"] {
        case .bool(let value)?: holdsAtTarget = value
        case nil: holdsAtTarget = false
        case let other?: throw fail("'cluster.hold_at_target' must be true or false, not \(other)")
        }

        let agent = distributed.agent
        let schema = try Agents.schema(agent)
        var overrides: [String: ConfigurationValue] = [:]
        for (key, value) in document.table("agent") {
            guard let spec = schema.key(key) else {
                throw ConfigurationError.unknownKey(key: key, agent: agent, suggestion: closestMatch(to: key, in: schema.keys.map(\.name)))
            }
            guard let converted = ConfigurationSources.convert(value, to: spec.kind) else {
                throw fail("[agent] '\(key)' takes \(spec.kind.withArticle), not \(value)")
            }
            overrides[key] = converted
        }
        // Each worker acts on envs_per_worker environments; the learner's schedules count all frames.
        if schema.key("num_envs") != nil { overrides["num_envs"] = .int(environmentsPerWorker) }
        if schema.key("total_frames") != nil && overrides["total_frames"] == nil { overrides["total_frames"] = .int(frames) }
        configuration = try schema.resolve(overrides)
        if replayBased {
            replay = try ReplayClusterSettings(
                document: document, source: source, algorithm: distributed, environment: environmentSettings, configuration: configuration,
                runDirectory: explicitRunDirectory.map { RunDirectory(path: $0) }
                    ?? RunDirectory(runsDirectory: runsDirectory, agent: algorithm, environment: environment, seed: seed), fail: fail)
        }
    }

    /// Reads the file at `path` with a command line's overrides (nil: the file's). A role keeps it to read the file
    /// again when its held cluster (`hold_at_target`) is released to the next interval.
    public static func reader(path: String, coordinator: String? = nil, host: String? = nil, environmentsPerWorker: Int? = nil)
        -> @Sendable () throws -> ClusterSettings {
        return {
            var settings = try ClusterSettings(path: path)
            if let coordinator { settings.coordinator = coordinator }
            if let host { settings.host = host }
            if let environmentsPerWorker { settings.environmentsPerWorker = environmentsPerWorker }
            return settings
        }
    }

    /// The learner's run directory: `run_dir`, or `runs_dir/<algorithm>/<env>/seed-<s>`.
    public var runDirectory: RunDirectory {
        explicitRunDirectory.map { RunDirectory(path: $0) } ?? RunDirectory(runsDirectory: runsDirectory, agent: algorithm, environment: environment, seed: seed)
    }
}
