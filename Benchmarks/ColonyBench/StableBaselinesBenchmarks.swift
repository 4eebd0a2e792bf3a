import ColonyAgents
import ColonyEnvironments
import Foundation

/// Issue 11's learning comparison: Colony and Stable-Baselines3 train the same agent on the same
/// Gymnasium environment with rl-baselines3-zoo's hyperparameters, for the same frames and seeds, in
/// the same run; each then evaluates its final policy deterministically. Colony steps the environments
/// through its environment hosts (`gym:` ids); SB3 (Benchmarks/reference/sb3_train.py) in-process.
struct StableBaselinesBenchmarks {
    struct Case {
        let agent: String
        /// Gymnasium id (Colony prefixes `gym:`).
        let environment: String
        let frames: Int
        /// The return the issue asks for, if any.
        let goal: Double?
        /// Colony's configuration keys for the zoo's hyperparameters (sb3_train.py's ZOO holds SB3's side).
        let overrides: [String: ConfigurationValue]
    }

    /// SAC on HalfCheetah-v5: the zoo's mujoco defaults are SB3's SAC defaults with learning_starts 10000.
    static func sacHalfCheetah(frames: Int) -> Case {
        Case(agent: "sac", environment: "HalfCheetah-v5", frames: frames, goal: nil, overrides: [
            "num_envs": .int(1), "total_frames": .int(frames), "hidden_sizes": .intList([256, 256]), "activation": .string("relu"),
            "learning_rate": .double(3e-4), "gamma": .double(0.99), "tau": .double(0.005), "buffer_size": .int(1_000_000),
            "batch_size": .int(256), "learning_starts": .int(10_000), "train_freq": .int(1), "gradient_steps": .int(1),
            "autotune": .bool(true), "initial_alpha": .double(1.0),
        ])
    }

    /// PPO on LunarLander-v3: the zoo's LunarLander entry on SB3's MlpPolicy (64-64 tanh, constant lr 3e-4).
    /// Frames round up to whole rollouts of 16 × 1024, since SB3's `learn` always finishes the rollout it is in.
    static func ppoLunarLander(frames requested: Int) -> Case {
        let rollout = 16 * 1024
        let frames = (requested + rollout - 1) / rollout * rollout
        return Case(agent: "ppo", environment: "LunarLander-v3", frames: frames, goal: 200, overrides: [
            "num_envs": .int(16), "n_steps": .int(1024), "batch_size": .int(64), "n_epochs": .int(4), "total_frames": .int(frames),
            "learning_rate": .double(3e-4), "anneal_lr": .bool(false), "gamma": .double(0.999), "gae_lambda": .double(0.98),
            "clip_range": .double(0.2), "clip_range_vf": .double(0), "normalize_advantage": .bool(true), "target_kl": .double(0),
            "ent_coef": .double(0.01), "vf_coef": .double(0.5), "max_grad_norm": .double(0.5), "adam_epsilon": .double(1e-5),
            "hidden_sizes": .intList([64, 64]), "activation": .string("tanh"),
            "normalize_observations": .bool(false), "normalize_rewards": .bool(false),
        ])
    }

    let cases: [Case]
    let seeds: [UInt64]
    let evaluationEpisodes: Int
    let referencePython: String
    /// Host processes per Colony vector (nil: Colony's default, one per core).
    let hosts: Int?

    struct Outcome {
        var meanReturn: Double
        var seconds: Double
        /// CPU seconds spent training: Colony's process and its environment hosts; SB3's process (all threads).
        var cpuSeconds: Double?
    }

    func run() throws {
        print("\n## Learning against Stable-Baselines3, same run: final deterministic return over \(evaluationEpisodes) episodes and training wall-clock\n")
        print("| agent | env | frames | seed | Colony return | Colony wall-clock | SB3 return | SB3 wall-clock | speed-up (SB3 s / Colony s) | Colony CPU | SB3 CPU | CPU ratio (SB3 / Colony) | goal |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        var notes = ["at the start: " + machineLoadNote()]
        let reference = ReferenceScript(python: referencePython)
        for testCase in cases {
            var colonyOutcomes: [Outcome] = [], sb3Outcomes: [Outcome] = []
            for seed in seeds {
                var colony: Outcome?
                do {
                    colony = try Self.trainColony(testCase, seed: seed, evaluationEpisodes: evaluationEpisodes, hosts: hosts)
                } catch {
                    notes.append("Colony \(testCase.agent) on \(testCase.environment) seed \(seed) could not run: \(error)")
                }
                let sb3 = Self.trainStableBaselines(
                    reference, agent: testCase.agent, environment: testCase.environment, frames: testCase.frames, seed: seed,
                    evaluationEpisodes: evaluationEpisodes)
                notes += sb3.notes
                if let colony { colonyOutcomes.append(colony) }
                if let outcome = sb3.outcome { sb3Outcomes.append(outcome) }
                printRow(testCase, seed: "\(seed)", colony: colony, sb3: sb3.outcome)
            }
            if seeds.count > 1 {
                printRow(testCase, seed: "mean of \(seeds.count)", colony: Self.mean(colonyOutcomes), sb3: Self.mean(sb3Outcomes))
            }
        }
        print("- the same zoo hyperparameters on both sides (Benchmarks/reference/sb3_train.py lists SB3's, StableBaselinesBenchmarks.swift Colony's); "
              + "wall-clock counts training only (environment steps and updates), not start-up or evaluation; "
              + "CPU = CPU seconds of that training (Colony: its process and its hosts; SB3: its process, all threads), less disturbed by other work on the machine; "
              + "Colony steps gym: environments through environment hosts (\(hosts.map { "\($0) per vector" } ?? "one per core")), SB3 in its own process (DummyVecEnv); "
              + "at the end: " + machineLoadNote())
        var printed = Set<String>()
        for note in notes where printed.insert(note).inserted { print("- note: \(note)") }
    }

    private func printRow(_ testCase: Case, seed: String, colony: Outcome?, sb3: Outcome?) {
        let seconds = { (o: Outcome?) in o.map { String(format: "%.0f s", $0.seconds) } ?? "not run" }
        let value = { (o: Outcome?) in o.map { String(format: "%.1f", $0.meanReturn) } ?? "not run" }
        let speedUp = colony.flatMap { c in sb3.map { String(format: "%.2f×", $0.seconds / c.seconds) } } ?? "n/a"
        let cpu = { (o: Outcome?) in o?.cpuSeconds.map { String(format: "%.0f s", $0) } ?? "n/a" }
        let cpuRatio = colony?.cpuSeconds.flatMap { c in sb3?.cpuSeconds.map { String(format: "%.2f×", $0 / c) } } ?? "n/a"
        var goal = ""
        if let target = testCase.goal {
            goal = "≥ \(Int(target)):"
            goal += colony.map { $0.meanReturn >= target ? " Colony ✓" : " Colony ✗" } ?? ""
            goal += sb3.map { $0.meanReturn >= target ? ", SB3 ✓" : ", SB3 ✗" } ?? ""
        }
        print("| \(testCase.agent) | \(testCase.environment) | \(testCase.frames) | \(seed) | \(value(colony)) | \(seconds(colony)) | \(value(sb3)) | \(seconds(sb3)) | \(speedUp) | \(cpu(colony)) | \(cpu(sb3)) | \(cpuRatio) | \(goal) |")
    }

    private static func mean(_ outcomes: [Outcome]) -> Outcome? {
        guard !outcomes.isEmpty else { return nil }
        let n = Double(outcomes.count)
        let cpu = outcomes.compactMap(\.cpuSeconds)
        return Outcome(meanReturn: outcomes.map(\.meanReturn).reduce(0, +) / n, seconds: outcomes.map(\.seconds).reduce(0, +) / n,
                       cpuSeconds: cpu.count == outcomes.count ? cpu.reduce(0, +) / n : nil)
    }

    /// Trains `testCase` through the library loop `colony train` runs (environments through the hosts,
    /// `Agents.makeParallel`, step and learn), then evaluates deterministically as `colony train` does.
    static func trainColony(_ testCase: Case, seed: UInt64, evaluationEpisodes: Int, hosts: Int?) throws -> Outcome {
        var settings = EnvironmentSettings(id: "gym:" + testCase.environment)
        settings.hosts = hosts
        let configuration = try Agents.schema(testCase.agent).resolve(testCase.overrides)
        let count = configuration.int("num_envs")
        let environments = try VectorEnvironments.make(settings, count: count, seed: seed)
        let agent = try Agents.makeParallel(
            configuration, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace, environments: count, seed: seed)
        let loop = try TrainingLoop(agent: agent, environments: environments, seed: seed)
        let hostPIDs = (environments as? RemoteVectorEnvironment)?.hostProcessIDs ?? []
        func cpuSeconds() -> Double? {
            let hosts = hostPIDs.map(childCPUSeconds)
            return hosts.contains { $0 == nil } ? nil : processCPUSeconds() + hosts.reduce(0) { $0 + $1! }
        }
        let cpuStart = cpuSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        try loop.advance(frames: testCase.frames)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let cpu = cpuStart.flatMap { before in cpuSeconds().map { $0 - before } }
        let returns = try AgentRunner.evaluate(agent, environment: settings, episodes: evaluationEpisodes, seed: 10_000 + seed)
        return Outcome(meanReturn: returns.reduce(0, +) / Double(returns.count), seconds: seconds, cpuSeconds: cpu)
    }

    /// SB3 on the same case and seed, run by sb3_train.py in the reference interpreter.
    /// `colonyConfiguration`: the Colony side's resolved configuration, which sb3_train.py translates key
    /// by key (nil: the zoo's hyperparameters it holds for the case).
    static func trainStableBaselines(_ reference: ReferenceScript, agent: String, environment: String, frames: Int, seed: UInt64,
                                     evaluationEpisodes: Int, colonyConfiguration: Configuration? = nil) -> (outcome: Outcome?, notes: [String]) {
        var arguments = ["--algo", agent, "--env", environment, "--frames", String(frames), "--seed", String(seed), "--eval-episodes", String(evaluationEpisodes)]
        if let colonyConfiguration { arguments += ["--colony-config", json(colonyConfiguration)] }
        let result = reference.run(repositoryRoot + "/Benchmarks/reference/sb3_train.py", arguments: arguments)
        guard let meanReturn = result.values["mean_return"], let seconds = result.values["train_seconds"] else {
            return (nil, result.notes.isEmpty ? ["SB3 \(agent) on \(environment) seed \(seed) gave no result"] : result.notes)
        }
        return (Outcome(meanReturn: meanReturn, seconds: seconds, cpuSeconds: result.values["train_cpu_seconds"]), result.notes)
    }

    /// The algorithms Stable-Baselines3 has (sb3_train.py's `--algo` choices).
    static let algorithms: Set<String> = ["a2c", "ddpg", "dqn", "ppo", "sac", "td3"]

    /// Every key of `configuration` with its value, as one JSON object.
    private static func json(_ configuration: Configuration) -> String {
        var object: [String: Any] = [:]
        for key in configuration.schema.keys {
            switch configuration.value(key.name) {
            case .int(let value): object[key.name] = value
            case .double(let value): object[key.name] = value
            case .bool(let value): object[key.name] = value
            case .string(let value): object[key.name] = value
            case .intList(let value): object[key.name] = value
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
