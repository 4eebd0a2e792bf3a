import ColonyAgents
import ColonyStorage
import Foundation

/// A grid run as Slurm job arrays, in `runs/NAME/`:
///
/// - `manifest.json`: the grid, index → cell (see `ExperimentGrid`)
/// - `slurm/array.sbatch` (and `array-from-<offset>.sbatch`, `resubmit-<n>.sbatch`): the scripts submitted
/// - `slurm/jobs.json`: every submitted array: job id, cells, options, time (`SlurmJobRecord`)
/// - `slurm/cells/<index>.json`: each start of each cell (`SlurmCellRecord`)
/// - `slurm/logs/<arrayjob>_<task>.out|.err`: the tasks' output, appended across requeues
/// - `<agent>/<env>/seed-<s>/`: each cell's run directory, with the `status.json` the cell writes
///
/// Nothing here waits for jobs: submitting returns once sbatch has the arrays, and the state of a cell
/// is read when asked for, from the queue and from the files the cell writes itself.
public struct SlurmExperiment: Sendable {
    /// Absolute path of runs/NAME.
    public let directory: String
    /// The grid, its run directories under `directory`.
    public let grid: ExperimentGrid
    public var client: SlurmClient

    /// An experiment that was submitted before (its manifest exists).
    public init(directory: String, client: SlurmClient = SlurmClient()) throws {
        self.directory = Self.absolute(directory)
        grid = try ExperimentGrid.load(from: self.directory).relocated(to: self.directory)
        self.client = client
    }

    /// An experiment for `grid`, new or matching the manifest already in its directory.
    public init(grid: ExperimentGrid, client: SlurmClient = SlurmClient()) throws {
        directory = Self.absolute(grid.runsDirectory)
        self.grid = grid.relocated(to: directory)
        self.client = client
        if FileManager.default.fileExists(atPath: manifestPath) {
            let existing = try ExperimentGrid.load(from: directory).relocated(to: directory)
            guard existing == self.grid else {
                throw SlurmError("\(directory) holds another grid (its manifest.json differs): choose another --name, or remove the directory to start over")
            }
        }
    }

    public var manifestPath: String { directory + "/manifest.json" }
    public var slurmDirectory: String { directory + "/slurm" }
    public var logDirectory: String { slurmDirectory + "/logs" }
    public var recordPath: String { slurmDirectory + "/jobs.json" }
    public func cellRecordPath(_ index: Int) -> String { slurmDirectory + "/cells/\(index).json" }
    public func cellRecord(_ index: Int) -> SlurmCellRecord? { SlurmCellRecord.read(cellRecordPath(index)) }
    public func record() throws -> SlurmJobRecord { try SlurmJobRecord.read(recordPath) }

    public func cell(_ index: Int) throws -> GridCell {
        guard grid.cells.indices.contains(index) else {
            throw SlurmError("grid \(grid.name) has cells 0...\(grid.cells.count - 1), not \(index)")
        }
        return grid.cells[index]
    }

    static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    // MARK: Submitting

    /// A script ready to submit.
    public struct PlannedArray: Sendable {
        public var array: SlurmArray
        /// Relative to the experiment directory.
        public var scriptPath: String
        public var script: String
    }

    /// The arrays and scripts that would run `cells`: as few arrays as MaxArraySize allows.
    public func plan(cells: [Int], options: SlurmOptions, template: SlurmArrayScript, executable: String, workingDirectory: String,
                     maxArraySize: Int, batch: Int) -> [PlannedArray] {
        let context = SlurmArrayScript.Context(
            gridName: grid.name, experimentDirectory: directory, workingDirectory: Self.absolute(workingDirectory), executable: Self.absolute(executable),
            replayCells: Set(grid.cells.filter { Self.replayAgents.contains($0.agent) }.map(\.index)))
        return SlurmArray.covering(cells, maxArraySize: maxArraySize).map { array in
            let base = batch == 0 ? "array" : "resubmit-\(batch)"
            let name = array.offset == 0 ? "\(base).sbatch" : "\(base)-from-\(array.offset).sbatch"
            return PlannedArray(array: array, scriptPath: "slurm/" + name, script: template.render(array: array, options: options, context: context))
        }
    }

    /// Writes the manifest and scripts and submits each array with `sbatch --parsable`, recording every
    /// job id as soon as sbatch returns it (a failure part-way keeps the arrays already queued on record).
    @discardableResult
    public func submit(_ plans: [PlannedArray], options: SlurmOptions, batch: Int, workingDirectory: String) throws -> [SubmittedArray] {
        try AtomicFile.createDirectories(logDirectory)
        try AtomicFile.createDirectories(slurmDirectory + "/cells")
        if !FileManager.default.fileExists(atPath: manifestPath) {
            try grid.writeManifest()
        }
        var record = try record()
        if let layout = options.distributed {
            try AtomicFile.createDirectories(slurmDirectory + "/cluster")
            for plan in plans {
                for index in plan.array.cells {
                    try AtomicFile.write(clusterFile(for: try cell(index), layout: layout, checkpointEvery: options.checkpointEvery), to: clusterFilePath(index))
                }
            }
        }
        var submitted: [SubmittedArray] = []
        for plan in plans {
            let path = directory + "/" + plan.scriptPath
            try AtomicFile.write(plan.script, to: path)
            let jobID = try client.submit(script: path, workingDirectory: workingDirectory)
            let array = SubmittedArray(
                jobID: jobID, jobName: "colony-" + grid.name, array: plan.array, script: plan.scriptPath,
                submitted: Date().timeIntervalSince1970, batch: batch, options: options)
            record.arrays.append(array)
            try record.write(to: recordPath)
            submitted.append(array)
        }
        return submitted
    }

    /// Cells of this grid that still hold a queue entry (pending, running, completing): a second
    /// submission of them would run two jobs in one run directory.
    public func activeCells(in report: GridReport) -> [Int] {
        report.cells.filter { $0.queueState.map(SlurmQueueEntry.activeStates.contains) ?? false }.map(\.index)
    }

    // MARK: Distributed cells

    /// Algorithms a distributed cell can run (`colony-learner` and `colony-worker`): the `DistributedAlgorithms`.
    public static var distributedAgents: [String] { DistributedAlgorithms.list() }
    /// Those whose learner samples from a `colony-replay` server, which the cell's job starts on its head node.
    public static var replayAgents: Set<String> { Set(DistributedAlgorithms.all().filter(\.usesReplay).map(\.id)) }

    /// Distributed algorithms with no single-process agent of that id (a3c, apex_dqn, apex_sac): their cells need a cluster.
    public static var clusterOnlyAgents: [String] { distributedAgents.filter { !Agents.list().contains($0) } }

    /// Refuses a grid whose agents cannot run as its cells would: single-process cells need registered agents,
    /// distributed cells need cluster algorithms. Each message says which flag would fit.
    public static func checkAgents(of grid: ExperimentGrid, distributed: Bool) throws {
        let agents = Set(grid.cells.map(\.agent))
        if distributed {
            let others = agents.subtracting(distributedAgents).sorted()
            guard others.isEmpty else {
                throw SlurmError("--distributed runs \(distributedAgents.joined(separator: ", ")) as clusters; \(others.joined(separator: ", ")) cannot run distributed (submit them without --distributed)")
            }
        } else {
            let clusterOnly = agents.intersection(clusterOnlyAgents).sorted()
            guard clusterOnly.isEmpty else {
                throw SlurmError("\(clusterOnly.joined(separator: ", ")) \(clusterOnly.count == 1 ? "runs" : "run") only as a cluster (a learner, workers and, for \(replayAgents.sorted().joined(separator: " and ")), a replay server, each its own process), not as a single-process cell: submit the grid with --distributed (or run one with `colony cluster up`)")
            }
        }
    }

    /// The cluster file of a distributed cell (`slurm/cluster/<index>.toml`).
    public func clusterFilePath(_ index: Int) -> String { slurmDirectory + "/cluster/\(index).toml" }

    /// A distributed cell as a cluster file (see `ClusterSettings`): its runs_dir is the experiment directory, so the
    /// learner's run directory (runs_dir/<algorithm>/<env>/seed-<s>) is the cell's. The coordinator and host
    /// come from the job's allocation (`--coordinator`, `--host`), so the file's are placeholders.
    public func clusterFile(for cell: GridCell, layout: DistributedLayout, checkpointEvery: Int) -> String {
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var lines = [
            "# cell \(cell.index) of grid \(grid.name), written by `colony experiment submit --distributed`",
            "algorithm = \(quoted(cell.agent))",
            "env = \(quoted(cell.environment))",
            "frames = \(grid.frames)",
            "seed = \(cell.seed)",
            "runs_dir = \(quoted(directory))",
            "",
            "[cluster]",
            "coordinator = \"tcp://127.0.0.1:5555\"  # the job passes --coordinator",
            "host = \"127.0.0.1\"                   # the job passes --host",
            "workers = \(layout.workers)",
            "envs_per_worker = \(layout.environmentsPerWorker)",
        ]
        if checkpointEvery > 0 { lines.append("checkpoint_every = \(checkpointEvery)") }
        if Self.replayAgents.contains(cell.agent) {
            // The learner evaluates its greedy policy as it goes (returns-eval.csv, status.json's test return):
            // the grid's test episodes each time, about ten times a run; none when the grid asks for none.
            if grid.testEpisodes > 0 {
                lines += ["eval_every = \(max(10_000, grid.frames / 10))", "eval_episodes = \(grid.testEpisodes)"]
            } else {
                lines.append("eval_every = 0")
            }
        }
        // env.<key> overrides build the environment ([env]); the rest configure the agent ([agent]).
        let environmentOverrides = cell.overrides.filter { $0.hasPrefix("env.") }
        for (table, assignments) in [("env", environmentOverrides), ("agent", cell.overrides.filter { !$0.hasPrefix("env.") })] where !assignments.isEmpty {
            lines += ["", "[\(table)]"]
            for assignment in assignments {
                let parts = assignment.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                let key = table == "env" ? String(parts[0].dropFirst("env.".count)) : parts[0]
                let value = parts[1]
                let plain = Int(value) != nil || Double(value) != nil || ["true", "false"].contains(value) || value.hasPrefix("\"") || value.hasPrefix("[")
                lines.append("\(key) = \(plain ? value : quoted(value))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Following

    /// The state of every cell, from the queue (when Slurm answers) and the files the cells write.
    public func report() throws -> GridReport {
        let record = try record()
        var queueError: String?
        var queue: [String: SlurmQueueEntry] = [:]
        if !record.arrays.isEmpty {
            do {
                let names = Set(record.arrays.map(\.jobName))
                for entry in try client.queue() where names.contains(entry.jobName) {
                    if let taskID = entry.taskID { queue["\(entry.arrayJobID)_\(taskID)"] = entry }
                }
            } catch {
                queueError = "\(error)"
            }
        }
        let cells = grid.cells.map { cell -> CellReport in
            let status = RunStatus.read(RunDirectory(path: cell.runDirectory).status)
            let latest = record.latest(for: cell.index)
            let job = latest.map { "\($0.array.jobID)_\($0.taskID)" }
            let entry = job.flatMap { queue[$0] }
            let (state, note) = Self.state(
                status: status, totalFrames: grid.frames, queue: entry, queueKnown: queueError == nil, submitted: latest != nil,
                cancelled: latest?.array.cancelled != nil)
            return CellReport(
                index: cell.index, agent: cell.agent, environment: cell.environment, seed: cell.seed, state: state,
                frames: status?.frames ?? 0, totalFrames: grid.frames, lastMeanReturn: status?.testMeanReturn ?? status?.lastMeanReturn,
                job: job, queueState: entry?.state, note: note, log: job.map { logDirectory + "/\($0).out" })
        }
        return GridReport(name: grid.name, directory: directory, cells: cells, queueError: queueError, arrays: record.arrays.map(\.jobID))
    }

    /// How a cell stands, from what its file says and what the queue says about its latest task.
    ///
    /// The queue knows pending and running tasks (and finished ones until Slurm purges them after
    /// MinJobAge); the cell's status.json knows done, failed and requeued, and outlives the queue.
    /// Neither needs accounting (sacct). A task gone from the queue whose file still says running or
    /// requeued ended without saying so (killed, out of memory, node failure, cancelled while queued).
    public static func state(status: RunStatus?, totalFrames: Int, queue: SlurmQueueEntry?, queueKnown: Bool, submitted: Bool,
                             cancelled: Bool) -> (CellState, String?) {
        let done = status.map { $0.state == .done && $0.frames >= totalFrames } ?? false
        if let queue {
            if queue.isPending {
                if status?.state == .requeued { return (.requeued, "requeued itself; waits to restart (\(queue.reason))") }
                return (.pending, queue.reason == "None" ? nil : queue.reason)
            }
            if queue.isActive {
                if status?.state == .requeued { return (.requeued, "stopping to requeue") }
                return done ? (.done, nil) : (.running, nil)
            }
            if done { return (.done, nil) }
            if status?.state == .failed { return (.failed, status?.message ?? queue.state) }
            return (.failed, "job \(queue.state) before the cell finished; see its log")
        }
        if done { return (.done, nil) }
        if let status, status.state == .failed { return (.failed, status.message) }
        if !submitted {
            switch status?.state {
            case .running?: return (.running, "running outside Slurm (colony experiment run?)")
            default: return (.unsubmitted, nil)
            }
        }
        if !queueKnown {
            switch status?.state {
            case .running?: return (.running, "per status.json; the queue did not answer")
            case .requeued?: return (.requeued, "per status.json; the queue did not answer")
            default: return (.pending, "not started; the queue did not answer")
            }
        }
        if cancelled { return (.failed, status == nil ? "cancelled before it started" : "cancelled") }
        switch status?.state {
        case .running?: return (.failed, "its job ended without finishing (killed, out of memory, node failure?); see its log")
        case .requeued?: return (.failed, "requeued itself but is no longer queued (cancelled?)")
        default: return (.failed, "its job ended before training started; see its log")
        }
    }

    /// Cells a resubmission should run: failed, never submitted, or ended without finishing — not done,
    /// and not pending, running or requeued in the queue.
    public func unfinishedCells(in report: GridReport) -> [Int] {
        report.cells.filter { [.failed, .unsubmitted].contains($0.state) }.map(\.index)
    }

    // MARK: Cancelling

    /// Cancels every array of the grid that still has tasks in the queue (scancel; running cells get
    /// SIGTERM, write a checkpoint and stop). Returns the job ids cancelled.
    @discardableResult
    public func cancel() throws -> [String] {
        var record = try record()
        let names = Set(record.arrays.map(\.jobName))
        let queued = Set(try client.queue().filter { names.contains($0.jobName) && $0.isActive }.map(\.arrayJobID))
        let jobs = record.arrays.map(\.jobID).filter(queued.contains)
        try client.cancel(jobIDs: jobs)
        let now = Date().timeIntervalSince1970
        for index in record.arrays.indices where jobs.contains(record.arrays[index].jobID) { record.arrays[index].cancelled = now }
        try record.write(to: recordPath)
        return jobs
    }
}

/// What `colony experiment status` shows of one cell.
public enum CellState: String, Codable, Sendable, CaseIterable {
    case pending, running, requeued, done, failed
    case unsubmitted = "not-submitted"
}

public struct CellReport: Codable, Sendable, Equatable {
    public var index: Int
    public var agent: String
    public var environment: String
    public var seed: UInt64
    public var state: CellState
    public var frames: Int
    public var totalFrames: Int
    public var lastMeanReturn: Double?
    /// "<array job>_<task>" of the latest array that runs the cell.
    public var job: String?
    /// Slurm's state of that task while the queue lists it.
    public var queueState: String?
    public var note: String?
    public var log: String?
}

public struct GridReport: Codable, Sendable, Equatable {
    public var name: String
    public var directory: String
    public var cells: [CellReport]
    /// Why the queue could not be read (Slurm not reachable); the states then come from files alone.
    public var queueError: String?
    public var arrays: [String]

    public func count(_ state: CellState) -> Int { cells.filter { $0.state == state }.count }

    /// "8 cells: 5 done, 2 running, 1 pending".
    public var summary: String {
        let parts = CellState.allCases.compactMap { state in count(state) > 0 ? "\(count(state)) \(state.rawValue)" : nil }
        return "\(cells.count) cells: " + parts.joined(separator: ", ")
    }

    /// One line per cell, aligned.
    public func table() -> String {
        var rows = [["index", "agent", "env", "seed", "state", "frames", "return", "job", "note"]]
        for cell in cells {
            rows.append([
                String(cell.index), cell.agent, cell.environment, String(cell.seed), cell.state.rawValue, "\(cell.frames)/\(cell.totalFrames)",
                cell.lastMeanReturn.map { String(format: "%.1f", $0) } ?? "—", cell.job ?? "—", cell.note ?? "",
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            row.enumerated().map { column, text in
                column == row.count - 1 ? text : text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
