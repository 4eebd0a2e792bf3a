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
        dm-reverb in --reverb-python's; a missing package is reported as a note instead of a number.

        Examples:
          colony-bench all --reference-python Benchmarks/.venv/bin/python
          colony-bench foundation --seconds 1
          colony-bench transport --seconds 2
          colony-bench replay --seconds 2 --reverb-python Benchmarks/.venv-reverb/bin/python
        """,
        subcommands: [All.self, Foundation.self, Transport.self, ClusterRuns.self, Learning.self, Replay.self],
        defaultSubcommand: All.self
    )
}

struct BenchOptions: ParsableArguments {
    @Option(help: "Python interpreter with the reference packages (empty: skip the references).")
    var referencePython: String = ""

    @Option(help: "Seconds to measure each case.")
    var seconds: Double = 2

    @Option(help: "Python interpreter with dm-reverb (empty: Benchmarks/.venv-reverb when present, else --reference-python). Kept apart because TensorFlow 2.15 needs numpy < 2.")
    var reverbPython: String = ""

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
            try TransportBenchmarks(options: options).run()
            try ClusterBenchmarks(frames: 5_000_000, soakSeconds: 0).run()
            try ClusterBenchmarks(frames: 5_000_000, soakSeconds: 0).doubleBuffering(frames: 300_000)
            try ReplayBenchmarks(seconds: options.seconds, capacity: 1_000_000, reverbPython: options.reverbInterpreter).run()
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

        func run() throws {
            let benchmarks = ClusterBenchmarks(frames: frames, soakSeconds: soakSeconds)
            if frames > 0 { try benchmarks.run() }
            if doubleBufferFrames > 0 { try benchmarks.doubleBuffering(frames: doubleBufferFrames) }
        }
    }

    struct Learning: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Learning thresholds of every agent over several seeds (make bench-learning).")

        @Option(help: "Seeds per case (1...N).")
        var seeds: Int = 5

        @Option(help: "Only cases of this agent or environment, or one case as agent/environment (dqn/CartPole-v1).")
        var only: String?

        func run() throws {
            try LearningBenchmarks(seeds: seeds, filter: only).run()
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

    struct Transport: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wire path vs raw libzmq over tcp://127.0.0.1 at 16 KiB and 256 KiB messages (the transport issue)."
        )
        @OptionGroup var options: BenchOptions

        func run() throws {
            try TransportBenchmarks(options: options).run()
        }
    }
}
