import ArgumentParser
import ColonyEnvironments
import ColonyNumerics
import Foundation

/// `make bench`: Colony's throughput and, measured in the same run, the references it is compared with.
@main
struct ColonyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony-bench",
        abstract: "Throughput benchmarks of Colony against gymnasium, EnvPool, PyTorch, raw libzmq and Reverb, in one run.",
        discussion: """
        Every figure is measured in this run; ratios divide Colony's figure by the reference's.
        References come from Python packages (gymnasium, envpool, torch) in --reference-python's environment and
        dm-reverb in --reverb-python's; a missing package is reported as a note instead of a number. The
        environment host's reference runs in the host's own interpreter (python/.venv, as `colony train` finds it).

        Examples:
          colony-bench all --reference-python Benchmarks/.venv/bin/python
          colony-bench foundation --seconds 1
          colony-bench cnn --reference-python Benchmarks/.venv/bin/python; OPENBLAS_NUM_THREADS=2 colony-bench cnn ...
          colony-bench transport --seconds 2
          colony-bench replay --seconds 2 --reverb-python Benchmarks/.venv-reverb/bin/python
          colony-bench envhost --seconds 4 --envs 1,8,32
          colony-bench sb3 --reference-python Benchmarks/.venv/bin/python --sac-frames 30000 --ppo-frames 200000 --seeds 1
          colony-bench targets --other .build-native/release/colony-bench
        """,
        subcommands: [All.self, Foundation.self, Convolution.self, Transport.self, ClusterRuns.self, Learning.self, PopulationTraining.self, Replay.self, EnvHost.self, StableBaselines.self, BuildTargets.self],
        defaultSubcommand: All.self
    )
}

/// Benchmarks/.venv's interpreter when Benchmarks/run.sh has set it up, else empty (references skipped).
var defaultReferencePython: String {
    let venv = repositoryRoot + "/Benchmarks/.venv/bin/python"
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : ""
}

struct BenchOptions: ParsableArguments {
    @Option(help: "Python interpreter with the reference packages (empty: skip the references).")
    var referencePython: String = ""

    @Option(help: "Seconds to measure each case.")
    var seconds: Double = 2

    @Option(help: "Python interpreter with dm-reverb (empty: Benchmarks/.venv-reverb when present, else --reference-python). Kept apart because TensorFlow 2.15 needs numpy < 2.")
    var reverbPython: String = ""

    @Option(help: "Python interpreter that runs environment hosts and their reference (empty: COLONY_PYTHON, then python/.venv, as `colony train` finds it).")
    var envhostPython: String = ""

    /// The interpreter for the Reverb reference.
    var reverbInterpreter: String {
        if !reverbPython.isEmpty { return reverbPython }
        let dedicated = repositoryRoot + "/Benchmarks/.venv-reverb/bin/python"
        return FileManager.default.isExecutableFile(atPath: dedicated) ? dedicated : referencePython
    }
}

extension ColonyBench {
    struct All: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every benchmark.")
        @OptionGroup var options: BenchOptions

        func run() throws {
            try FoundationBenchmarks(options: options).run()
            try ConvolutionBenchmarks(options: options).run()
            try TransportBenchmarks(options: options).run()
            try ClusterBenchmarks(frames: 5_000_000, soakSeconds: 0).run()
            try ClusterBenchmarks(frames: 5_000_000, soakSeconds: 0).doubleBuffering(frames: 300_000)
            try ReplayBenchmarks(seconds: options.seconds, capacity: 1_000_000, reverbPython: options.reverbInterpreter).run()
            try EnvironmentHostBenchmarks(hostPython: options.envhostPython.isEmpty ? nil : options.envhostPython).run()
        }
    }

    struct StableBaselines: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sb3",
            abstract: "SAC on HalfCheetah-v5 and PPO on LunarLander-v3, Colony and Stable-Baselines3 side by side in the same run.",
            discussion: """
            Both sides use rl-baselines3-zoo's hyperparameters, the same frames and the same seeds; each reports its final \
            deterministic return and its training wall-clock. SB3 runs in --reference-python (Benchmarks/.venv, which \
            Benchmarks/run.sh fills with stable-baselines3, torch and gymnasium[box2d,mujoco]); Colony's environment hosts \
            in python/.venv. The issue's scale is the default (SAC 200k frames, PPO 1M frames, 3 seeds: hours on a small machine).
            """)

        @Option(help: "Python interpreter with stable-baselines3 (empty: Benchmarks/.venv when present).")
        var referencePython: String = ""

        @Option(help: "Frames of SAC on HalfCheetah-v5 per seed (0: skip).")
        var sacFrames: Int = 200_000

        @Option(help: "Frames of PPO on LunarLander-v3 per seed, rounded up to whole rollouts of 16384 (0: skip).")
        var ppoFrames: Int = 1_000_000

        @Option(help: "Seeds per case (1...N).")
        var seeds: Int = 3

        @Option(help: "Deterministic evaluation episodes after training.")
        var evalEpisodes: Int = 10

        @Option(help: "Environment hosts per Colony vector (default: Colony's, one per core).")
        var hosts: Int?

        func validate() throws {
            guard seeds >= 1, evalEpisodes >= 1, sacFrames >= 0, ppoFrames >= 0 else {
                throw ValidationError("--seeds and --eval-episodes must be positive, frames non-negative")
            }
            if let hosts, hosts < 1 { throw ValidationError("--hosts must be positive") }
        }

        func run() throws {
            var cases: [StableBaselinesBenchmarks.Case] = []
            if sacFrames > 0 { cases.append(StableBaselinesBenchmarks.sacHalfCheetah(frames: sacFrames)) }
            if ppoFrames > 0 { cases.append(StableBaselinesBenchmarks.ppoLunarLander(frames: ppoFrames)) }
            try StableBaselinesBenchmarks(
                cases: cases, seeds: (1...seeds).map(UInt64.init), evaluationEpisodes: evalEpisodes,
                referencePython: referencePython.isEmpty ? defaultReferencePython : referencePython, hosts: hosts
            ).run()
        }
    }

    struct BuildTargets: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "targets",
            abstract: "This build against another build of colony-bench (portable x86-64-v2 against COLONY_TARGET_CPU=native), in one run.",
            discussion: """
            Environment steps, MLP updates, OpenBLAS's sgemm rate and short learning cases, measured by this binary and by \
            --other's `targets --json` in alternating rounds. `make bench-targets` builds the tuned binary into \
            .build-native and runs this.
            """)

        @Option(help: "The other build's colony-bench (empty: .build-native/release/colony-bench when present).")
        var other: String = ""

        @Option(help: "Seconds to measure each throughput case.")
        var seconds: Double = 2

        @Option(help: "Alternating rounds; each case keeps its best round per build.")
        var rounds: Int = 2

        @Flag(help: "Print this build's figures as one JSON object instead of the table (what the other side runs).")
        var json = false

        func validate() throws {
            guard seconds > 0, rounds >= 1 else { throw ValidationError("--seconds must be positive and --rounds at least 1") }
            if !other.isEmpty && !FileManager.default.isExecutableFile(atPath: other) {
                throw ValidationError("--other \(other) is not an executable colony-bench (build one with `make bench-targets`)")
            }
        }

        func run() throws {
            let benchmarks = BuildTargetBenchmarks(seconds: seconds)
            if json { return try benchmarks.printJSON() }
            let fallback = repositoryRoot + "/.build-native/release/colony-bench"
            let path = other.isEmpty ? (FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil) : other
            try benchmarks.compare(with: path, rounds: rounds)
        }
    }

    struct EnvHost: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "envhost",
            abstract: "Env steps/s through one Gymnasium environment host (ipc, tcp) vs the same environments stepped in one Python process.",
            discussion: """
            CartPole-v1 and ALE/Pong-v5 (registration defaults: frameskip 4, raw 210×160×3 uint8 observations) with \
            1, 8 and 32 environments on one host. The reference (Benchmarks/reference/envhost_python_steps.py) runs in \
            the same run, by default in the host's own interpreter, which needs gymnasium and ale-py (make envhost).
            """)

        @Option(help: "Seconds counted per case and round, after the warm-up.")
        var seconds: Double = 3

        @Option(help: "Seconds stepped before each measured window.")
        var warmup: Double = 0.5

        @Option(help: "Rounds over every case (reference, then Colony); each case reports its best round.")
        var rounds: Int = 3

        @Option(help: "Comma-separated environments per host.")
        var envs: String = "1,8,32"

        @Option(help: "Comma-separated Gymnasium ids (without gym:).")
        var environments: String = "CartPole-v1,ALE/Pong-v5"

        @Option(help: "Comma-separated transports (ipc, tcp).")
        var transports: String = "ipc,tcp"

        @Option(help: "Interpreter that runs the hosts (default: as `colony train` resolves it: COLONY_PYTHON, then python/.venv).")
        var python: String?

        @Option(help: "Interpreter that runs the in-process reference (default: the hosts' interpreter).")
        var referencePython: String?

        func validate() throws {
            guard seconds > 0, warmup >= 0, rounds >= 1 else { throw ValidationError("--seconds and --rounds must be positive, --warmup non-negative") }
            guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else { throw ValidationError("--envs takes positive integers, e.g. 1,8,32") }
            guard transportList != nil else { throw ValidationError("--transports takes ipc and/or tcp") }
        }

        private var counts: [Int] { envs.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        private var transportList: [EnvironmentSettings.HostTransport]? {
            let list = transports.split(separator: ",").map { EnvironmentSettings.HostTransport(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            return list.isEmpty || list.contains(nil) ? nil : list.compactMap { $0 }
        }

        func run() throws {
            try EnvironmentHostBenchmarks(
                environments: environments.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                counts: counts, transports: transportList!, seconds: seconds, warmup: warmup, rounds: rounds,
                hostPython: python, referencePython: referencePython
            ).run()
        }
    }

    struct ClusterRuns: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cluster",
            abstract: "IMPALA cluster throughput with 1 and 2 workers vs one process, parameter latency, and an optional soak run.")

        @Option(help: "Frames per throughput run (0: skip these runs).")
        var frames: Int = 5_000_000

        @Option(help: "Seconds of the soak run sampling resident memory (0: skip).")
        var soakSeconds: Int = 0

        @Option(help: "Frames per double-buffering run on gym:CartPole-v1 (0: skip).")
        var doubleBufferFrames: Int = 300_000

        @Option(help: "Agent steps per IMPALA run on gym:ALE/Pong-v5 frames, one process and clusters of 1 and 2 workers, beside Sample Factory's APPO (0: skip).")
        var pongFrames: Int = 0

        @Option(help: "Interpreter with Sample Factory 2.1 for the Pong reference (make bench-pong sets up Benchmarks/.venv-sf).")
        var sampleFactoryPython: String = "Benchmarks/.venv-sf/bin/python"

        func run() throws {
            let benchmarks = ClusterBenchmarks(frames: frames, soakSeconds: soakSeconds)
            if frames > 0 { try benchmarks.run() }
            if doubleBufferFrames > 0 { try benchmarks.doubleBuffering(frames: doubleBufferFrames) }
            if pongFrames > 0 { try benchmarks.pong(frames: pongFrames, sampleFactoryPython: sampleFactoryPython) }
        }
    }

    struct Learning: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Learning thresholds of every agent over several seeds (make bench-learning).")

        @Option(help: "Seeds per case (1...N).")
        var seeds: Int = 5

        @Option(help: "Only cases of this agent or environment, or one case as agent/environment (dqn/CartPole-v1).")
        var only: String?

        @Option(help: "Seeds Stable-Baselines3 trains per case (default: --seeds; 0: Colony only).")
        var referenceSeeds: Int?

        @Option(help: "Python interpreter with stable-baselines3 for the SB3 columns (empty: Benchmarks/.venv when present).")
        var referencePython: String = ""

        func run() throws {
            try LearningBenchmarks(seeds: seeds, filter: only, referencePython: referencePython.isEmpty ? defaultReferencePython : referencePython,
                                   referenceSeeds: referenceSeeds ?? seeds).run()
        }
    }

    struct PopulationTraining: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pbt",
            abstract: "DQN populations until the elite reaches the target: Colony's tournament, truncation and no evolution against AgileRL's train_off_policy (make bench-pbt).")

        @Option(help: "Colony seeds per variant (1...N).")
        var seeds: Int = 5

        @Option(help: "AgileRL seeds with evolution (default: --seeds; 0: Colony only).")
        var referenceSeeds: Int?

        @Option(help: "AgileRL seeds without evolution (default: --reference-seeds).")
        var referenceBaselineSeeds: Int?

        @Option(help: "AgileRL's frames per member before it gives up (default: the case's, 100000).")
        var referenceFramesPerMember: Int?

        @Option(help: "Members.")
        var population: Int = 4

        @Option(help: "Frames each member trains between two evolutions.")
        var interval: Int = 10_000

        @Option(help: "Only this environment (CartPole-v1 or Acrobot-v1).")
        var only: String?

        @Option(help: "AgileRL runs at once after Colony's runs of a case are done (one beside them before), each one thread.")
        var referenceJobs: Int = 2

        @Option(help: "Python interpreter with agilerl 2.58 (empty: Benchmarks/.venv-agilerl when present).")
        var agilerlPython: String = ""

        func run() throws {
            let references = referenceSeeds ?? seeds
            try PopulationBenchmarks(
                seeds: seeds, referenceSeeds: references, referenceBaselineSeeds: referenceBaselineSeeds ?? references,
                referenceFramesPerMember: referenceFramesPerMember, population: population, interval: interval, referenceJobs: referenceJobs,
                filter: only,
                agilerlPython: agilerlPython.isEmpty ? repositoryRoot + "/Benchmarks/.venv-agilerl/bin/python" : agilerlPython).run()
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay server inserts/s (round trips and pipelined) and samples/s over loopback with a 1e6-item prioritized table, memory per item, sum-structure cost at 1e4, 1e5, 1e6, and Reverb on the same workload.")

        @OptionGroup var options: BenchOptions

        @Option(help: "Items in the served table.")
        var capacity: Int = 1_000_000

        func run() throws {
            try ReplayBenchmarks(seconds: options.seconds, capacity: capacity, reverbPython: options.reverbInterpreter).run()
        }
    }

    struct Foundation: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Environments and networks (the foundation issue).")
        @OptionGroup var options: BenchOptions

        func run() throws {
            try FoundationBenchmarks(options: options).run()
        }
    }

    struct Convolution: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cnn",
            abstract: "The Nature-DQN CNN forward and forward+backward against PyTorch (the pixels issue); threads: OPENBLAS_NUM_THREADS (default 1)."
        )
        @OptionGroup var options: BenchOptions

        func run() throws {
            try ConvolutionBenchmarks(options: options).run()
        }
    }

    struct Transport: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wire path (f32 and u8) vs raw libzmq over tcp://127.0.0.1 at 16 KiB, 256 KiB and 4 MiB messages (the transport and pixels issues)."
        )
        @OptionGroup var options: BenchOptions

        func run() throws {
            try TransportBenchmarks(options: options).run()
        }
    }
}
