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
/// {{OFFSET}}, {{COLONY}}, {{EXPERIMENT}} and {{CELL_OPTIONS}}; a distributed template also has
/// {{WORKERS_PER_NODE}}, {{MAX_REQUEUES}} and {{REPLAY_CELLS}} (the array's cells that start a replay server).
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

    /// The script of a distributed grid (`--distributed`): task T is one multi-node job that runs cell
    /// T + {{OFFSET}} as a cluster: coordinator, learner and (apex_dqn, apex_sac) replay server on the
    /// allocation's first node, workers on the others. The roles run as background `srun` steps and the batch
    /// shell `wait`s on them, so its traps run as soon as a signal comes: on SIGUSR1 (the pre-timeout signal) it
    /// stops every role with checkpoints and requeues its own array task, as a single-process cell does.
    /// `slurm/cluster.sbatch` is the same launch as a plain script for one cluster file.
    public static let distributedTemplate = #"""
#!/bin/bash
# Colony grid {{GRID}}: one multi-node job per grid cell, written by `colony experiment submit --distributed`.
# Task T runs cell T + {{OFFSET}} of {{EXPERIMENT}}/manifest.json as a cluster, from the cluster file
# {{EXPERIMENT}}/slurm/cluster/<cell>.toml: coordinator and learner (and, for apex_dqn and apex_sac, the replay
# server) on the first node of the allocation, {{WORKERS_PER_NODE}} worker(s) on each other node (on the first
# too when the job has one node).
{{DIRECTIVES}}

export OPENBLAS_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}" OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
index=$(( SLURM_ARRAY_TASK_ID + {{OFFSET}} ))
config={{EXPERIMENT}}/slurm/cluster/$index.toml
colony={{COLONY}}
bin=$(dirname "$colony")
workers_per_node={{WORKERS_PER_NODE}}
max_requeues={{MAX_REQUEUES}}
requeue_target=${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}
# The cells of this array whose algorithm trains from a replay server (colony-replay), as `submit` found them.
replay_cells=" {{REPLAY_CELLS}} "
if [[ $replay_cells == *" $index "* ]]; then uses_replay=1; else uses_replay=0; fi

mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
head=${nodes[0]}
# The head node's address as the other nodes reach it: its NodeAddr (else NodeHostName, else its name), as an IPv4 address.
addr=$(scontrol show node "$head" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p' | head -n1)
getent ahostsv4 "$addr" >/dev/null 2>&1 || addr=$(scontrol show node "$head" | tr ' ' '\n' | sed -n 's/^NodeHostName=//p' | head -n1)
getent ahostsv4 "$addr" >/dev/null 2>&1 || addr=$head
addr=$(getent ahostsv4 "$addr" | awk '{ print $1; exit }')
# A port of its own per job: two cells whose heads share a node never collide (the learner's ports are ephemeral).
port=$(( 20000 + SLURM_JOB_ID % 20000 ))
coordinator="tcp://$addr:$port"
if (( ${#nodes[@]} > 1 )); then worker_nodes=("${nodes[@]:1}"); else worker_nodes=("$head"); fi
worker_list=$(IFS=,; echo "${worker_nodes[*]}")
head_roles="coordinator, learner"; (( uses_replay )) && head_roles+=", replay server"
# Every role listens on the head's network address: CURVE keys of this cell (made once, readable by the user
# only, kept across requeues) admit only its own members. Slurm passes COLONY_KEYS on to every step.
export COLONY_KEYS={{EXPERIMENT}}/slurm/keys/$index
[[ -f $COLONY_KEYS/members/member.key ]] || "$colony" keys new "$COLONY_KEYS" >/dev/null || { echo "colony: cannot create the cell's keys in $COLONY_KEYS"; exit 1; }
echo "colony: cell $index as task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}, restart ${SLURM_RESTART_COUNT:-0}: $head_roles on $head ($coordinator), $workers_per_node worker(s) on each of $worker_list, $(date -Iseconds)"

# Stopping. Every role stops on SIGTERM, the learner and the replay server after writing their checkpoints
# (checkpoints/latest.h5, replay.h5). srun would turn a SIGTERM of its own into SIGKILL of its tasks, so the
# signal goes through Slurm to every step of this job (not to this shell; each step's log then says
# "STEP ... CANCELLED", which is only how slurmstepd reports it); what still runs after 60 s is killed.
pids=()
learner_status=""
alive() { local pid; for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
stop_roles() {
    scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || kill -USR1 "${pids[@]}" 2>/dev/null
    for _ in $(seq 120); do alive "${pids[@]}" || break; sleep 0.5; done
    kill "${pids[@]}" 2>/dev/null
    wait
}
# SIGUSR1 (the pre-timeout signal, --signal=B:USR1@S; `scancel --signal=USR1 --batch JOB`): stop, then requeue
# this job alone (scontrol requeue), at most max_requeues times (SLURM_RESTART_COUNT); the next start resumes the
# learner from checkpoints/latest.h5 and the replay server from replay.h5. SIGTERM (scancel, the time limit,
# preemption) or SIGINT: stop and exit; Slurm requeues a preempted job itself, and the next start resumes the same.
# bash runs a trap only once its foreground command returns: the script waits on background steps, so at once.
on_signal() {
    trap '' TERM INT USR1  # one stop at a time: the requeue below signals this job again
    echo "colony: SIG$1, $(date -Iseconds): stopping every role (the learner and the replay server write checkpoints)"
    stop_roles
    if [[ $1 != USR1 ]]; then
        echo "colony: stopped by SIG$1; a later start resumes from the checkpoints, $(date -Iseconds)"
        if [[ $1 == TERM ]]; then exit 143; else exit 130; fi
    fi
    if [[ -n $learner_status ]]; then
        echo "colony: the learner had already exited ($learner_status); not requeued"
        exit "$learner_status"
    fi
    restart=${SLURM_RESTART_COUNT:-0}
    if (( restart >= max_requeues )); then
        echo "colony: stopped by SIGUSR1 after $restart requeues (at most $max_requeues); not requeued: a resubmission resumes from the checkpoints"
        exit 1
    fi
    if scontrol requeue "$requeue_target"; then
        echo "colony: requeued $requeue_target (restart $(( restart + 1 )) of at most $max_requeues); the next start resumes from the checkpoints, $(date -Iseconds)"
        exit 0
    fi
    echo "colony: could not requeue $requeue_target; a resubmission resumes from the checkpoints"
    exit 1
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

srun --overlap --nodes=1 --ntasks=1 -w "$head" "$bin/colony-coordinator" --bind "tcp://*:$port" &
pids+=($!)
if (( uses_replay )); then
    srun --overlap --nodes=1 --ntasks=1 -w "$head" "$bin/colony-replay" --coordinator "$coordinator" --config "$config" --host "$addr" &
    pids+=($!)
fi
srun --overlap --nodes=1 --ntasks=1 -w "$head" "$bin/colony-learner" --config "$config" --coordinator "$coordinator" --host "$addr" &
learner=$!
pids+=($learner)
srun --overlap --nodes=${#worker_nodes[@]} --ntasks=$(( ${#worker_nodes[@]} * workers_per_node )) --ntasks-per-node="$workers_per_node" -w "$worker_list" \
    bash -c 'exec "$0" --config "$1" --coordinator "$2" --index "$SLURM_PROCID"' "$bin/colony-worker" "$config" "$coordinator" &
workers=$!
pids+=($workers)
# The learner stops at the frame budget and has the coordinator shut the workers down; then what is left stops
# the same way as on a signal (the replay server writes its last checkpoint).
wait "$learner"
learner_status=$?
for _ in $(seq 20); do kill -0 "$workers" 2>/dev/null || break; sleep 1; done
stop_roles
echo "colony: cell $index: learner exited with $learner_status, $(date -Iseconds)"
exit $learner_status

"""#

    public static let placeholders = [
        "{{GRID}}", "{{DIRECTIVES}}", "{{OFFSET}}", "{{COLONY}}", "{{EXPERIMENT}}", "{{CELL_OPTIONS}}", "{{WORKERS_PER_NODE}}", "{{MAX_REQUEUES}}",
        "{{REPLAY_CELLS}}",
    ]

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
        /// Grid indices of the cells whose cluster has a replay server (apex_dqn, apex_sac); distributed cells only.
        public var replayCells: Set<Int>

        public init(gridName: String, experimentDirectory: String, workingDirectory: String, executable: String, replayCells: Set<Int> = []) {
            self.gridName = gridName
            self.experimentDirectory = experimentDirectory
            self.workingDirectory = workingDirectory
            self.executable = executable
            self.replayCells = replayCells
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
            // Single-process and distributed cells alike checkpoint and requeue themselves on the pre-timeout signal.
            "--signal=B:USR1@\(options.signalLead)",
            "--requeue",
            "--chdir=\(directiveValue(context.workingDirectory))",
        ]
        if let layout = options.distributed {
            lines += ["--nodes=\(layout.nodes)", "--ntasks-per-node=\(layout.workersPerNode)", "--cpus-per-task=\(options.cpusPerTask)"]
        } else {
            lines += ["--ntasks=1", "--cpus-per-task=\(options.cpusPerTask)"]
        }
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
            "{{WORKERS_PER_NODE}}": String(options.distributed?.workersPerNode ?? 1),
            "{{MAX_REQUEUES}}": String(options.maxRequeues),
            "{{REPLAY_CELLS}}": array.cells.filter(context.replayCells.contains).sorted().map(String.init).joined(separator: " "),
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
