import ColonyAgents
import ColonyEnvironments
import ColonyNumerics
import Foundation

/// `make bench-targets`: the portable release build (x86-64-v2, the default) against a build tuned for
/// this CPU (`COLONY_TARGET_CPU=native`), in one run: environment steps, MLP updates and short
/// learning cases, and where MLP updates sit against OpenBLAS's own measured sgemm rate (the compute
/// limit of every agent update here). This binary measures itself, then runs the other build's
/// `colony-bench targets --json` for the same cases; rounds alternate so drift hits both.
struct BuildTargetBenchmarks {
    /// A learning case timed for a fixed number of frames, training only.
    struct LearningCase {
        let agent: String
        let environment: String
        let frames: Int
        var key: String { "learn_\(agent)_\(environment)" }
    }

    static let learningCases = [
        LearningCase(agent: "ppo", environment: "CartPole-v1", frames: 50_000),
        LearningCase(agent: "dqn", environment: "CartPole-v1", frames: 10_000),
        LearningCase(agent: "sac", environment: "Pendulum-v1", frames: 2_000),
    ]

    /// The MLPs timed: the foundation's small one and SAC's zoo critic for HalfCheetah (17 + 6 inputs).
    static let networks: [(key: String, sizes: [Int])] = [("mlp_4_64_64_2", [4, 64, 64, 2]), ("mlp_23_256_256_1", [23, 256, 256, 1])]
    static let batch = 256

    /// What this build is, for the table.
    static var buildLabel: String {
        #if COLONY_TUNED_CPU
        return "tuned (COLONY_TARGET_CPU)"
        #else
        return "portable (x86-64-v2)"
        #endif
    }

    let seconds: Double

    /// Every figure of this build, by key.
    func measure() throws -> [String: Double] {
        var values: [String: Double] = [:]
        values["cartpole_1"] = try FoundationBenchmarks.cartPoleSingle(seconds: seconds)
        values["cartpole_64"] = try FoundationBenchmarks.cartPoleVector(count: 64, seconds: seconds)
        values["sgemm_256_gflops"] = sgemmRate(size: Self.batch) / 1e9
        for (key, sizes) in Self.networks {
            let updates = mlpUpdates(sizes: sizes)
            values[key + "_updates"] = updates
            values[key + "_gflops"] = updates * Self.updateFlops(sizes: sizes, batch: Self.batch) / 1e9
        }
        for testCase in Self.learningCases { values[testCase.key] = try learningFramesPerSecond(testCase) }
        return values
    }

    /// Forward (2·b·in·out per layer) plus backward (input and weight gradients: twice that); Adam's
    /// elementwise work is left out, so the figure is a floor on the work done.
    static func updateFlops(sizes: [Int], batch: Int) -> Double {
        let macs = zip(sizes.dropLast(), sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        return 3 * 2 * Double(batch * macs)
    }

    /// Floating-point operations per second of one single-threaded n×n×n sgemm, as Colony calls it.
    private func sgemmRate(size n: Int) -> Double {
        var rng = RandomSource(seed: 3)
        let a = Tensor(shape: [n, n], scalars: (0..<(n * n)).map { _ in rng.normal() })
        let b = Tensor(shape: [n, n], scalars: (0..<(n * n)).map { _ in rng.normal() })
        var sink: Float = 0
        let products = measureRate(seconds: seconds, roundSize: 20) { sink += matmul(a, b)[0, 0] }
        if sink.isNaN { print("") }  // keeps the products observable
        return products * 2 * Double(n * n * n)
    }

    /// Regression updates like the foundation benchmark's: forward, MSE gradient, backward, Adam.
    private func mlpUpdates(sizes: [Int]) -> Double {
        var rng = RandomSource(seed: 0)
        let network = MLP(sizes: sizes, hidden: .relu, output: .identity, initialization: .torchLinearDefault, rng: &rng)
        var optimizer = Adam()
        let inputs = Tensor(shape: [Self.batch, sizes[0]], scalars: (0..<(Self.batch * sizes[0])).map { _ in rng.normal() })
        let targets = Tensor(shape: [Self.batch, sizes.last!], scalars: (0..<(Self.batch * sizes.last!)).map { _ in rng.normal() })
        return measureRate(seconds: seconds, roundSize: 10) {
            network.zeroGradients()
            let outputs = network.forward(inputs)
            network.backward((outputs - targets) * (2 / Float(outputs.count)))
            optimizer.step(network, learningRate: 1e-4)
        }
    }

    /// Training frames per second of the agent's defaults on a native environment (seed 1).
    private func learningFramesPerSecond(_ testCase: LearningCase) throws -> Double {
        let probe = try Environments.make(testCase.environment, seed: 0)
        let configuration = try Agents.schema(testCase.agent).resolve([:])
        let count = configuration.int("num_envs")
        let agent = try Agents.makeParallel(configuration, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, environments: count, seed: 1)
        let loop = try TrainingLoop(agent: agent, environments: VectorEnvironments.make(id: testCase.environment, count: count, seed: 1), seed: 1)
        let start = DispatchTime.now().uptimeNanoseconds
        try loop.advance(frames: testCase.frames)
        return Double(loop.frames) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Measures this build and `other` (another colony-bench) in alternating rounds, keeps each
    /// case's best round per build and prints the comparison.
    func compare(with other: String?, rounds: Int) throws {
        var mine: [String: Double] = [:], theirs: [String: Double] = [:]
        var otherLabel = "other build", otherNote: String?
        for _ in 0..<rounds {
            mine.merge(try measure(), uniquingKeysWith: max)
            guard let other else { continue }
            switch runOther(other) {
            case .success(let (label, values)): otherLabel = label; theirs.merge(values, uniquingKeysWith: max)
            case .failure(let failure): otherNote = failure.note
            }
        }
        let rows: [(String, String, String)] = [
            ("cartpole_1", "CartPole-v1, 1 environment", "steps/s"),
            ("cartpole_64", "CartPole-v1, vector of 64", "steps/s"),
            ("sgemm_256_gflops", "OpenBLAS sgemm 256×256×256, 1 thread", "GFLOP/s"),
            ("mlp_4_64_64_2_updates", "MLP 4-64-64-2 Adam update, batch 256", "updates/s"),
            ("mlp_23_256_256_1_updates", "MLP 23-256-256-1 (SAC critic) Adam update, batch 256", "updates/s"),
        ] + Self.learningCases.map { ($0.key, "\($0.agent) \($0.environment), \($0.frames) frames of training", "frames/s") }
        print("\n## Build targets: \(Self.buildLabel) against \(otherLabel), measured in this run (best of \(rounds) alternating rounds)\n")
        print("| case | unit | \(Self.buildLabel) | \(otherLabel) | \(otherLabel) / \(Self.buildLabel) |")
        print("| --- | --- | ---: | ---: | ---: |")
        for (key, name, unit) in rows {
            let a = mine[key], b = theirs[key]
            let ratio = a.flatMap { a in b.map { String(format: "%.2f×", $0 / a) } } ?? "n/a"
            print("| \(name) | \(unit) | \(a.map(format) ?? "n/a") | \(b.map(format) ?? "n/a") | \(ratio) |")
        }
        if let otherNote { print("- note: \(otherNote)") }
        if other == nil { print("- note: no other build given (make bench-targets builds a tuned one into .build-native)") }

        print("\n## Compute limit: MLP updates against OpenBLAS's measured sgemm rate (1 thread, batch \(Self.batch))\n")
        print("| network | build | FLOP per update | updates/s | achieved GFLOP/s | share of sgemm 256³ |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for (key, sizes) in Self.networks {
            for (label, values) in [(Self.buildLabel, mine), (otherLabel, theirs)] {
                guard let updates = values[key + "_updates"], let achieved = values[key + "_gflops"], let peak = values["sgemm_256_gflops"] else { continue }
                print("| \(sizes.map(String.init).joined(separator: "-")) | \(label) | \(format(Self.updateFlops(sizes: sizes, batch: Self.batch))) | "
                      + "\(format(updates)) | \(String(format: "%.1f", achieved)) | \(String(format: "%.0f%%", 100 * achieved / peak)) |")
            }
        }
        print("- FLOP per update = 3 × forward (2·batch·in·out per layer): a floor, Adam's elementwise work excluded")
        print("- \(machineLoadNote())")
    }

    private func runOther(_ path: String) -> Result<(String, [String: Double]), OtherBuildFailure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["targets", "--json", "--seconds", String(seconds)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do { try process.run() } catch { return .failure(OtherBuildFailure(note: "cannot start \(path): \(error)")) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .failure(OtherBuildFailure(note: "\(path) targets --json failed (exit \(process.terminationStatus))"))
        }
        let label = object["build"] as? String ?? "other build"
        var values: [String: Double] = [:]
        for (key, value) in object { if let number = value as? Double { values[key] = number } }
        return .success((label, values))
    }

    /// This build's figures as one JSON object (what `runOther` reads).
    func printJSON() throws {
        var object: [String: Any] = try measure()
        object["build"] = Self.buildLabel
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

struct OtherBuildFailure: Error {
    let note: String
}
