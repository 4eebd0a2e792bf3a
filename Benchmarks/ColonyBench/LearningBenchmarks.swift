import ColonyAgents
import ColonyEnvironments
import Foundation

/// `make bench-learning`: every learning threshold of the agents issue over several seeds. A seed
/// succeeds when a deterministic evaluation reaches the threshold within the frame budget; the
/// table reports the success rate, the median frames to threshold and the wall-clock. Every case whose
/// algorithm Stable-Baselines3 has also trains SB3 for the same budget and seeds in the same run, with
/// Colony's configuration translated key by key (Benchmarks/reference/sb3_train.py), so the speed-up
/// divides two figures of this machine for two agents trained the same way.
struct LearningBenchmarks {
    struct Case {
        let agent: String
        let environment: String
        let threshold: Double
        let budget: Int
        let evaluationEpisodes: Int
        var overrides: [String: ConfigurationValue] = [:]
    }

    static let cases: [Case] = [
        Case(agent: "ppo", environment: "CartPole-v1", threshold: 475, budget: 100_000, evaluationEpisodes: 20),
        Case(agent: "dqn", environment: "CartPole-v1", threshold: 475, budget: 50_000, evaluationEpisodes: 20),
        Case(agent: "a2c", environment: "CartPole-v1", threshold: 475, budget: 500_000, evaluationEpisodes: 20),
        Case(agent: "impala", environment: "CartPole-v1", threshold: 475, budget: 500_000, evaluationEpisodes: 20),
        Case(agent: "dqn", environment: "Acrobot-v1", threshold: -100, budget: 200_000, evaluationEpisodes: 20),
        Case(agent: "ppo", environment: "Acrobot-v1", threshold: -100, budget: 200_000, evaluationEpisodes: 20),
        Case(agent: "sac", environment: "Pendulum-v1", threshold: -200, budget: 20_000, evaluationEpisodes: 10),
        Case(agent: "td3", environment: "Pendulum-v1", threshold: -200, budget: 20_000, evaluationEpisodes: 10),
        Case(agent: "ddpg", environment: "Pendulum-v1", threshold: -200, budget: 30_000, evaluationEpisodes: 10),
        Case(agent: "q_learning", environment: "CliffWalking-v0", threshold: -13, budget: 50_000, evaluationEpisodes: 1),
    ]

    let seeds: Int
    let filter: String?
    /// Interpreter with stable-baselines3 (empty: the SB3 columns say not run).
    let referencePython: String
    /// Seeds SB3 trains per case (1...referenceSeeds, at most `seeds`; 0: Colony only, the SB3 columns say
    /// skipped): SB3 needs minutes per case and seed here, hours for the whole table with 5 seeds.
    var referenceSeeds: Int

    struct SeedResult {
        var framesToThreshold: Int?
        var secondsToThreshold: Double?
        var secondsForBudget: Double
        var finalScore: Double
    }

    func run() throws {
        print("\n## Learning: deterministic evaluation reaches the threshold within the frame budget (seeds 1...\(seeds))\n")
        print("| agent | environment | threshold | budget | success | median frames to threshold | median wall-clock to threshold | wall-clock for the budget | final return | SB3 wall-clock for the budget, this run | SB3 final return | speed-up |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        var notes: [String] = []
        for testCase in Self.cases where filter.map({ [testCase.agent, testCase.environment, "\(testCase.agent)/\(testCase.environment)"].contains($0) }) ?? true {
            guard Agents.list().contains(testCase.agent) else {
                print("| \(testCase.agent) | \(testCase.environment) | | | not registered | | | | | | | |")
                continue
            }
            var results: [SeedResult] = []
            for seed in 1...seeds { results.append(try runSeed(testCase, seed: UInt64(seed))) }
            let successes = results.filter { $0.framesToThreshold != nil }
            let frames = median(successes.compactMap { $0.framesToThreshold.map(Double.init) })
            let seconds = median(successes.compactMap(\.secondsToThreshold))
            let budgetSeconds = median(results.map(\.secondsForBudget))!
            var sb3 = "—", sb3Return = "—", speedUp = "—"
            if !StableBaselinesBenchmarks.algorithms.contains(testCase.agent) {
                (sb3, sb3Return) = ("SB3 has no \(testCase.agent)", "—")
            } else if referenceSeeds == 0 {
                (sb3, sb3Return) = ("skipped (--reference-seeds 0)", "—")
            } else {
                let configuration = try Agents.schema(testCase.agent).resolve(testCase.overrides)
                var outcomes: [StableBaselinesBenchmarks.Outcome] = []
                for seed in 1...min(seeds, referenceSeeds) {
                    let result = StableBaselinesBenchmarks.trainStableBaselines(
                        ReferenceScript(python: referencePython), agent: testCase.agent, environment: testCase.environment, frames: testCase.budget,
                        seed: UInt64(seed), evaluationEpisodes: testCase.evaluationEpisodes, colonyConfiguration: configuration)
                    notes += result.notes
                    if let outcome = result.outcome { outcomes.append(outcome) }
                }
                if let sb3Seconds = median(outcomes.map(\.seconds)), let sb3Mean = median(outcomes.map(\.meanReturn)) {
                    // Against Colony's median over the same seeds when SB3 trained fewer.
                    let colonySeconds = median(results.prefix(outcomes.count).map(\.secondsForBudget))!
                    sb3 = String(format: "%.1f s", sb3Seconds) + (outcomes.count < seeds ? " (seeds 1...\(outcomes.count); Colony \(String(format: "%.1f s", colonySeconds)) on those)" : "")
                    sb3Return = String(format: "%.1f (median of %d)", sb3Mean, outcomes.count)
                    speedUp = String(format: "%.1f×", sb3Seconds / colonySeconds)
                } else {
                    (sb3, sb3Return) = ("not run", "not run")
                }
            }
            print("| \(testCase.agent) | \(testCase.environment) | \(Int(testCase.threshold)) | \(testCase.budget) | \(successes.count)/\(seeds)\(successes.count * 5 >= seeds * 4 ? " ✓" : " ✗") | "
                + "\(frames.map { String(Int($0)) } ?? "—") | \(seconds.map { String(format: "%.1f s", $0) } ?? "—") | \(String(format: "%.1f s", budgetSeconds)) | \(String(format: "%.1f", median(results.map(\.finalScore))!)) | \(sb3) | \(sb3Return) | \(speedUp) |")
            for (index, result) in results.enumerated() {
                FileHandle.standardError.write(Data("  \(testCase.agent) \(testCase.environment) seed \(index + 1): reached at \(result.framesToThreshold.map(String.init) ?? "never"), final score \(String(format: "%.1f", result.finalScore))\n".utf8))
            }
        }
        print("- SB3 columns: sb3_train.py with Colony's configuration of the case translated key by key (networks, optimizer, schedules over the same frames), the same budget and seeds, median training wall-clock (no evaluations in between) and final deterministic return")
        var printed = Set<String>()
        for note in notes where printed.insert(note).inserted { print("- note: \(note)") }
    }

    /// Trains for the whole budget, evaluating every budget/20 frames (evaluation time is not counted).
    private func runSeed(_ testCase: Case, seed: UInt64) throws -> SeedResult {
        let probe = try Environments.make(testCase.environment, seed: 0)
        let configuration = try Agents.schema(testCase.agent).resolve(testCase.overrides)
        let count = configuration.int("num_envs")
        let agent = try Agents.makeParallel(configuration, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, environments: count, seed: seed)
        let loop = try TrainingLoop(agent: agent, environments: VectorEnvironments.make(id: testCase.environment, count: count, seed: seed), seed: seed)
        let interval = max(1_000, testCase.budget / 20)
        var trainingSeconds = 0.0
        var result = SeedResult(secondsForBudget: 0, finalScore: -.infinity)
        while loop.frames < testCase.budget {
            let start = DispatchTime.now().uptimeNanoseconds
            try loop.advance(frames: min(interval, testCase.budget - loop.frames))
            trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let returns = try AgentRunner.evaluate(agent, environment: testCase.environment, episodes: testCase.evaluationEpisodes, seed: 10_000 + seed)
            result.finalScore = returns.reduce(0, +) / Double(returns.count)
            if result.framesToThreshold == nil && result.finalScore >= testCase.threshold {
                result.framesToThreshold = loop.frames
                result.secondsToThreshold = trainingSeconds
            }
        }
        result.secondsForBudget = trainingSeconds
        return result
    }
}
