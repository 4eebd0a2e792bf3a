#if canImport(Glibc)
import Glibc
#endif
import ColonyStorage
import Foundation
import Synchronization

/// One array task: trains grid cell `index` into its run directory (`colony experiment cell runs/NAME INDEX`).
///
/// - Resumes from `checkpoints/latest.h5` when a previous start left one.
/// - SIGUSR1 (Slurm's pre-timeout signal, `--signal=B:USR1@S`, or `scancel --signal=USR1 --batch`):
///   write a checkpoint, mark the cell `requeued`, requeue this array task alone
///   (`scontrol requeue <array job>_<task>`; a job that is not an array task: `scontrol requeue <job>`)
///   and exit; the next start resumes. Outside Slurm it only stops. After `maxRequeues`
///   restarts (`SLURM_RESTART_COUNT`) the cell fails instead of requeueing again.
/// - SIGTERM (scancel, the time limit, preemption) or SIGINT: write a checkpoint, mark the cell
///   `failed` with the reason, exit; `colony experiment resubmit` resumes it later. When Slurm itself
///   requeues the job (preemption in REQUEUE mode, node failure), the next start resumes just the same.
/// - Any error: mark the cell `failed` with the message, exit 1.
///
/// Each start is recorded in `slurm/cells/<index>.json`, with the time of its first training frame.
public struct SlurmCellRun {
    public enum Outcome: Equatable, Sendable {
        case done, requeued
        case stopped(signal: Int32)
        case failed(String)

        /// The process exit status: 0 when the cell finished or handed over to its next start.
        public var exitStatus: Int32 {
            switch self {
            case .done, .requeued: 0
            case .stopped(let signal): 128 + signal
            case .failed: 1
            }
        }
    }

    public let experiment: SlurmExperiment
    public let index: Int
    public var maxRequeues: Int
    public var checkpointEvery: Int
    /// The job's environment (SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_RESTART_COUNT...).
    public var environment: [String: String]
    public var log: (String) -> Void

    public init(experiment: SlurmExperiment, index: Int, maxRequeues: Int = 20, checkpointEvery: Int = 0,
                environment: [String: String] = ProcessInfo.processInfo.environment, log: @escaping (String) -> Void = { print($0); fflush(nil) }) {
        self.experiment = experiment
        self.index = index
        self.maxRequeues = maxRequeues
        self.checkpointEvery = checkpointEvery
        self.environment = environment
        self.log = log
    }

    var restartCount: Int { environment["SLURM_RESTART_COUNT"].flatMap { Int($0) } ?? 0 }
    var arrayTask: (jobID: String, taskID: Int)? {
        guard let job = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }) else { return nil }
        return (job, task)
    }
    /// What `scontrol requeue` takes for this start: its array task alone, or the job when it is not an array's.
    var requeueTarget: String? { arrayTask.map { "\($0.jobID)_\($0.taskID)" } ?? environment["SLURM_JOB_ID"] }

    public func run() throws -> Outcome {
        let cell = try experiment.cell(index)
        let runDirectory = RunDirectory(path: cell.runDirectory)
        let started = Date().timeIntervalSince1970
        let journal = try CellJournal(path: experiment.cellRecordPath(index), index: index, attempt: SlurmCellRecord.Attempt(
            jobID: environment["SLURM_JOB_ID"], arrayJobID: arrayTask?.jobID, taskID: arrayTask?.taskID, restart: restartCount,
            node: environment["SLURMD_NODENAME"], started: started, outcome: .running))
        StopSignal.install()

        let result: TrainingResult
        do {
            let sources = try ConfigurationSources(assignments: cell.overrides)
            let configuration = try sources.resolve(agent: cell.agent)
            let options = TrainingOptions(
                environment: cell.environment, seed: cell.seed, frames: experiment.grid.frames, configuration: configuration,
                runsDirectory: experiment.directory, checkpointInterval: checkpointEvery, testEpisodes: experiment.grid.testEpisodes,
                environmentSettings: try sources.environmentSettings(id: cell.environment))
            precondition(options.directory == runDirectory, "the trainer's run directory must be the manifest's")
            let label = "cell \(index) (\(cell.agent) \(cell.environment) seed \(cell.seed))"
            log("\(label): \(experiment.grid.frames) frames → \(runDirectory.path)")
            result = try Trainer(options: options, progress: ProgressReporter(style: .lines, label: label, lineInterval: 30), log: log) { time, frame in
                journal.update { $0.firstFrame = time; $0.startFrame = frame }
            }.run()
        } catch {
            let message = "\(error)"
            try? markStatus(runDirectory, .failed, message: message)
            journal.update { $0.ended = Date().timeIntervalSince1970; $0.outcome = .failed; $0.message = message }
            log("error: \(message)")
            return .failed(message)
        }
        journal.update { $0.startFrame = result.resumedFrom ?? 0; $0.endFrame = result.frames; $0.ended = Date().timeIntervalSince1970 }

        guard let signal = result.stoppedBySignal else {
            journal.update { $0.outcome = .done }
            return .done
        }
        let resume = "checkpoint at frame \(result.frames) of \(experiment.grid.frames)"
        if signal == SIGUSR1, let target = requeueTarget {
            if restartCount >= maxRequeues {
                let message = "stopped by SIGUSR1 after \(restartCount) requeues (--max-requeues \(maxRequeues)); \(resume): `colony experiment resubmit` continues it"
                return fail(message, runDirectory, journal)
            }
            let message = "requeued at frame \(result.frames) (restart \(restartCount + 1) of at most \(maxRequeues)); the next start resumes from the \(resume)"
            try markStatus(runDirectory, .requeued, message: message)
            journal.update { $0.outcome = .requeued; $0.message = message }
            do {
                try experiment.client.requeue(job: target)
            } catch {
                return fail("could not requeue \(target): \(error); \(resume): `colony experiment resubmit` continues it", runDirectory, journal)
            }
            log("cell \(index): \(message)")
            return .requeued
        }
        let name = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGUSR1: "SIGUSR1"][signal] ?? "signal \(signal)"
        let message = "stopped by \(name) (cancelled, time limit or preemption) at frame \(result.frames); \(resume): `colony experiment resubmit` continues it"
        try? markStatus(runDirectory, .failed, message: message)
        journal.update { $0.outcome = .stopped; $0.message = message }
        log("cell \(index): \(message)")
        return .stopped(signal: signal)
    }

    private func fail(_ message: String, _ directory: RunDirectory, _ journal: CellJournal) -> Outcome {
        try? markStatus(directory, .failed, message: message)
        journal.update { $0.outcome = .failed; $0.message = message }
        log("error: \(message)")
        return .failed(message)
    }

    /// Rewrites status.json with a new state, keeping the counters the trainer last wrote.
    private func markStatus(_ directory: RunDirectory, _ state: RunStatus.State, message: String) throws {
        var status = RunStatus.read(directory.status) ?? RunStatus(state: state, frames: 0, totalFrames: experiment.grid.frames, episodes: 0)
        status.state = state
        status.message = message
        status.updated = Date().timeIntervalSince1970
        try AtomicFile.createDirectories(directory.path)
        try status.write(to: directory.status)
    }
}
