import ArgumentParser
import ColonyCluster
import ColonyExperiments
import Foundation

struct Population: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pbt",
        abstract: "Population-based training: a population of runs that copy the best and mutate their hyperparameters.",
        subcommands: [RunPopulation.self, SubmitPopulation.self, PopulationStatus.self, ReplayPopulationMember.self, TrainPopulationMember.self,
                      AdvancePopulation.self]
    )
}

/// What `colony pbt run` and `colony pbt submit` share: the population and where it lives.
struct PopulationArguments: ParsableArguments {
    @Option(help: "Algorithm id (see `colony algorithms`); with --cluster, the cluster file's.")
    var agent: String?

    @Option(help: "Environment id (see `colony envs`); with --cluster, the cluster file's.")
    var env: String?

    @Option(help: "Members.")
    var population: Int = 8

    @Option(help: "Frames each member trains between two generations.")
    var interval: Int = 10_000

    @Option(help: "Intervals every member trains; between two, the population evolves.")
    var generations: Int = 5

    @Option(help: "truncation or tournament.")
    var selection: String = "truncation"

    @Option(help: "Truncation: the fraction of members replaced, and the fraction they copy from (0: no evolution).")
    var quantile: Double = 0.25

    @Option(help: "Tournament: members drawn for each tournament.")
    var tournamentSize: Int = 2

    @Flag(inversion: .prefixedNo, help: "Tournament: the best member keeps its slot unchanged.")
    var elitism = true

    @Option(help: ArgumentHelp("A key to mutate and its range: key=log:LOW..HIGH, linear:LOW..HIGH, int:LOW..HIGH, choice:A,B, or "
                               + "hidden_sizes=mlp:LAYERS_LOW..LAYERS_HIGH,WIDTH_LOW..WIDTH_HIGH (architecture); repeatable.",
                               valueName: "key=kind:range"))
    var mutate: [String] = []

    @Option(help: "Probability that a mutation resamples from the range instead of perturbing.")
    var resampleProbability: Double = 0.25

    @Flag(help: "Start every member at the configuration's values instead of values drawn from the --mutate ranges.")
    var noInitialSpread = false

    @Option(help: "Greedy evaluation episodes per member at each boundary.")
    var evalEpisodes: Int = 10

    @Option(help: "Seed of the evaluation episodes (the same for every member and generation).")
    var evalSeed: UInt64 = 1_000_000

    @Option(help: "Population seed: every member's run, selection and mutation follow from it.")
    var seed: UInt64 = 1

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one configuration key for every member; repeatable.", valueName: "key=value"))
    var assignments: [String] = []

    @Option(help: "own: each member keeps its replay buffer; shared: one buffer every member fills and samples from (dqn, sac, td3, ddpg; members train in turn).")
    var replay: String = "own"

    // Unconditional: targets are often negative (Acrobot's −100), and the next argument is the value.
    @Option(parsing: .unconditional, help: "End the run at the first boundary where the best member's fitness reaches this (e.g. 475, or -100).")
    var targetFitness: Double?

    @Option(help: "σ of Gaussian noise added to every parameter of a mutated member's acting network (0: none; AgileRL's parameter mutation).")
    var parameterNoise: Double = 0

    @Option(help: "Population name: the directory is <runs-dir>/pbt/<name> (default: <agent>-<env>-seed-<seed>).")
    var name: String?

    @Option(help: "Directory that holds the run directories.")
    var runsDir: String = "runs"

    @Flag(help: "Start over even if the population directory holds a population.")
    var fresh = false

    /// The population's settings; with `cluster` (a cluster file), members train as that cluster, whose algorithm,
    /// environment and `[agent]` table are the population's base.
    func settings(cluster: String? = nil) throws -> PopulationSettings {
        var (agent, environment, overrides) = (self.agent, self.env, assignments)
        if let cluster {
            guard self.agent == nil, self.env == nil else {
                throw ValidationError("--agent and --env come from the cluster file with --cluster; drop them")
            }
            let base = try ClusterMembers.baseSettings(clusterFile: cluster)
            (agent, environment, overrides) = (base.agent, base.environment, base.overrides + assignments)
        }
        guard let agent else { throw ValidationError("--agent is required (or --cluster FILE)") }
        guard let environment else { throw ValidationError("--env is required (or --cluster FILE)") }
        return PopulationSettings(
            agent: agent, environment: environment, size: population, interval: interval, generations: generations, selection: selection,
            quantile: quantile, tournamentSize: tournamentSize, elitism: elitism, mutations: mutate, resampleProbability: resampleProbability,
            initialSpread: !noInitialSpread, evaluationEpisodes: evalEpisodes, evaluationSeed: evalSeed, seed: seed, overrides: overrides,
            replay: replay, targetFitness: targetFitness, parameterNoise: parameterNoise,
            cluster: cluster.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
    }

    /// `<runs-dir>/pbt/<name>`, with a name that stays inside the runs directory (by default named after the agent, or
    /// the cluster file's algorithm).
    func directory(_ settings: PopulationSettings) throws -> String {
        let algorithm = try settings.cluster.map { try ClusterMembers.baseSettings(clusterFile: $0).algorithm } ?? settings.agent
        let populationName = name ?? "\(algorithm)-\(RunDirectory.directoryName(environment: settings.environment))-seed-\(seed)"
        try RunDirectory.checkComponent(populationName, what: "--name")
        return runsDir + "/pbt/" + populationName
    }
}

struct RunPopulation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Train a population in this process, member after member, evolving it every --interval frames.",
        discussion: """
        Every member trains --interval frames, then all are evaluated greedily on the same seeds (fitness: mean
        return). Truncation (Ray Tune's PBT): the bottom --quantile copy a member of the top one; tournament
        (AgileRL): every slot takes the winner of a --tournament-size tournament, the best kept with --elitism.
        A copy takes the donor's whole checkpoint (networks, optimizer moments, replay, counters) with its random
        streams derived afresh; copied and tournament members are mutated: each --mutate key ×0.8 or ×1.2 within
        its range, or resampled with --resample-probability. Only keys the agent can change mid-run are accepted.

        Writes runs/pbt/<name>/: population.json, lineage.jsonl (every boundary and member: parent, donor,
        changes, fitness, checkpoint sha256), members/slot-<k>/ (run directories). Rerunning the command
        resumes; Ctrl-C checkpoints the member in training first. docs/pbt.md has the details.

        Example (DQN whose learning rates start spread over five decades):
          colony pbt run --agent dqn --env CartPole-v1 --population 8 --interval 10000 --generations 5 \\
              --mutate learning_rate=log:1e-5..1e-1 --set total_frames=50000
        """
    )

    @OptionGroup var population: PopulationArguments

    @Option(help: "Members trained at once, each in its own process (one thread each).")
    var parallel: Int = 1

    @OptionGroup var clusters: ClusterMemberOptions

    @Flag(help: "Print no progress lines while members train.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let settings = try population.settings(cluster: clusters.cluster)
            let directory = try population.directory(settings)
            StopSignal.install()
            let members = try clusters.members(of: settings, portPerSlot: parallel > 1, keepsClustersUp: true)
            // Clusters kept up across boundaries end with the run, whichever way it ends.
            defer { members?.close() }
            var memberCommand = [currentExecutable(), "pbt", "member"] + (quiet ? ["--quiet"] : [])
            if let members, parallel > 1 {
                // Children of a cluster population share one key directory, made once here (or none: --insecure).
                memberCommand += try ClusterMemberOptions.memberArguments(members, population: directory)
            }
            let run = try PopulationRun(
                directory: directory, settings: settings, fresh: population.fresh, progressStyle: quiet ? .quiet : .lines,
                parallel: parallel, memberCommand: memberCommand, members: members)
            switch try run.run() {
            case .finished(let slot, let fitness):
                print(String(format: "population done: best member slot %d (lineage %d), fitness %.2f; %@", slot,
                             run.state.members[slot].lineage, fitness, run.memberDirectory(slot).path))
            case .reachedTarget(let slot, let fitness, let generation):
                print(String(format: "population reached the target at generation %d (%d frames per member): slot %d (lineage %d), fitness %.2f; %@",
                             generation, generation * run.state.settings.interval, slot, run.state.members[slot].lineage, fitness,
                             run.memberDirectory(slot).path))
            case .stopped(let signal):
                print("stopped by signal \(signal); every member is checkpointed: rerun the same command to resume")
                throw ExitCode(130)
            }
        }
    }
}

struct SubmitPopulation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Train a population on Slurm: an array job per interval, chained by controller jobs.",
        discussion: """
        Interval g is one array job, a task per member; a controller job that starts when every task has ended
        (--dependency=afterany) evaluates, selects, copies and mutates as `colony pbt run` does, then submits
        interval g + 1. A member whose task was cancelled, failed or ran out of time ranks last and is replaced by
        the best member; a requeued task resumes from the member's checkpoint. `colony pbt status DIR` follows it.
        """
    )

    @OptionGroup var population: PopulationArguments

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: "Time limit of each member's task and of each controller (Slurm's format, e.g. 1:00:00).")
    var time: String?

    @Option(help: "CPUs per member task.")
    var cpusPerTask: Int = 1

    @Option(help: "Memory per task (e.g. 4G).")
    var mem: String?

    @Option(name: .customLong("sbatch-arg"), help: ArgumentHelp("Another sbatch option for every job, e.g. --sbatch-arg=--account=lab; repeatable.", valueName: "option"))
    var sbatchArguments: [String] = []

    @OptionGroup var clusters: ClusterMemberOptions

    func run() throws {
        try reportingErrors {
            let settings = try population.settings(cluster: clusters.cluster)
            let directory = try population.directory(settings)
            var options = SlurmOptions()
            options.partition = partition
            options.time = time
            options.cpusPerTask = cpusPerTask
            options.memory = mem
            options.sbatchArguments = sbatchArguments
            try options.validate()
            guard !settings.sharesReplay else {
                throw PopulationError("--replay shared trains members in turn, which Slurm's member tasks do not; use --replay own, or colony pbt run")
            }
            let members = try clusters.members(of: settings, portPerSlot: true)
            let run = try PopulationRun(directory: directory, settings: settings, fresh: population.fresh, members: members)
            guard !run.isFinished else { return print("\(directory) is done: colony pbt status \(directory)") }
            // Every member task of a population of clusters uses one key directory, made here before any task starts.
            let memberArguments = try members.map { try ClusterMemberOptions.memberArguments($0, population: directory) } ?? []
            let slurm = PopulationSlurm(directory: directory, colony: currentExecutable(), options: options, memberArguments: memberArguments)
            try slurm.saveOptions()
            let jobs = try slurm.submitNextInterval(run.state)
            print("submitted interval \(run.state.generation + 1) of \(run.state.settings.generations): members array job \(jobs.members), "
                  + "controller \(jobs.controller); follow it with colony pbt status \(directory)")
        }
    }
}

/// What each interval's controller job runs: evaluate, evolve, submit the next interval.
struct AdvancePopulation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advance", abstract: "Evolve a population after an interval its Slurm tasks trained (what `colony pbt submit`'s controllers run).",
        shouldDisplay: false)

    @Argument(help: "The population's directory.")
    var directory: String

    @Option(help: "The interval whose tasks ended.")
    var interval: Int

    @Flag(help: "Submit the next interval afterwards.")
    var submit = false

    func run() throws {
        try reportingErrors {
            let memberArguments = try PopulationSlurm.savedMemberArguments(directory)
            let state = try PopulationState.read(directory + "/population.json")
            let members = try state.settings.cluster.map { cluster in
                try clusterMembers(cluster, keys: memberArguments.first == "--keys" ? memberArguments.last : nil,
                                   insecure: memberArguments == ["--insecure"], portPerSlot: true)
            }
            let run = try PopulationRun.open(directory: directory, members: members)
            let settings = run.state.settings
            if run.state.generation == interval - 1 && run.state.pending == nil {
                try run.recordTrainedElsewhere(failures: PopulationSlurm.unfinishedMembers(run, frames: interval * settings.interval))
                try run.evolve()
            } else if run.state.pending != nil {
                try run.evolve()  // a controller stopped between copies: finish the boundary
            } else if run.state.generation != interval {
                throw PopulationError("\(directory) is at generation \(run.state.generation); this controller is for interval \(interval)")
            }
            if run.isFinished {
                let (slot, fitness) = try run.best()
                print(String(format: "population done: best member slot %d, fitness %.2f", slot, fitness))
            } else if submit {
                let slurm = PopulationSlurm(directory: directory, colony: currentExecutable(), options: try PopulationSlurm.savedOptions(directory),
                                            memberArguments: memberArguments)
                if !slurm.submitted(interval: run.state.generation + 1) {
                    let jobs = try slurm.submitNextInterval(run.state)
                    print("submitted interval \(run.state.generation + 1): members \(jobs.members), controller \(jobs.controller)")
                }
            }
        }
    }
}

struct PopulationStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "A population's fitness per generation and member, and its lineage tree.")

    @Argument(help: "The population's directory (runs/pbt/<name>).")
    var directory: String

    func run() throws {
        try reportingErrors {
            let state = try PopulationState.read(directory + "/population.json")
            let records = try LineageRecord.read(directory + "/lineage.jsonl")
            print(PopulationReport(state: state, records: records).text)
        }
    }
}

struct ReplayPopulationMember: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Train one run from scratch with the hyperparameter schedule a member inherited.",
        discussion: """
        In each interval the replay uses the values the member's ancestor of that interval trained with (as Ray
        Tune's PBT replay does; weights are not copied). It trains in <population>/replay/slot-<k>, resumes when
        rerun, and prints its greedy fitness on the population's evaluation seeds.
        """)

    @Argument(help: "The population's directory (runs/pbt/<name>).")
    var directory: String

    @Option(help: "best, or a slot number.")
    var member: String = "best"

    @Flag(help: "Print no progress lines.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let replay = try PopulationReplay(population: directory)
            let slot = try replay.slot(named: member)
            let schedule = try replay.schedule(slot: slot)
            print("slot \(slot)'s schedule (interval: ancestor slot, values):")
            for (index, values) in schedule.values.enumerated() {
                print("  \(index + 1): slot \(schedule.ancestorSlots[index]), "
                      + values.keys.sorted().map { "\($0) = \(values[$0]!)" }.joined(separator: ", "))
            }
            StopSignal.install()
            let fitness = try replay.replay(schedule, progressStyle: quiet ? .quiet : .lines)
            let original = replay.state.members[slot].fitness.last.flatMap { $0 }.map { String(format: "%.2f", $0) } ?? "none"
            print(String(format: "replay fitness %.2f (the member's own: %@)", fitness, original))
        }
    }
}

/// What each child process of `colony pbt run --parallel P` runs: one member's interval.
struct TrainPopulationMember: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "Train one population member to a frame count (what `colony pbt run --parallel` starts).",
        shouldDisplay: false)

    @Argument(help: "The population's directory.")
    var directory: String

    @Argument(help: "The member's slot.")
    var slot: Int

    @Argument(help: "Frames to train the member to.")
    var frames: Int

    @Flag(help: "Print no progress lines.")
    var quiet = false

    @Option(help: "A cluster member's CURVE key directory.")
    var keys: String?

    @Flag(help: "A cluster member's processes without keys.")
    var insecure = false

    func run() throws {
        StopSignal.install()
        try reportingErrors {
            let state = try PopulationState.read(directory + "/population.json")
            guard state.members.indices.contains(slot) else { throw PopulationError("\(directory) has no slot \(slot)") }
            let label = PopulationRun.label(state.members[slot])
            let signal: Int32, stoppedAt: Int?
            if let cluster = state.settings.cluster {
                // The member's own cluster, on the coordinator port + slot so that members run side by side.
                let members = try clusterMembers(cluster, keys: keys, insecure: insecure, portPerSlot: true)
                guard let stopped = try members.train(slot: slot, population: directory, state: state, to: frames, progress: quiet ? .quiet : .lines,
                                                      log: { print("\(label): \($0)") }) else { return }
                signal = stopped
                stoppedAt = RunStatus.read(PopulationRun.memberDirectory(population: directory, slot: slot).status)?.frames
            } else {
                let options = try PopulationRun.trainingOptions(population: directory, state: state, slot: slot, frames: frames)
                let result = try Trainer(options: options, progress: ProgressReporter(style: quiet ? .quiet : .lines, label: label, lineInterval: 30),
                                         log: { print("\(label): \($0)") }).run()
                guard let stopped = result.stoppedBySignal else { return }
                (signal, stoppedAt) = (stopped, result.frames)
            }
            // Slurm's pre-timeout signal: requeue this task alone; its next start resumes from the checkpoint just written.
            let environment = ProcessInfo.processInfo.environment
            if signal == SIGUSR1, let job = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
                try SlurmClient().requeue(job: "\(job)_\(task)")
                print("\(label): requeued\(stoppedAt.map { " at frame \($0)" } ?? ""); the next start resumes from its checkpoint")
                return
            }
            throw ExitCode(130)
        }
    }
}

/// A population of clusters' members as this machine starts them: `colony`'s own directory holds the role binaries.
private func clusterMembers(_ cluster: String, keys: String?, insecure: Bool, portPerSlot: Bool, keepsClustersUp: Bool = false,
                            mutatedKeys: [String] = []) throws -> ClusterMembers {
    try ClusterMembers(clusterFile: cluster, binaryDirectory: (currentExecutable() as NSString).deletingLastPathComponent,
                       keysDirectory: keys, insecure: insecure, portPerSlot: portPerSlot, keepsClustersUp: keepsClustersUp, mutatedKeys: mutatedKeys)
}

/// `--cluster FILE` and its keys, for `colony pbt run` and `colony pbt submit`.
struct ClusterMemberOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Train every member as this cluster (`colony cluster up FILE`: coordinator, learner, workers); the file's "
                               + "algorithm, environment and [agent] table are the population's. Under `pbt submit` each member's task "
                               + "runs its cluster on its node, slot k's coordinator on the file's port + k.", valueName: "cluster.toml"))
    var cluster: String?

    @Option(help: "With --cluster: the CURVE key directory of every member's processes (default: the population's own keys/).")
    var keys: String?

    @Flag(help: "With --cluster: plain sockets, no keys (any process on a member's machine can join its cluster).")
    var insecure = false

    func validate() throws {
        if cluster == nil, keys != nil || insecure { throw ValidationError("--keys and --insecure go with --cluster") }
    }

    /// What each member's `colony pbt member` process is given: the one key directory (made now if it is the
    /// population's own) or `--insecure`.
    static func memberArguments(_ members: ClusterMembers, population directory: String) throws -> [String] {
        try members.keys(population: directory).map { ["--keys", $0] } ?? ["--insecure"]
    }

    /// The members as clusters of the population `settings`, or nil for single-process members; `keepsClustersUp`:
    /// members' clusters stay up across boundaries (`colony pbt run`), rather than one per interval (Slurm tasks,
    /// `colony pbt member`).
    func members(of settings: PopulationSettings, portPerSlot: Bool, keepsClustersUp: Bool = false) throws -> ClusterMembers? {
        let mutatedKeys = try settings.parsedMutations().map(\.key)
        return try cluster.map {
            try clusterMembers($0, keys: keys, insecure: insecure, portPerSlot: portPerSlot, keepsClustersUp: keepsClustersUp, mutatedKeys: mutatedKeys)
        }
    }
}
