import ArgumentParser
import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation

/// Flags of `experiment submit` and `experiment resubmit`: what each array task asks of Slurm.
struct SlurmFlags: ParsableArguments {
    @Option(help: "Slurm partition (default: the cluster's default partition).")
    var partition: String?

    @Option(help: "Time limit of each array task, as Slurm writes it: minutes, HH:MM:SS, D-HH:MM... A cell checkpoints and requeues itself before it.")
    var time: String?

    @Option(help: "CPUs per array task (default 1); also the BLAS threads of each cell.")
    var cpusPerTask: Int?

    @Option(help: "Memory per array task, as sbatch --mem takes it (e.g. 4G).")
    var mem: String?

    @Option(help: "Run at most K array tasks at once (--array=...%K).")
    var throttle: Int?

    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue, help: ArgumentHelp("An extra #SBATCH argument, verbatim; repeatable (e.g. --sbatch-arg --account=lab).", valueName: "arg"))
    var sbatchArguments: [String] = []

    @Option(help: "Seconds before the time limit at which Slurm sends SIGUSR1: checkpoint and requeue (default 120).")
    var signalLead: Int?

    @Option(help: "Times a cell may requeue itself before it fails instead (default 20).")
    var maxRequeues: Int?

    @Option(help: "Frames between a cell's checkpoints (default: a tenth of the run, at least 10000; a distributed cell's learner: 100000).")
    var checkpointEvery: Int?

    @Option(help: "Split arrays at this many indices (default: the cluster's MaxArraySize from `scontrol show config`, else 1001).")
    var maxArraySize: Int?

    @Option(help: "Batch-script template (default: the built-in one, which is slurm/array.sbatch.template; with --distributed, the built-in multi-node one).")
    var template: String?

    func validate() throws {
        if let maxArraySize, maxArraySize < 1 { throw ValidationError("--max-array-size must be at least 1") }
    }

    /// The flags given, over `options` (from defaults, a grid file, or the previous submission).
    func apply(to options: inout SlurmOptions) {
        if let partition { options.partition = partition }
        if let time { options.time = time }
        if let cpusPerTask { options.cpusPerTask = cpusPerTask }
        if let mem { options.memory = mem }
        if let throttle { options.throttle = throttle }
        if !sbatchArguments.isEmpty { options.sbatchArguments = sbatchArguments }
        if let signalLead { options.signalLead = signalLead }
        if let maxRequeues { options.maxRequeues = maxRequeues }
        if let checkpointEvery { options.checkpointEvery = checkpointEvery }
    }

    func scriptTemplate(_ options: SlurmOptions) throws -> SlurmArrayScript {
        guard let template else {
            return try SlurmArrayScript(template: options.distributed == nil ? SlurmArrayScript.defaultTemplate : SlurmArrayScript.distributedTemplate)
        }
        guard let text = try? String(contentsOfFile: template, encoding: .utf8) else { throw SlurmError("cannot read the template \(template)") }
        return try SlurmArrayScript(template: text)
    }

    func arraySize(_ client: SlurmClient) -> Int { maxArraySize ?? client.maxArraySize() ?? 1001 }
}

struct SubmitGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a grid to Slurm as a job array: one array task per cell.",
        discussion: """
        Writes <runs-dir>/<name>/manifest.json (index → agent, env, seed, overrides, run directory) and
        <runs-dir>/<name>/slurm/array.sbatch, submits it with `sbatch --parsable` and returns at once.
        Array task i trains cell i (agents outermost, then envs, then seeds) with `colony experiment cell`;
        before its time limit it checkpoints and requeues itself, and the next start resumes. Grids larger
        than the cluster's MaxArraySize become several arrays. Examples:
          colony experiment submit --agents dqn,ppo --envs CartPole-v1,Acrobot-v1 --seeds 3 --frames 500000 \\
              --time 2:00:00 --cpus-per-task 2 --mem 4G --throttle 8 --sbatch-arg --account=lab
          colony experiment submit --grid grids/classic.toml --dry-run
          colony experiment submit --distributed --nodes 3 --agents apex_dqn --envs CartPole-v1 --frames 1000000 --time 4:00:00
          colony experiment status runs/dqn-ppo_CartPole-v1-Acrobot-v1
        """
    )

    @OptionGroup var grid: GridOptions
    @OptionGroup var slurm: SlurmFlags

    @Flag(help: ArgumentHelp(
        "Run each cell as one multi-node cluster job (impala, a3c, apex_dqn, apex_sac).",
        discussion: """
        The first node runs the coordinator and the learner, and for apex_dqn and apex_sac the replay server \
        (colony-replay); every other node runs --workers-per-node workers. Before the time limit the job stops \
        every role with checkpoints and requeues itself; the next start resumes the learner and the replay server.
        """))
    var distributed = false

    @Option(help: "Nodes per distributed cell (default 2).")
    var nodes: Int?

    @Option(help: "Workers on each worker node of a distributed cell (default 1).")
    var workersPerNode: Int?

    @Option(help: "Environments each worker of a distributed cell steps (default 8).")
    var envsPerWorker: Int?

    @Flag(help: "Print the batch script(s) and submit nothing.")
    var dryRun = false

    func validate() throws {
        if !distributed && (nodes != nil || workersPerNode != nil || envsPerWorker != nil) {
            throw ValidationError("--nodes, --workers-per-node and --envs-per-worker describe distributed cells: add --distributed")
        }
        if let envsPerWorker, envsPerWorker < 1 { throw ValidationError("--envs-per-worker must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let experimentGrid = try grid.grid()
            try SlurmExperiment.checkAgents(of: experimentGrid, distributed: distributed)
            if !distributed { try experimentGrid.validateCells() }
            var options = SlurmOptions()
            if let file = try grid.file() { try options.apply(table: file.slurm, source: file.path) }
            slurm.apply(to: &options)
            if distributed {
                options.distributed = DistributedLayout(nodes: nodes ?? 2, workersPerNode: workersPerNode ?? 1, environmentsPerWorker: envsPerWorker ?? 8)
            }
            try options.validate()
            let client = SlurmClient()
            let experiment = try SlurmExperiment(grid: experimentGrid, client: client)
            if let layout = options.distributed { try checkClusterFiles(of: experiment, layout: layout, checkpointEvery: options.checkpointEvery) }
            let template = try slurm.scriptTemplate(options)
            let record = try experiment.record()
            let workingDirectory = FileManager.default.currentDirectoryPath
            if dryRun {
                let plans = experiment.plan(
                    cells: experiment.grid.cells.map(\.index), options: options, template: template, executable: currentExecutable(),
                    workingDirectory: workingDirectory, maxArraySize: slurm.arraySize(client), batch: record.nextBatch)
                for plan in plans {
                    print("# --- \(experiment.directory)/\(plan.scriptPath): cells \(plan.array.cells.first!)...\(plan.array.cells.last!) (dry run: not written, not submitted)")
                    print(plan.script, terminator: "")
                }
                return
            }
            guard record.arrays.isEmpty else {
                throw SlurmError("grid \(experimentGrid.name) was submitted before (array jobs \(record.arrays.map(\.jobID).joined(separator: ", "))): "
                    + "follow it with `colony experiment status \(grid.runsDir)/\(experimentGrid.name)`, and run what failed or never finished with `colony experiment resubmit`")
            }
            let cells = experiment.grid.cells.filter { !experiment.grid.isDone($0) }.map(\.index)
            guard !cells.isEmpty else {
                print("every cell of \(experiment.directory) is done; nothing to submit")
                return
            }
            let plans = experiment.plan(
                cells: cells, options: options, template: template, executable: currentExecutable(), workingDirectory: workingDirectory,
                maxArraySize: slurm.arraySize(client), batch: 0)
            print("grid \(experimentGrid.name): \(experimentGrid.cells.count) cells → \(experiment.directory)")
            let submitted = try experiment.submit(plans, options: options, batch: 0, workingDirectory: workingDirectory)
            printSubmitted(submitted, experiment)
        }
    }
}

/// Each distributed cell's cluster file as its learner will read it: a bad override or an environment the
/// algorithm cannot run fails here, before anything is queued, not minutes later in a job's log.
private func checkClusterFiles(of experiment: SlurmExperiment, layout: DistributedLayout, checkpointEvery: Int) throws {
    var checked = Set<String>()
    for cell in experiment.grid.cells where checked.insert("\(cell.agent)/\(cell.environment)/\(cell.overrides)").inserted {
        let source = "the cluster file of cell \(cell.index) (\(cell.agent) on \(cell.environment))"
        let text = experiment.clusterFile(for: cell, layout: layout, checkpointEvery: checkpointEvery)
        _ = try ClusterSettings(document: try TOMLDocument(parsing: text, source: source), source: source)
    }
}

func printSubmitted(_ arrays: [SubmittedArray], _ experiment: SlurmExperiment) {
    for array in arrays {
        print("submitted array job \(array.jobID): tasks \(array.array.specification(throttle: array.options.throttle)) (cells \(array.array.cells.first!)...\(array.array.cells.last!)), \(array.script)")
    }
    let path = experiment.directory
    print("follow: colony experiment status \(path)   plot: colony plot \(path)   stop: colony experiment cancel \(path)")
}

struct GridStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each cell of a submitted grid: pending, running, requeued, done or failed.",
        discussion: """
        Reads the queue (squeue, while Slurm lists the tasks) and the status.json each cell writes itself, so it
        works without Slurm accounting and after finished jobs have left the queue. Example:
          colony experiment status runs/my-grid
        """
    )

    @Argument(help: "The grid's directory (runs/NAME).")
    var directory: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let experiment = try SlurmExperiment(directory: directory)
            let report = try experiment.report()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            if let error = report.queueError {
                FileHandle.standardError.write(Data("warning: the queue could not be read, states come from the run directories alone: \(error)\n".utf8))
            }
            let arrays = report.arrays.isEmpty ? "not submitted" : "array jobs \(report.arrays.joined(separator: ", "))"
            print("grid \(report.name) (\(arrays)): \(report.summary)\n")
            print(report.table())
            let failed = report.cells.filter { $0.state == .failed }
            if !failed.isEmpty {
                print("\nlogs of failed cells:")
                for cell in failed { print("  [\(cell.index)] \(cell.log ?? "—")") }
                print("run them again: colony experiment resubmit \(directory)")
            }
        }
    }
}

struct ResubmitGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resubmit",
        abstract: "Submit again only the cells of a grid that failed or never finished.",
        discussion: """
        Cells that are done, or still pending, running or requeued in the queue, are left alone. A resubmitted
        cell resumes from its latest checkpoint (--fresh starts it over). Resource flags given here replace
        those of the previous submission. Example:
          colony experiment resubmit runs/my-grid --time 4:00:00
        """
    )

    @Argument(help: "The grid's directory (runs/NAME).")
    var directory: String

    @OptionGroup var slurm: SlurmFlags

    @Flag(help: "Remove the run directories of the resubmitted cells first, so they start over.")
    var fresh = false

    @Flag(help: "Print the batch script(s) and submit nothing.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            let experiment = try SlurmExperiment(directory: directory)
            let record = try experiment.record()
            let report = try experiment.report()
            if let error = report.queueError { throw SlurmError("cannot tell which cells are still queued: \(error)") }
            let cells = experiment.unfinishedCells(in: report)
            guard !cells.isEmpty else {
                print("nothing to resubmit: \(report.summary)")
                return
            }
            var options = record.arrays.last?.options ?? SlurmOptions()
            slurm.apply(to: &options)
            try options.validate()
            let batch = record.nextBatch
            let plans = experiment.plan(
                cells: cells, options: options, template: try slurm.scriptTemplate(options), executable: currentExecutable(),
                workingDirectory: FileManager.default.currentDirectoryPath, maxArraySize: slurm.arraySize(experiment.client), batch: batch)
            if dryRun {
                print("would resubmit cells \(cells.map(String.init).joined(separator: ", "))")
                for plan in plans { print("# --- \(experiment.directory)/\(plan.scriptPath)\n\(plan.script)", terminator: "") }
                return
            }
            if fresh {
                for index in cells { try RunDirectory(path: experiment.grid.cells[index].runDirectory).clear() }
            }
            print("resubmitting \(cells.count) of \(report.cells.count) cells: \(cells.map(String.init).joined(separator: ", "))")
            let submitted = try experiment.submit(plans, options: options, batch: batch, workingDirectory: FileManager.default.currentDirectoryPath)
            printSubmitted(submitted, experiment)
        }
    }
}

struct CancelGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a grid's queued and running array tasks (running cells checkpoint first).",
        discussion: "Example: colony experiment cancel runs/my-grid; later `colony experiment resubmit runs/my-grid` resumes them."
    )

    @Argument(help: "The grid's directory (runs/NAME).")
    var directory: String

    func run() throws {
        try reportingErrors {
            let experiment = try SlurmExperiment(directory: directory)
            let jobs = try experiment.cancel()
            if jobs.isEmpty {
                print("no array job of \(experiment.grid.name) is in the queue")
            } else {
                print("cancelled array jobs \(jobs.joined(separator: ", ")); running cells write a checkpoint and stop. Resume later: colony experiment resubmit \(directory)")
            }
        }
    }
}

struct RunCell: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cell",
        abstract: "Train one cell of a grid (what each Slurm array task runs).",
        discussion: """
        Trains the cell's agent into its run directory, resuming from checkpoints/latest.h5. On SIGUSR1 it writes a
        checkpoint and requeues its own array task (scontrol requeue JOB_TASK); on SIGTERM it writes a checkpoint
        and stops. It writes status.json (running, done, failed, requeued) and slurm/cells/INDEX.json itself.
        """
    )

    @Argument(help: "The grid's directory (runs/NAME).")
    var directory: String

    @Argument(help: "The cell's index in manifest.json.")
    var index: Int

    @Option(help: "Requeue at most this many times (SLURM_RESTART_COUNT); then fail.")
    var maxRequeues: Int = 20

    @Option(help: "Frames between checkpoints (0: a tenth of the run, at least 10000).")
    var checkpointEvery: Int = 0

    func run() throws {
        StopSignal.install()  // first: a signal that came before the handlers would end the process without a checkpoint
        try reportingErrors {
            let experiment = try SlurmExperiment(directory: directory)
            let outcome = try SlurmCellRun(experiment: experiment, index: index, maxRequeues: maxRequeues, checkpointEvery: checkpointEvery).run()
            if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
        }
    }
}
