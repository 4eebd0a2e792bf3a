import ColonyAgents
import ColonyCluster
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage
import Foundation

/// The cluster issue's figures: frames per second consumed by the IMPALA learner with 1 and 2 workers
/// against single-process `impala`, time to solve CartPole-v1, parameter propagation latency (p50/p99),
/// and a soak run sampling every process's resident memory each second.
struct ClusterBenchmarks {
    let frames: Int
    let soakSeconds: Int

    private let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    private let scratch = NSTemporaryDirectory() + "colony-cluster-bench-\(getpid())"

    struct ClusterRun {
        var framesPerSecond: Double
        var secondsToSolve: Double?
        var latencyP50: Double?
        var latencyP99: Double?
        var memory: [String: [Double]] = [:]
    }

    func run() throws {
        try AtomicFile.createDirectories(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let single = try singleProcess()
        let one = try cluster(workers: 1, frames: frames, seconds: nil)
        let two = try cluster(workers: 2, frames: frames, seconds: nil)
        let keys = scratch + "/keys"
        try RunKeys(directory: keys).create()
        let twoWithCurve = try cluster(workers: 2, frames: frames, seconds: nil, tag: "-curve", keys: keys)
        print("\n## Cluster: IMPALA on CartPole-v1 (environment frames consumed by the learner per second)\n")
        print("| setup | frames/s | time to a 100-episode mean ≥ 475 | parameter latency p50 | p99 |")
        print("| --- | ---: | ---: | ---: | ---: |")
        print("| single process `impala` (8 envs) | \(format(single.framesPerSecond)) | \(single.secondsToSolve.map { String(format: "%.1f s", $0) } ?? "not in budget") | — | — |")
        for (name, run) in [("cluster, 1 worker × 8 envs", one), ("cluster, 2 workers × 8 envs", two), ("cluster, 2 workers × 8 envs, CURVE (`--keys`)", twoWithCurve)] {
            print("| \(name) | \(format(run.framesPerSecond)) | \(run.secondsToSolve.map { String(format: "%.1f s", $0) } ?? "not in budget") | "
                + "\(run.latencyP50.map { String(format: "%.1f ms", $0) } ?? "—") | \(run.latencyP99.map { String(format: "%.1f ms", $0) } ?? "—") |")
        }
        print("- reference: Ray RLlib IMPALA is not run by this benchmark (not installed in the bench venv), so no ratio against it is given; goal: solved in < 30 s")
        if soakSeconds > 0 {
            let soak = try cluster(workers: 2, frames: Int.max / 4, seconds: Double(soakSeconds))
            print("\n## Soak: \(soakSeconds) s cluster run, resident memory sampled every second (MiB)\n")
            print("| process | after warm-up (10%) | at the end | max | growth after warm-up |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for (name, samples) in soak.memory.sorted(by: { $0.key < $1.key }) where samples.count > 10 {
                let warm = samples[samples.count / 10]
                let end = samples.last!
                print(String(format: "| %@ | %.1f | %.1f | %.1f | %+.1f%% |", name, warm, end, samples.max()!, 100 * (end - warm) / warm))
            }
        }
    }

    private func singleProcess() throws -> (framesPerSecond: Double, secondsToSolve: Double?) {
        let probe = try Environments.make("CartPole-v1", seed: 0)
        let configuration = try Agents.schema("impala").resolve(["total_frames": .int(frames)])
        let agent = try Agents.makeParallel(configuration, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, environments: 8, seed: 1)
        let loop = try TrainingLoop(agent: agent, environments: VectorEnvironments.make(id: "CartPole-v1", count: 8, seed: 1), seed: 1)
        let start = Date()
        var window: [Double] = []
        var solved: Double?
        try loop.advance(frames: frames, onEpisode: { episode in
            window.append(episode.episodeReturn)
            if window.count == 100 {
                if solved == nil && window.reduce(0, +) / 100 >= 475 { solved = Date().timeIntervalSince(start) }
                window.removeAll()
            }
        })
        return (Double(loop.frames) / Date().timeIntervalSince(start), solved)
    }

    /// A worker's double buffering on `gym:CartPole-v1` served by Python hosts: the learner's
    /// consumption with one worker × 8 environments on 2 hosts, stepped as one lane or as two lanes
    /// of 4 (one host each) in turn. Skipped, saying why, without the environment host's Python.
    func doubleBuffering(frames: Int) throws {
        print("\n## Double buffering: IMPALA, 1 worker × 8 gym:CartPole-v1 environments on 2 Python hosts\n")
        guard (try? VectorEnvironments.describe(EnvironmentSettings(id: "gym:CartPole-v1"))) != nil else {
            print("- skipped: no Python for the environment host (make envhost)")
            return
        }
        try AtomicFile.createDirectories(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        print("| worker | learner frames/s |")
        print("| --- | ---: |")
        var rates: [Double] = []
        for doubleBuffer in [false, true] {
            let run = try cluster(workers: 1, frames: frames, seconds: nil, environment: "gym:CartPole-v1",
                                  environmentTable: "[env]\nhosts = 2\ndouble_buffer = \(doubleBuffer)\n", tag: doubleBuffer ? "double" : "single")
            rates.append(run.framesPerSecond)
            print("| \(doubleBuffer ? "two lanes of 4 envs stepped in turn (double buffering)" : "one lane of 8 envs") | \(format(run.framesPerSecond)) |")
        }
        print(String(format: "- double buffering / one lane: %.2f×, %d frames per run, measured in this run on this machine", rates[1] / max(rates[0], 1e-9), frames))
    }

    /// IMPALA on Pong's frames (Gymnasium's AtariPreprocessing and 4-frame stack in environment hosts, the Nature CNN
    /// with one trunk, frames sent as bytes): the learner's rate in one process and as clusters of 1 and 2 workers of
    /// 8 environments, beside Sample Factory's APPO with 2 rollout workers of 8 environments in the same run
    /// (Benchmarks/reference/sample_factory_appo_pong.py in its own venv: gymnasium < 1.0, numpy < 2).
    /// Rates are agent steps/s (one step = 4 emulator frames; Sample Factory counts emulator frames), each side's
    /// steady rate after start-up.
    func pong(frames: Int, sampleFactoryPython: String) throws {
        print("\n## IMPALA on gym:ALE/Pong-v5 frames (4 × 84 × 84 uint8, Nature CNN, one trunk) against Sample Factory APPO, \(frames) agent steps a run\n")
        var settings = EnvironmentSettings(id: "gym:ALE/Pong-v5")
        settings.kwargs["frameskip"] = .int(1)
        settings.wrappers = ["AtariPreprocessing(frame_skip=4)", "FrameStackObservation(stack_size=4)"]
        guard (try? VectorEnvironments.describe(settings)) != nil else {
            print("- skipped: no environment host with ale-py (make envhost)")
            return
        }
        try AtomicFile.createDirectories(scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let single: Double = try {
            let environments = try VectorEnvironments.make(settings, count: 8, seed: 1)
            let configuration = try Agents.schema("impala").resolve(["total_frames": .int(frames)])
            let agent = try Agents.makeParallel(configuration, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
                                                environments: 8, seed: 1)
            let loop = try TrainingLoop(agent: agent, environments: environments, seed: 1)
            let start = Date()
            try loop.advance(frames: frames, onEpisode: { _ in })
            return Double(loop.frames) / Date().timeIntervalSince(start)
        }()
        let table = "[env]\nwrappers = [\"AtariPreprocessing(frame_skip=4)\", \"FrameStackObservation(stack_size=4)\"]\n[env.kwargs]\nframeskip = 1\n"
        let one = try cluster(workers: 1, frames: frames, seconds: nil, environment: settings.id, environmentTable: table, tag: "pong")
        let two = try cluster(workers: 2, frames: frames, seconds: nil, environment: settings.id, environmentTable: table, tag: "pong")
        let reference = ReferenceScript(python: sampleFactoryPython).run(
            "Benchmarks/reference/sample_factory_appo_pong.py", arguments: ["--frames", String(4 * frames), "--workers", "2", "--envs-per-worker", "8"])
        let sampleFactory = reference.values["steady_frames_per_second"].map { $0 / 4 }
        print("| setup | agent steps/s | emulator frames/s | vs one process | vs Sample Factory |")
        print("| --- | ---: | ---: | ---: | ---: |")
        func row(_ name: String, _ rate: Double) {
            let versus = sampleFactory.map { String(format: "%.2f×", rate / max($0, 1e-9)) } ?? "—"
            print(String(format: "| %@ | %@ | %@ | %.2f× | %@ |", name, format(rate), format(4 * rate), rate / max(single, 1e-9), versus))
        }
        row("Colony `impala`, one process (8 envs, one host)", single)
        row("Colony cluster, 1 worker × 8 envs", one.framesPerSecond)
        row("Colony cluster, 2 workers × 8 envs", two.framesPerSecond)
        if let sampleFactory {
            row("Sample Factory APPO (CPU, async, 2 workers × 8 envs)", sampleFactory)
            let overall = (reference.values["frames_per_second"] ?? 0) / 4
            print("- Sample Factory: \(Int(reference.values["frames"] ?? 0)) emulator frames in \(String(format: "%.1f", reference.values["seconds"] ?? 0)) s, "
                + "\(format(overall)) agent steps/s with its start-up (spawning its processes, each importing torch); the row is its own 5-s samples after start-up")
            print("- Sample Factory runs PongNoFrameskip-v4 with its own Atari wrappers (max-and-skip 4, 84 × 84, 4 stacked); Colony ALE/Pong-v5 "
                + "(sticky actions 0.25) with Gymnasium's AtariPreprocessing(frame_skip=4) and a 4-frame stack")
        } else {
            print("| Sample Factory APPO (CPU) | not run: \(reference.notes.joined(separator: "; ")) (make bench-pong sets up Benchmarks/.venv-sf) | — | — | — |")
        }
        print("- every process of a run shares this machine's \(ProcessInfo.processInfo.activeProcessorCount) cores, environment hosts included")
    }

    /// Runs coordinator, learner and workers; returns the learner's consumption rate and the rest.
    /// `keys`: a run key directory every process uses (CURVE on every tcp:// socket), as `--keys` runs do.
    private func cluster(workers: Int, frames: Int, seconds: Double?, environment: String = "CartPole-v1", environmentTable: String = "", tag: String = "",
                         keys: String? = nil) throws -> ClusterRun {
        let port = 20_000 + Int(getpid() % 10_000) + workers * 7 + (seconds == nil ? 0 : 3) + (tag.isEmpty ? 0 : 40 + tag.count)
        let coordinator = "tcp://127.0.0.1:\(port)"
        let runs = scratch + "/runs-\(workers)-\(seconds == nil ? "speed" : "soak")\(tag)"
        let config = scratch + "/cluster-\(workers)\(tag).toml"
        try AtomicFile.write("""
        algorithm = "impala"
        env = "\(environment)"
        frames = \(min(frames, Int(Int32.max)))
        seed = 1
        runs_dir = "\(runs)"
        [cluster]
        coordinator = "\(coordinator)"
        workers = \(workers)
        envs_per_worker = 8
        checkpoint_every = \(max(100_000, min(frames, Int(Int32.max)) / 4))
        \(environmentTable)
        """, to: config)
        var processes: [(String, Process)] = []
        func start(_ name: String, _ executable: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binaries + "/" + executable)
            process.arguments = arguments
            if let keys { process.environment = ProcessInfo.processInfo.environment.merging(["COLONY_KEYS": keys]) { $1 } }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append((name, process))
        }
        try start("coordinator", "colony-coordinator", ["--bind", coordinator])
        try start("learner", "colony-learner", ["--config", config])
        for index in 0..<workers { try start("worker-\(index)", "colony-worker", ["--config", config, "--index", String(index)]) }
        defer {
            for (_, process) in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            for (_, process) in processes { process.waitUntilExit() }
        }
        var result = ClusterRun(framesPerSecond: 0)
        let run = RunDirectory(runsDirectory: runs, agent: "impala", environment: environment, seed: 1)
        let returnsPath = run.returns100
        let learner = processes[1].1
        let start = Date()
        // The learner's own (frames, when) pairs: rates between them exclude start-up and discovery,
        // and use the learner's clock rather than when the status happened to be polled.
        var samples: [(frames: Double, at: Double)] = []
        while learner.isRunning {
            Thread.sleep(forTimeInterval: 1)
            for (name, process) in processes where process.isRunning {
                if let rss = residentMiB(process.processIdentifier) { result.memory[name, default: []].append(rss) }
            }
            if result.secondsToSolve == nil, let rows = try? ReturnsCSV.read(returnsPath), rows.contains(where: { $0.mean >= 475 }) {
                result.secondsToSolve = Date().timeIntervalSince(start)
            }
            if let seconds, Date().timeIntervalSince(start) >= seconds { break }
            if let status = try? statusFigures(coordinator, keys: keys) {
                result.latencyP50 = status.p50 ?? result.latencyP50
                result.latencyP99 = status.p99 ?? result.latencyP99
                if let frames = status.frames, let at = status.framesAt, frames > 0, samples.last?.at != at { samples.append((frames, at)) }
            }
        }
        if seconds != nil { kill(learner.processIdentifier, SIGTERM); learner.waitUntilExit() }
        if let first = samples.first, let last = samples.last, last.at - first.at >= 2 {
            result.framesPerSecond = (last.frames - first.frames) / (last.at - first.at)
        } else {  // too short a run for the learner's own figures: the whole run, start-up included
            let consumed = (try? HDF5File.open(run.latestCheckpoint).read(Int64.self, at: "counters").values.first).map { Double($0) }
            result.framesPerSecond = (consumed ?? Double(frames)) / Date().timeIntervalSince(start)
        }
        return result
    }

    private func statusFigures(_ coordinator: String, keys: String?) throws -> (p50: Double?, p99: Double?, frames: Double?, framesAt: Double?) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaries + "/colony")
        process.arguments = ["status", "--coordinator", coordinator, "--json", "--timeout", "0.5"] + (keys.map { ["--keys", $0] } ?? [])
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let members = object["members"] as? [[String: Any]] else { return (nil, nil, nil, nil) }
        let workers = members.compactMap { $0["stats"] as? [String: Any] }
        let p50 = workers.compactMap { $0["parameter_latency_p50_ms"] as? Double }.max()
        let p99 = workers.compactMap { $0["parameter_latency_p99_ms"] as? Double }.max()
        let learner = members.first { ($0["role"] as? String) == "learner" }.flatMap { $0["stats"] as? [String: Any] }
        return (p50, p99, learner?["frames"] as? Double, learner?["frames_at"] as? Double)
    }

    private func residentMiB(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }
}
