import ColonyExperiments
import Foundation

/// Issue 13's comparison with AgileRL: a DQN population of 4 on CartPole-v1 (and Acrobot-v1) evolves every
/// `interval` frames per member until the elite's 20-episode greedy mean reaches the target. Colony runs
/// tournament selection (AgileRL's rule), truncation PBT (Ray's) and the same population without evolution;
/// AgileRL runs its own `train_off_policy` with and without evolution (Benchmarks/reference/agilerl_population.py).
/// Both share one replay buffer across the population and start every member at the same values. Each run
/// uses one thread; AgileRL's runs go on in a child process beside Colony's, so both sides of a case are
/// measured in the same minutes, each on its own core of the 2-core machine. Once Colony's runs of a case are
/// done, `referenceJobs` of AgileRL's run at once (each still one process, one thread, its own core), so its
/// slower runs do not leave a core idle.
struct PopulationBenchmarks {
    struct Case {
        let environment: String
        let target: Double
        /// Frames per member before a run gives up.
        let framesPerMember: Int
    }

    static let cases = [
        Case(environment: "CartPole-v1", target: 475, framesPerMember: 100_000),
        Case(environment: "Acrobot-v1", target: -100, framesPerMember: 100_000),
    ]

    /// Colony's variants: the selection rule's settings.
    static let colonyVariants: [Variant] = [
        Variant(name: "tournament 2, elitism", selection: "tournament", quantile: 0.25),
        Variant(name: "tournament 2, elitism, architecture", selection: "tournament", quantile: 0.25, mutatesArchitecture: true),
        Variant(name: "truncation 25%", selection: "truncation", quantile: 0.25), Variant(name: "no evolution", selection: "truncation", quantile: 0),
    ]

    struct Variant {
        var name: String, selection: String, quantile: Double
        /// Also `architecture`: every mutation changes the Q-network's hidden layers as well (AgileRL mutates them too).
        var mutatesArchitecture = false
    }

    /// The Q-network's hidden layers where a variant mutates them: 1–3 layers of 64–512 units around the default 2 × 256.
    static let architecture = "hidden_sizes=mlp:1..3,64..512"

    /// The keys AgileRL's hyperparameter configuration mutates, in Colony's terms: learning rate over the same
    /// range; batch size over AgileRL's 8…64 (Colony's default 64 at the top, as AgileRL's); Colony trains in
    /// rounds (train_freq frames, then gradient_steps steps), so its train_freq stands for AgileRL's learn_step.
    static let mutations = ["learning_rate=log:1e-4..1e-2", "batch_size=int:8..64", "train_freq=int:32..512"]

    let seeds: Int
    let referenceSeeds: Int
    let referenceBaselineSeeds: Int
    /// AgileRL's frames per member before it gives up (nil: the case's); it trains about 20× slower here.
    let referenceFramesPerMember: Int?
    let population: Int
    let interval: Int
    /// AgileRL runs at once after Colony's runs of a case (one beside Colony's before).
    let referenceJobs: Int
    let filter: String?
    let agilerlPython: String

    struct Outcome {
        var reached: Bool
        var globalFrames: Double
        var seconds: Double
        var best: Double
    }

    func run() throws {
        print("\n## Population-based training: DQN, population \(population), evolution every \(interval) frames per member, until the elite's 20-episode greedy mean reaches the target\n")
        print("| environment | target | system | selection | success | median global frames to target | median wall-clock to target | median best fitness | wall-clock speed-up over AgileRL (evolution) |")
        print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        var notes: [String] = []
        for testCase in Self.cases where filter.map({ $0 == testCase.environment }) ?? true {
            let reference = AgileRLRuns(
                python: agilerlPython, testCase: testCase, framesPerMember: referenceFramesPerMember ?? testCase.framesPerMember,
                seeds: referenceSeeds, baselineSeeds: referenceBaselineSeeds, population: population, interval: interval)
            var colony: [String: [Outcome]] = [:]
            for variant in Self.colonyVariants {
                for seed in 1...seeds {
                    colony[variant.name, default: []].append(try runColony(testCase, variant: variant, seed: UInt64(seed)))
                    reference.advance()
                }
            }
            let agilerl = reference.finish(jobs: referenceJobs)
            notes += agilerl.notes
            let agilerlSeconds = agilerl.outcomes["evolution"].flatMap(Self.secondsToTarget)
            func row(_ system: String, _ selection: String, _ outcomes: [Outcome]) {
                let reached = outcomes.filter(\.reached)
                let frames = median(reached.map(\.globalFrames)).map { String(Int($0)) } ?? "—"
                let seconds = Self.secondsToTarget(outcomes)
                let best = median(outcomes.map(\.best)).map { String(format: "%.1f", $0) } ?? "—"
                var speedUp = "—"
                if system == "Colony", let seconds, let agilerlSeconds { speedUp = String(format: "%.1f×", agilerlSeconds / seconds) }
                print("| \(testCase.environment) | \(Int(testCase.target)) | \(system) | \(selection) | \(reached.count)/\(outcomes.count) | \(frames) | "
                      + "\(seconds.map { String(format: "%.1f s", $0) } ?? "—") | \(best) | \(speedUp) |")
            }
            for variant in Self.colonyVariants { row("Colony", variant.name, colony[variant.name] ?? []) }
            // Every seed's outcome, so that tables of several runs can be merged.
            func perSeed(_ outcomes: [Outcome]) -> String {
                outcomes.enumerated().map { index, outcome in
                    "seed \(index + 1): " + (outcome.reached ? "\(Int(outcome.globalFrames)) frames, " : "not reached, best \(String(format: "%.1f", outcome.best)), ")
                        + String(format: "%.1f s", outcome.seconds)
                }.joined(separator: "; ")
            }
            for variant in Self.colonyVariants { notes.append("\(testCase.environment), Colony \(variant.name): \(perSeed(colony[variant.name] ?? []))") }
            for (name, outcomes) in agilerl.outcomes.sorted(by: { $0.key < $1.key }) { notes.append("\(testCase.environment), AgileRL \(name): \(perSeed(outcomes))") }
            for (name, selection) in [("evolution", "tournament 2, elitism (train_off_policy)"), ("no evolution", "no evolution")] {
                if let outcomes = agilerl.outcomes[name], !outcomes.isEmpty { row("AgileRL", selection, outcomes) } else {
                    print("| \(testCase.environment) | \(Int(testCase.target)) | AgileRL | \(selection) | not run | | | | |")
                }
            }
        }
        notes.append("success: the elite's greedy mean over 20 episodes reached the target within \(Self.cases[0].framesPerMember) frames per member "
                     + "(AgileRL: \(referenceFramesPerMember ?? Self.cases[0].framesPerMember)); "
                     + "global frames count every member's training frames (evaluation episodes not counted); wall-clock covers training and evaluation")
        notes.append("Colony mutates \(Self.mutations.joined(separator: ", ")) (with architecture: also \(Self.architecture), every key on every mutated member) "
                     + "from its DQN defaults with shared replay; AgileRL mutates lr, batch size and "
                     + "learn step (its HyperparameterConfig) plus architecture and parameters (no 0.4, architecture 0.2, new layer 0.2, parameters 0.2, rl_hp 0.2)")
        notes.append(machineLoadNote())
        for note in notes { print("- note: \(note)") }
    }

    /// Median wall-clock of the runs that reached the target, nil when none did.
    static func secondsToTarget(_ outcomes: [Outcome]) -> Double? { median(outcomes.filter(\.reached).map(\.seconds)) }

    private func runColony(_ testCase: Case, variant: Variant, seed: UInt64) throws -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("colony-bench-pbt-\(getpid())-\(seed)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = PopulationSettings(
            agent: "dqn", environment: testCase.environment, size: population, interval: interval, generations: testCase.framesPerMember / interval,
            selection: variant.selection, quantile: variant.quantile, tournamentSize: 2, elitism: true,
            mutations: Self.mutations + (variant.mutatesArchitecture ? [Self.architecture] : []), initialSpread: false, evaluationEpisodes: 20, seed: seed, replay: "shared", targetFitness: testCase.target)
        let start = Date()
        let run = try PopulationRun(directory: directory, settings: settings, fresh: true, log: { _ in })
        let outcome = try run.run()
        let seconds = Date().timeIntervalSince(start)
        let frames = Double(run.state.generation * interval * population)
        switch outcome {
        case .reachedTarget(_, let fitness, _): return Outcome(reached: true, globalFrames: frames, seconds: seconds, best: fitness)
        case .finished(_, let fitness): return Outcome(reached: false, globalFrames: frames, seconds: seconds, best: fitness)
        case .stopped(let signal): throw PopulationError("stopped by signal \(signal)")
        }
    }
}

/// AgileRL's runs of one case, one child process at a time beside Colony's runs: `advance` starts the next
/// when the last has ended, `finish` runs the rest `jobs` at a time once Colony's are done.
final class AgileRLRuns {
    private typealias Run = (variant: String, seed: Int, process: Process, output: String)
    private var queue: [(variant: String, seed: Int)]
    private var running: [Run] = []
    /// Each variant's outcomes by seed, listed in seed order whatever order the runs ended in.
    private var outcomesBySeed: [String: [Int: PopulationBenchmarks.Outcome]] = [:]
    private var outcomes: [String: [PopulationBenchmarks.Outcome]] {
        outcomesBySeed.mapValues { bySeed in bySeed.keys.sorted().map { bySeed[$0]! } }
    }
    private(set) var notes: [String] = []
    private var versions: String?
    private let python: String
    private let testCase: PopulationBenchmarks.Case
    private let framesPerMember: Int
    private let population: Int
    private let interval: Int

    init(python: String, testCase: PopulationBenchmarks.Case, framesPerMember: Int, seeds: Int, baselineSeeds: Int, population: Int, interval: Int) {
        (self.python, self.testCase, self.framesPerMember, self.population, self.interval) = (python, testCase, framesPerMember, population, interval)
        queue = (0..<max(0, seeds)).map { ("evolution", $0 + 1) } + (0..<max(0, baselineSeeds)).map { ("no evolution", $0 + 1) }
        if !queue.isEmpty && !FileManager.default.isExecutableFile(atPath: python) {
            notes.append("AgileRL not run: no interpreter at '\(python)' (make bench-pbt installs agilerl 2.58 in Benchmarks/.venv-agilerl)")
            queue = []
        }
        advance()
    }

    /// Collects the runs that ended and starts the next while fewer than `jobs` run.
    func advance(jobs: Int = 1) {
        for run in running where !run.process.isRunning { collect(run) }
        running.removeAll { !$0.process.isRunning }
        while running.count < max(1, jobs), !queue.isEmpty { start() }
    }

    private func start() {
        let (variant, seed) = queue.removeFirst()
        let name = "colony-bench-agilerl-\(getpid())-\(variant == "no evolution" ? "baseline" : "evolution")-\(seed).json"
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repositoryRoot + "/Benchmarks/reference/agilerl_population.py", "--env", testCase.environment, "--target", "\(testCase.target)",
                             "--seed", "\(seed)", "--population", "\(population)", "--evo-steps", "\(interval)",
                             "--max-steps", "\(framesPerMember)"] + (variant == "no evolution" ? ["--no-evolution"] : [])
        process.standardOutput = FileHandle(forWritingAtPath: output)
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        process.environment = environment
        do {
            try process.run()
            running.append((variant, seed, process, output))
        } catch {
            notes.append("AgileRL not run: cannot start \(python): \(error)")
            queue = []
        }
    }

    /// Runs the rest, `jobs` at a time (Colony's runs are done), and waits for them.
    func finish(jobs: Int) -> (outcomes: [String: [PopulationBenchmarks.Outcome]], notes: [String]) {
        while !running.isEmpty || !queue.isEmpty {
            advance(jobs: jobs)
            Thread.sleep(forTimeInterval: 0.2)
        }
        if let versions {
            notes.append("references: \(versions); AgileRL ran beside Colony, then \(max(1, jobs)) at a time once Colony's runs were done, one thread each")
        }
        return (outcomes, notes)
    }

    private func collect(_ run: Run) {
        defer { try? FileManager.default.removeItem(atPath: run.output) }
        let text = (try? String(contentsOfFile: run.output, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let reached = object["reached"] as? Double, let frames = object["global_frames"] as? Double, let seconds = object["seconds"] as? Double
        else {
            notes.append("AgileRL \(run.variant) seed \(run.seed) printed no result (exit \(run.process.terminationStatus))")
            return
        }
        versions = "agilerl \(object["agilerl_version"] ?? "?"), torch \(object["torch_version"] ?? "?")"
        outcomesBySeed[run.variant, default: [:]][run.seed] = .init(reached: reached > 0, globalFrames: frames, seconds: seconds,
                                                                    best: object["best_fitness"] as? Double ?? .nan)
    }
}
