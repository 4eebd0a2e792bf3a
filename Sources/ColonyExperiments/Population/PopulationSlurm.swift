import ColonyStorage
import Foundation

/// `colony pbt submit`: a population as chained Slurm jobs. Each interval is one array job, a task per
/// member (`colony pbt member`, which resumes from the member's checkpoint after a requeue); a controller job
/// that depends on the whole array (`--dependency=afterany`) evaluates, selects, copies and mutates
/// (`colony pbt advance`), then submits the next interval's array and controller. A member whose task ended
/// before its frame target (cancelled, failed, out of time) ranks last and is replaced by the best member.
public struct PopulationSlurm {
    public let directory: String
    public let client: SlurmClient
    /// The absolute path of the `colony` executable the jobs run.
    public let colony: String
    public let options: SlurmOptions
    /// What every member task adds to `colony pbt member`: a population of clusters' `--keys DIR` or `--insecure`.
    public let memberArguments: [String]

    public init(directory: String, client: SlurmClient = SlurmClient(), colony: String, options: SlurmOptions, memberArguments: [String] = []) {
        self.directory = (directory as NSString).standardizingPath.hasPrefix("/")
            ? (directory as NSString).standardizingPath
            : FileManager.default.currentDirectoryPath + "/" + directory
        self.client = client
        self.colony = colony
        self.options = options
        self.memberArguments = memberArguments
    }

    public var logDirectory: String { directory + "/slurm/logs" }

    /// Submits the interval after `state.generation`: the members' array, then its controller.
    @discardableResult
    public func submitNextInterval(_ state: PopulationState) throws -> (members: String, controller: String) {
        let interval = state.generation + 1
        let frames = interval * state.settings.interval
        try AtomicFile.createDirectories(logDirectory)
        let name = "pbt-\((directory as NSString).lastPathComponent)-g\(interval)"
        let members = directory + "/slurm/interval-\(interval)-members.sbatch"
        try AtomicFile.write(script(
            directives: ["--job-name=\(name)", "--array=0-\(state.settings.size - 1)", "--output=\(logDirectory)/interval-\(interval)-%a.out",
                         "--open-mode=append", "--signal=B:USR1@\(options.signalLead)", "--requeue", "--ntasks=1",
                         "--cpus-per-task=\(options.cpusPerTask)"],
            body: """
                # Task T trains member T to frame \(frames); a requeued task resumes from the member's checkpoint.
                echo "colony: population member $SLURM_ARRAY_TASK_ID, interval \(interval), on ${SLURMD_NODENAME:-$(hostname)}, restart ${SLURM_RESTART_COUNT:-0}"
                exec \(quoted(colony)) pbt member \(quoted(directory)) "$SLURM_ARRAY_TASK_ID" \(frames) --quiet\(memberArguments.map { " " + quoted($0) }.joined())
                """), to: members)
        let array = try client.submit(script: members, workingDirectory: directory)
        let controller = directory + "/slurm/interval-\(interval)-controller.sbatch"
        try AtomicFile.write(script(
            directives: ["--job-name=\(name)-controller", "--dependency=afterany:\(array)", "--output=\(logDirectory)/interval-\(interval)-controller.out",
                         "--open-mode=append", "--requeue", "--ntasks=1", "--cpus-per-task=\(options.cpusPerTask)"],
            body: """
                # After every member's task of array \(array) ended: evaluate, select, copy, mutate, submit the next interval.
                exec \(quoted(colony)) pbt advance \(quoted(directory)) --interval \(interval) --submit
                """), to: controller)
        let controllerJob = try client.submit(script: controller, workingDirectory: directory)
        let record = "interval \(interval): members \(array), controller \(controllerJob)\n"
        let jobs = directory + "/slurm/jobs.txt"
        try AtomicFile.write(((try? String(contentsOfFile: jobs, encoding: .utf8)) ?? "") + record, to: jobs)
        return (array, controllerJob)
    }

    /// Whether the array of `interval` was submitted already (a controller run twice submits it once).
    public func submitted(interval: Int) -> Bool {
        ((try? String(contentsOfFile: directory + "/slurm/jobs.txt", encoding: .utf8)) ?? "").contains("interval \(interval): ")
    }

    /// The options the chain was submitted with, for the controllers that continue it.
    public static func savedOptions(_ directory: String) throws -> SlurmOptions {
        do { return try JSONDecoder().decode(SlurmOptions.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/slurm/options.json"))) } catch {
            throw PopulationError("cannot read \(directory)/slurm/options.json (\(error)); resubmit with colony pbt submit")
        }
    }

    public func saveOptions() throws {
        try AtomicFile.createDirectories(directory + "/slurm")
        try AtomicFile.write([UInt8](try JSONEncoder().encode(options)), to: directory + "/slurm/options.json")
        try AtomicFile.write([UInt8](try JSONEncoder().encode(memberArguments)), to: directory + "/slurm/member-arguments.json")
    }

    /// The member tasks' extra arguments the chain was submitted with (none for chains submitted before they
    /// existed): nothing, `--insecure` or `--keys DIR`; anything else is a damaged file.
    public static func savedMemberArguments(_ directory: String) throws -> [String] {
        let path = directory + "/slurm/member-arguments.json"
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let arguments: [String]
        do { arguments = try JSONDecoder().decode([String].self, from: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw PopulationError("cannot read \(path) (\(error)); resubmit with colony pbt submit")
        }
        guard arguments.isEmpty || arguments == ["--insecure"] || (arguments.count == 2 && arguments[0] == "--keys") else {
            throw PopulationError("\(path) holds \(arguments), not [], [\"--insecure\"] or [\"--keys\", DIR]; resubmit with colony pbt submit")
        }
        return arguments
    }

    /// The slots whose task ended before `frames`, with the reason lineage.jsonl records.
    public static func unfinishedMembers(_ run: PopulationRun, frames: Int) -> [Int: String] {
        var unfinished: [Int: String] = [:]
        for slot in 0..<run.state.settings.size {
            let status = RunStatus.read(run.memberDirectory(slot).status)
            if status?.state != .done || (status?.frames ?? 0) < frames {
                unfinished[slot] = "its Slurm task ended at frame \(status?.frames ?? 0) of \(frames) (cancelled, failed or out of time); "
                    + "see slurm/logs/interval-\(run.state.generation + 1)-\(slot).out"
            }
        }
        return unfinished
    }

    private func script(directives: [String], body: String) -> String {
        var lines = ["#!/bin/bash", "# Written by colony pbt submit for the population in \(directory)."]
        var all = directives
        if let partition = options.partition { all.append("--partition=\(partition)") }
        if let time = options.time { all.append("--time=\(time)") }
        if let memory = options.memory { all.append("--mem=\(memory)") }
        all += options.sbatchArguments
        lines += all.map { "#SBATCH " + $0 }
        lines.append("export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\" OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"")
        return lines.joined(separator: "\n") + "\n" + body + "\n"
    }

    private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
