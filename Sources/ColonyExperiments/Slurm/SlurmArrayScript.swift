/// One array job of a grid: the cells it runs are `offset + taskID` for each of its task ids.
/// Slurm caps array indices below MaxArraySize, so a larger grid (or a resubmission of high indices)
/// becomes several arrays whose offsets are multiples of MaxArraySize.
public struct SlurmArray: Codable, Sendable, Equatable {
    public var offset: Int
    public var taskIDs: [Int]

    public init(offset: Int, taskIDs: [Int]) {
        self.offset = offset
        self.taskIDs = taskIDs
    }

    /// The grid indices this array runs.
    public var cells: [Int] { taskIDs.map { $0 + offset } }

    /// The `--array` value: runs of consecutive ids as ranges ("0-7", "1-3,7,9-10"), then `%throttle`.
    public func specification(throttle: Int?) -> String {
        var runs: [(first: Int, last: Int)] = []
        for id in taskIDs.sorted() {
            if let run = runs.last, id == run.last + 1 { runs[runs.count - 1].last = id } else { runs.append((id, id)) }
        }
        let ranges = runs.map { $0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)" }
        return ranges.joined(separator: ",") + (throttle.map { "%\($0)" } ?? "")
    }

    /// Arrays that together run `indices`: grouped by `index / maxArraySize`, each with offset group · maxArraySize.
    public static func covering(_ indices: [Int], maxArraySize: Int) -> [SlurmArray] {
        precondition(maxArraySize >= 1, "MaxArraySize must be positive")
        var groups: [Int: [Int]] = [:]
        for index in Set(indices) { groups[index / maxArraySize, default: []].append(index) }
        return groups.keys.sorted().map { group in
            let offset = group * maxArraySize
            return SlurmArray(offset: offset, taskIDs: groups[group]!.sorted().map { $0 - offset })
        }
    }
}

/// The batch script of one array: `#SBATCH` directives built from the options, in a template's body.
///
/// The default template is `slurm/array.sbatch.template` (kept identical to `defaultTemplate`; a test
/// checks it); `--template FILE` takes another with the same placeholders: {{GRID}}, {{DIRECTIVES}},
/// {{OFFSET}}, {{COLONY}}, {{EXPERIMENT}} and {{CELL_OPTIONS}}.
public struct SlurmArrayScript: Sendable {
    public static let defaultTemplate = #"""
#!/bin/bash
# Colony grid {{GRID}}: one array task per grid cell, written by `colony experiment submit`.
# Task T runs cell T + {{OFFSET}} of {{EXPERIMENT}}/manifest.json, which names every index's
# agent, environment, seed, overrides and run directory.
{{DIRECTIVES}}

# One BLAS thread per allocated CPU: cells share nodes, and OpenBLAS would otherwise start one per core in each.
export OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}" OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
index=$(( SLURM_ARRAY_TASK_ID + {{OFFSET}} ))
echo "colony: cell $index as task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on ${SLURMD_NODENAME:-$(hostname)}, restart ${SLURM_RESTART_COUNT:-0}, $(date -Iseconds)"

# exec: the cell replaces this shell, so the pre-timeout signal (--signal=B:USR1@...) reaches it at once;
# bash would run a trap only after its foreground command returned. On SIGUSR1 the cell writes a checkpoint,
# requeues this task alone (scontrol requeue ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}) and exits;
# the next start resumes from checkpoints/latest.h5. On SIGTERM it writes a checkpoint and exits.
exec {{COLONY}} experiment cell {{EXPERIMENT}} "$index"{{CELL_OPTIONS}}

"""#

    public static let placeholders = ["{{GRID}}", "{{DIRECTIVES}}", "{{OFFSET}}", "{{COLONY}}", "{{EXPERIMENT}}", "{{CELL_OPTIONS}}"]

    public var template: String

    public init(template: String = SlurmArrayScript.defaultTemplate) throws {
        for placeholder in ["{{DIRECTIVES}}", "{{OFFSET}}", "{{COLONY}}", "{{EXPERIMENT}}"] where !template.contains(placeholder) {
            throw SlurmError("the batch-script template has no \(placeholder): it needs {{DIRECTIVES}}, {{OFFSET}}, {{COLONY}} and {{EXPERIMENT}}")
        }
        self.template = template
    }

    /// Everything one script needs besides the options.
    public struct Context: Sendable {
        public var gridName: String
        /// Absolute path of runs/NAME.
        public var experimentDirectory: String
        /// Absolute directory the job starts in (`--chdir`): where the user submitted from.
        public var workingDirectory: String
        /// Absolute path of the `colony` binary the cells run.
        public var executable: String

        public init(gridName: String, experimentDirectory: String, workingDirectory: String, executable: String) {
            self.gridName = gridName
            self.experimentDirectory = experimentDirectory
            self.workingDirectory = workingDirectory
            self.executable = executable
        }

        /// Slurm's job name for the grid's arrays; `status` also matches queue entries by it.
        public var jobName: String { "colony-" + gridName }
        public var logDirectory: String { experimentDirectory + "/slurm/logs" }
    }

    /// The `#SBATCH` lines, in a fixed order: identity, array, files, signals, resources, then the user's own.
    public static func directives(array: SlurmArray, options: SlurmOptions, context: Context) -> [String] {
        var lines = [
            "--job-name=\(context.jobName)",
            "--array=\(array.specification(throttle: options.throttle))",
            "--output=\(directiveValue(context.logDirectory + "/%A_%a.out"))",
            "--error=\(directiveValue(context.logDirectory + "/%A_%a.err"))",
            "--open-mode=append",
            "--signal=B:USR1@\(options.signalLead)",
            "--requeue",
            "--chdir=\(directiveValue(context.workingDirectory))",
            "--ntasks=1",
            "--cpus-per-task=\(options.cpusPerTask)",
        ]
        if let partition = options.partition { lines.append("--partition=\(partition)") }
        if let time = options.time { lines.append("--time=\(time)") }
        if let memory = options.memory { lines.append("--mem=\(memory)") }
        lines += options.sbatchArguments
        return lines.map { "#SBATCH " + $0 }
    }

    /// The whole script.
    public func render(array: SlurmArray, options: SlurmOptions, context: Context) -> String {
        var cellOptions = " --max-requeues \(options.maxRequeues)"
        if options.checkpointEvery > 0 { cellOptions += " --checkpoint-every \(options.checkpointEvery)" }
        let values = [
            "{{GRID}}": context.gridName,
            "{{DIRECTIVES}}": Self.directives(array: array, options: options, context: context).joined(separator: "\n"),
            "{{OFFSET}}": String(array.offset),
            "{{COLONY}}": Self.shellQuoted(context.executable),
            "{{EXPERIMENT}}": Self.shellQuoted(context.experimentDirectory),
            "{{CELL_OPTIONS}}": cellOptions,
        ]
        var text = template
        for placeholder in Self.placeholders { text = text.replacingOccurrences(of: placeholder, with: values[placeholder]!) }
        return text
    }

    /// A word for bash: as is when it is plainly safe, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:,@%".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A value in an `#SBATCH` line; sbatch reads double quotes there.
    static func directiveValue(_ value: String) -> String {
        value.contains(where: \.isWhitespace) ? "\"" + value + "\"" : value
    }
}
