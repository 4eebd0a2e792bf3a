import ColonyStorage

/// What a grid asks of Slurm for each array task, and how each cell behaves under it.
/// Stored with every submitted array (`slurm/jobs.json`), so `resubmit` asks for the same again.
public struct SlurmOptions: Codable, Sendable, Equatable {
    /// `--partition`; nil: the cluster's default partition.
    public var partition: String?
    /// `--time`, in any of Slurm's forms (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS); nil: the partition's default.
    public var time: String?
    /// `--cpus-per-task`; also the number of BLAS threads a cell uses.
    public var cpusPerTask: Int = 1
    /// `--mem` (e.g. 4G); nil: the cluster's default.
    public var memory: String?
    /// At most this many array tasks run at once (`--array=...%K`); nil: no limit.
    public var throttle: Int?
    /// Further `#SBATCH` arguments, verbatim (`--account=lab`, `--qos=long`, `--exclusive`...).
    public var sbatchArguments: [String] = []
    /// Seconds before the time limit at which Slurm sends SIGUSR1 to the cell (`--signal=B:USR1@S`).
    public var signalLead: Int = 120
    /// A cell requeues itself at most this many times (`SLURM_RESTART_COUNT`); then it fails.
    public var maxRequeues: Int = 20
    /// Frames between a cell's checkpoints (0: the trainer's default, a tenth of the run and at least 10000).
    public var checkpointEvery: Int = 0
    /// Each cell is one multi-node cluster job (coordinator, learner, workers) instead of one process; nil: single-process cells.
    public var distributed: DistributedLayout?

    public init() {}

    /// Keys of a grid file's `[slurm]` table (TOML), each the snake_case of a field.
    public static let fileKeys = ["partition", "time", "cpus_per_task", "mem", "throttle", "sbatch_args", "signal_lead", "max_requeues", "checkpoint_every"]

    /// Takes the values of a grid file's `[slurm]` table.
    public mutating func apply(table entries: [(key: String, value: TOMLValue)], source: String) throws {
        func fail(_ key: String, _ expected: String) -> SlurmError { SlurmError("\(source): [slurm] \(key) takes \(expected)") }
        for (key, value) in entries {
            switch (key, value) {
            case ("partition", .string(let v)): partition = v
            case ("time", .string(let v)): time = v
            case ("time", .int(let v)): time = String(v)
            case ("cpus_per_task", .int(let v)): cpusPerTask = v
            case ("mem", .string(let v)): memory = v
            case ("throttle", .int(let v)): throttle = v
            case ("signal_lead", .int(let v)): signalLead = v
            case ("max_requeues", .int(let v)): maxRequeues = v
            case ("checkpoint_every", .int(let v)): checkpointEvery = v
            case ("sbatch_args", .array(let items)):
                sbatchArguments = try items.map { item in
                    guard case .string(let text) = item else { throw fail(key, "an array of strings") }
                    return text
                }
            case ("partition", _), ("mem", _): throw fail(key, "a string")
            case ("time", _): throw fail(key, "a string such as \"2:00:00\" or minutes")
            case ("cpus_per_task", _), ("throttle", _), ("signal_lead", _), ("max_requeues", _), ("checkpoint_every", _): throw fail(key, "an integer")
            case ("sbatch_args", _): throw fail(key, "an array of strings")
            default:
                let hint = closestKey(to: key).map { " (did you mean \($0)?)" } ?? ""
                throw SlurmError("\(source): unknown key '\(key)' in [slurm]\(hint); known: \(Self.fileKeys.joined(separator: ", "))")
            }
        }
    }

    private func closestKey(to key: String) -> String? {
        Self.fileKeys.first { $0.replacingOccurrences(of: "_", with: "") == key.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "") }
    }

    /// Refuses what Slurm would refuse later, or what would make a cell misbehave, before anything is submitted.
    public func validate() throws {
        if cpusPerTask < 1 { throw SlurmError("--cpus-per-task must be at least 1") }
        if let throttle, throttle < 1 { throw SlurmError("--throttle must be at least 1") }
        if !(0...65535).contains(signalLead) { throw SlurmError("--signal-lead must be between 0 and 65535 seconds (Slurm's limit)") }
        if maxRequeues < 0 { throw SlurmError("--max-requeues cannot be negative") }
        if checkpointEvery < 0 { throw SlurmError("--checkpoint-every cannot be negative") }
        if let distributed {
            if distributed.nodes < 1 { throw SlurmError("--nodes must be at least 1") }
            if distributed.workersPerNode < 1 { throw SlurmError("--workers-per-node must be at least 1") }
        }
        if let partition, partition.isEmpty || partition.contains(where: \.isWhitespace) { throw SlurmError("--partition '\(partition)' is not a partition name") }
        if let memory, memory.isEmpty || memory.contains(where: \.isWhitespace) { throw SlurmError("--mem '\(memory)' is not a memory size such as 4G") }
        if let time {
            guard let seconds = Self.seconds(ofTimeLimit: time) else {
                throw SlurmError("--time '\(time)' is not a Slurm time limit: use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS")
            }
            if seconds > 0 && seconds <= signalLead {
                throw SlurmError("--time \(time) is not longer than --signal-lead \(signalLead) s: every cell would be told to stop as it starts")
            }
        }
        for argument in sbatchArguments {
            guard argument.hasPrefix("-"), !argument.contains("\n") else {
                throw SlurmError("--sbatch-arg '\(argument)' is not an sbatch option: pass options such as --sbatch-arg=--account=lab")
            }
            let name = String(argument.split(separator: "=", maxSplits: 1)[0])
            if ["--job-name", "--array"].contains(name) || argument.hasPrefix("-J") || argument.hasPrefix("-a") {
                throw SlurmError("--sbatch-arg \(argument): Colony sets the job name and the array itself (status finds the tasks by them); use --name and --throttle")
            }
        }
    }

    /// A Slurm time limit in seconds; 0 for UNLIMITED/INFINITE; nil when malformed.
    public static func seconds(ofTimeLimit text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if ["unlimited", "infinite"].contains(trimmed.lowercased()) { return 0 }
        var days = 0
        var rest = Substring(trimmed)
        if let dash = trimmed.firstIndex(of: "-") {
            guard let d = Int(trimmed[..<dash]), d >= 0 else { return nil }
            days = d
            rest = trimmed[trimmed.index(after: dash)...]
        }
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        let values = parts.map { $0! }
        let hasDays = trimmed.contains("-")
        switch (hasDays, values.count) {
        case (false, 1): return values[0] * 60                                        // minutes
        case (false, 2): return values[0] * 60 + values[1]                             // minutes:seconds
        case (false, 3): return values[0] * 3600 + values[1] * 60 + values[2]          // hours:minutes:seconds
        case (true, 1): return days * 86400 + values[0] * 3600                          // days-hours
        case (true, 2): return days * 86400 + values[0] * 3600 + values[1] * 60         // days-hours:minutes
        case (true, 3): return days * 86400 + values[0] * 3600 + values[1] * 60 + values[2]
        default: return nil
        }
    }
}

/// The shape of a distributed cell's job: `nodes` nodes; the coordinator and the learner on the first,
/// `workersPerNode` workers on each of the others (on the first too when there is only one).
public struct DistributedLayout: Codable, Sendable, Equatable {
    public var nodes: Int
    public var workersPerNode: Int
    /// Environments each worker steps (the cluster file's envs_per_worker).
    public var environmentsPerWorker: Int

    public init(nodes: Int, workersPerNode: Int, environmentsPerWorker: Int = 8) {
        self.nodes = nodes
        self.workersPerNode = workersPerNode
        self.environmentsPerWorker = environmentsPerWorker
    }

    /// Nodes that run workers, and so the number of workers in all.
    public var workerNodes: Int { nodes > 1 ? nodes - 1 : 1 }
    public var workers: Int { workerNodes * workersPerNode }
}
