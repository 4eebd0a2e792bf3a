import ColonyAgents
import ColonyEnvironments
import ColonyStorage
import Foundation
import XCTest
@testable import ColonyExperiments

final class PopulationRunTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        StopSignal.reset()
        root = NSTemporaryDirectory() + "colony-pbt-\(UUID().uuidString)"
        try AtomicFile.createDirectories(root)
    }

    override func tearDownWithError() throws {
        StopSignal.reset()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// DQN on CartPole, 4 members whose learning rates start spread over four decades; truncation replaces the
    /// worst member at each of 2 boundaries.
    private func settings(seed: UInt64 = 5) -> PopulationSettings {
        PopulationSettings(
            agent: "dqn", environment: "CartPole-v1", size: 4, interval: 2_000, generations: 3, selection: "truncation", quantile: 0.25,
            mutations: ["learning_rate=log:1e-5..1e-1", "exploration_final_eps=linear:0.01..0.2"], evaluationEpisodes: 3, seed: seed,
            overrides: ["total_frames=6000", "learning_starts=500"])
    }

    private func run(_ name: String, _ settings: PopulationSettings) throws -> (PopulationRun, PopulationRun.Outcome) {
        let population = try PopulationRun(directory: root + "/" + name, settings: settings, log: { _ in })
        return (population, try population.run())
    }

    func testAPopulationEvolvesRecordsItsLineageAndReplaysExactlyFromItsSeed() throws {
        let (outcome, lineagePath): (PopulationRun.Outcome, String) = try {
            // A population holds its directory's lock while it lives: this one is gone at the end of the block.
            let population = try PopulationRun(directory: root + "/a", settings: settings(), log: { _ in })
            let outcome = try population.run()
            guard case .finished(let best, let fitness) = outcome else {
                XCTFail("\(outcome)")
                return (outcome, population.lineagePath)
            }
            XCTAssertEqual(population.state.generation, 3)
            let records = try LineageRecord.read(population.lineagePath)
            XCTAssertEqual(records.count, 12, "3 generations × 4 members")
            XCTAssertEqual(records.filter { $0.generation == 3 }.map(\.action), ["continue", "continue", "continue", "continue"], "no selection after the last interval")
            let lastFitness = records.filter { $0.generation == 3 }.map(\.fitness)
            XCTAssertEqual(lastFitness[best], fitness)
            XCTAssertEqual(SelectionRule.ranking(lastFitness).first, best)

            for generation in [1, 2] {
                let rows = records.filter { $0.generation == generation }
                let exploits = rows.filter { $0.action == "exploit" }
                XCTAssertEqual(exploits.count, 1, "⌈4 × 0.25⌉ = 1 member replaced at generation \(generation)")
                guard let exploit = exploits.first, let donor = exploit.donorSlot else { continue }
                // The worst member copied the best one, whose checkpoint saved at the boundary has the recorded hash.
                XCTAssertEqual(SelectionRule.ranking(rows.map(\.fitness)).last, exploit.slot)
                XCTAssertEqual(SelectionRule.ranking(rows.map(\.fitness)).first, donor)
                XCTAssertEqual(exploit.parent, rows[donor].lineage)
                XCTAssertGreaterThanOrEqual(exploit.lineage, 4, "a copy gets a new lineage id")
                let saved = population.boundaryCheckpoint(generation: generation, slot: donor)
                XCTAssertEqual(try SHA256.hex(ofFile: saved), exploit.checkpointSHA256)
                XCTAssertEqual(try HDF5File.open(saved).readScalar(Int64.self, at: "extra/frames"), Int64(generation * 2_000))
                XCTAssertEqual(exploit.changes.map(\.key), ["learning_rate", "exploration_final_eps"])
                for change in exploit.changes {
                    XCTAssertNotEqual(change.operation, "", change.key)
                    if change.operation != "resample" { XCTAssertNotEqual(change.old, change.new, "\(change)") }
                }
                // Everyone else continues unchanged.
                XCTAssertTrue(rows.filter { $0.slot != exploit.slot }.allSatisfy { $0.action == "continue" && $0.changes.isEmpty })
            }
            // Each member trained all 3 intervals; its run directory is a run like any other.
            for slot in 0..<4 {
                let status = try XCTUnwrap(RunStatus.read(population.memberDirectory(slot).status))
                XCTAssertEqual(status.frames, 6_000)
                XCTAssertEqual(status.state, .done)
                // TensorBoard shows each member's hyperparameters beside its returns.
                let directory = population.memberDirectory(slot).path
                let events = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("events.out.tfevents.") })
                let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + events))
                XCTAssertNotNil(bytes.range(of: Data("hyperparameters/learning_rate".utf8)), "slot \(slot)")
            }
            // The best member's inherited schedule: its ancestors' slots and values, interval by interval.
            let replay = try PopulationReplay(population: root + "/a")
            let schedule = try replay.schedule(slot: try replay.slot(named: "best"))
            XCTAssertEqual(schedule.slot, best)
            XCTAssertEqual(schedule.ancestorSlots.count, 3)
            XCTAssertEqual(schedule.values.last, population.state.members[best].values, "the last interval trains with its current values")
            for generation in [1, 2] {
                let record = records.first { $0.generation == generation && $0.slot == schedule.ancestorSlots[generation] }!
                XCTAssertEqual(record.donorSlot ?? record.slot, schedule.ancestorSlots[generation - 1])
            }
            XCTAssertThrowsError(try replay.slot(named: "9")) { XCTAssertTrue("\($0)".contains("best or a slot"), "\($0)") }
            let replayed = try replay.replay(schedule, log: { _ in })
            XCTAssertTrue(replayed.isFinite)
            XCTAssertEqual(RunStatus.read(root + "/a/replay/slot-\(best)/status.json")?.frames, 6_000)

            let report = PopulationReport(state: population.state, records: records).text
            XCTAssertTrue(report.contains("truncation") && report.contains("←"), report)

            // colony plot of a population: a line per slot, a dashed line at each boundary.
            let plot = try LearningCurves(directory: root + "/a")
            XCTAssertEqual(Set(plot.curves.map(\.agent)).count, plot.curves.count, "one line per slot")
            XCTAssertTrue(plot.curves.allSatisfy { $0.agent.hasPrefix("slot ") && $0.environment == "CartPole-v1 (dqn population)" }, "\(plot.curves.map(\.agent))")
            XCTAssertEqual(plot.boundaries, [2_000, 4_000, 6_000])
            XCTAssertTrue(plot.svg().contains("stroke-dasharray"))

            return (outcome, population.lineagePath)
        }()
        // One seed, one history: a second population with the same settings writes the same lineage.jsonl.
        let lineage = try String(contentsOfFile: lineagePath, encoding: .utf8)
        let (again, _) = try run("b", settings())
        XCTAssertEqual(try String(contentsOfFile: again.lineagePath, encoding: .utf8), lineage)
        // Rerunning a finished population changes nothing.
        XCTAssertEqual(try run("a", settings()).1, outcome)
        XCTAssertEqual(try String(contentsOfFile: lineagePath, encoding: .utf8), lineage)

        // Stopped by a signal in the middle of a member's interval, then rerun: the same history.
        StopSignal.install()
        let stopper = Thread {
            Thread.sleep(forTimeInterval: 1.5)
            kill(getpid(), SIGTERM)
        }
        stopper.start()
        XCTAssertEqual(try run("c", settings()).1, .stopped(signal: SIGTERM))
        StopSignal.reset()
        let (resumed, finished) = try run("c", settings())
        XCTAssertEqual(finished, outcome)
        XCTAssertEqual(try String(contentsOfFile: resumed.lineagePath, encoding: .utf8), lineage)

        // Other settings on the same directory are refused; --fresh starts over.
        var other = settings()
        other.interval = 3_000
        XCTAssertThrowsError(try PopulationRun(directory: root + "/a", settings: other, log: { _ in })) {
            XCTAssertTrue("\($0)".contains("other settings") && "\($0)".contains("--fresh"), "\($0)")
        }
    }

    /// A member whose training fails ranks last, is replaced by the best member at the boundary, and trains on.
    func testAFailedMemberIsReplacedByTheBestAndTrainsOn() throws {
        var settings = settings()
        settings.generations = 2
        let blocked = RunDirectory(path: root + "/failing/members/slot-1")
        try blocked.create()
        // Another holder of slot 1's run directory makes its first interval fail; the lock goes once that is logged.
        var holder: RunDirectoryLock? = try RunDirectoryLock(blocked)
        let population = try PopulationRun(directory: root + "/failing", settings: settings, log: { line in
            if line.contains("slot 1 (lineage 1) failed") { holder = nil }
        })
        guard case .finished = try population.run() else { return XCTFail("the population did not finish") }
        XCTAssertNil(holder)
        let records = try LineageRecord.read(population.lineagePath)
        let failed = try XCTUnwrap(records.first { $0.generation == 1 && $0.slot == 1 })
        XCTAssertNil(failed.fitness)
        XCTAssertTrue(failed.failure?.contains("in use") ?? false, "\(failed)")
        XCTAssertEqual(failed.action, "exploit")
        let best = SelectionRule.ranking(records.filter { $0.generation == 1 }.map(\.fitness)).first
        XCTAssertEqual(failed.donorSlot, best)
        let after = try XCTUnwrap(records.first { $0.generation == 2 && $0.slot == 1 })
        XCTAssertNotNil(after.fitness, "the replaced member trained its second interval")
        XCTAssertEqual(RunStatus.read(blocked.status)?.frames, 4_000)
    }

    /// `--replay shared`: one buffer passes from member to member, so each samples every member's transitions; a
    /// population stopped in the middle of a member's interval and rerun ends with the same buffer, byte for byte.
    /// With `--parameter-noise` the mutated member's network is perturbed once, at its first start after the boundary.
    func testSharedReplayAndParameterNoiseResumeExactly() throws {
        let settings = PopulationSettings(
            agent: "dqn", environment: "CartPole-v1", size: 3, interval: 3_000, generations: 2, selection: "truncation", quantile: 0.34,
            mutations: ["learning_rate=log:1e-4..1e-2"], evaluationEpisodes: 2, seed: 3,
            overrides: ["total_frames=6000", "learning_starts=200", "buffer_size=30000"], replay: "shared", parameterNoise: 0.01)
        let (population, outcome) = try run("shared", settings)
        guard case .finished = outcome else { return XCTFail("\(outcome)") }
        func stored(_ path: String, _ group: String) throws -> Int64 { try HDF5File.open(path).read(Int64.self, at: group + "/cursor").values[0] }
        XCTAssertEqual(try stored(population.sharedReplayPath, "replay"), 18_000, "3 members × 2 intervals × 3000 frames, one transition each")
        // Each member's checkpoint holds the buffer as it left it: the first interval's 3000 transitions and the
        // second interval's up to and including its own.
        for slot in 0..<3 {
            XCTAssertEqual(try stored(population.memberDirectory(slot).latestCheckpoint, "agent/replay"), Int64(9_000 + (slot + 1) * 3_000), "slot \(slot)")
        }
        let records = try LineageRecord.read(population.lineagePath)
        XCTAssertEqual(records.filter { $0.parameterNoise != nil }.map(\.action), ["exploit"], "the one mutated member took noise")
        XCTAssertTrue(population.state.members.allSatisfy { $0.parameterNoiseSeed == nil }, "noise is applied once")
        let buffer = try SHA256.hex(ofFile: population.sharedReplayPath)
        let lineage = try String(contentsOfFile: population.lineagePath, encoding: .utf8)

        // SIGTERM shortly after slot 1 starts its second interval (after it took the shared buffer): it stops inside it.
        try {
            // The population's lock goes with it at the end of this block.
            StopSignal.install()
            var signalled = false
            let stopping = try PopulationRun(directory: root + "/stopped", settings: settings, log: { line in
                if !signalled && line.hasPrefix("slot 1 ") && line.contains("resuming") {
                    signalled = true
                    Thread {
                        Thread.sleep(forTimeInterval: 0.02)
                        kill(getpid(), SIGTERM)
                    }.start()
                }
            })
            XCTAssertEqual(try stopping.run(), .stopped(signal: SIGTERM))
            XCTAssertGreaterThan(try HDF5File.open(stopping.memberDirectory(1).latestCheckpoint).readScalar(Int64.self, at: "extra/frames"), 3_000,
                                 "stopped inside the interval")
        }()
        StopSignal.reset()
        let (resumed, finished) = try run("stopped", settings)
        XCTAssertEqual(finished, outcome)
        XCTAssertEqual(try String(contentsOfFile: resumed.lineagePath, encoding: .utf8), lineage)
        XCTAssertEqual(try SHA256.hex(ofFile: resumed.sharedReplayPath), buffer)

        // Shared replay needs a replay buffer and members trained in turn.
        var table = settings
        table.agent = "q_learning"
        table.replay = "own"
        table.mutations = []
        table.overrides = []
        XCTAssertThrowsError(try table.validate()) { XCTAssertTrue("\($0)".contains("--parameter-noise needs an agent with a network"), "\($0)") }
        var onPolicy = settings
        onPolicy.parameterNoise = 0
        onPolicy.agent = "ppo"
        onPolicy.mutations = []
        onPolicy.overrides = []
        XCTAssertThrowsError(try onPolicy.validate()) { XCTAssertTrue("\($0)".contains("--replay shared needs an agent with a replay buffer"), "\($0)") }
        var unknown = settings
        unknown.replay = "global"
        XCTAssertThrowsError(try unknown.validate()) { XCTAssertTrue("\($0)".contains("own or shared"), "\($0)") }
        XCTAssertThrowsError(try PopulationRun(directory: root + "/parallel", settings: settings, parallel: 2, memberCommand: ["/bin/true"], log: { _ in })) {
            XCTAssertTrue("\($0)".contains("drop --parallel"), "\($0)")
        }
    }

    /// `--target-fitness`: the first boundary where the best member reaches it only evaluates, and the run ends there.
    func testATargetFitnessEndsTheRunAtTheFirstBoundaryThatReachesIt() throws {
        var settings = settings()
        settings.targetFitness = -1
        let outcome: PopulationRun.Outcome = try {
            let (population, outcome) = try run("target", settings)
            guard case .reachedTarget(let best, let fitness, let generation) = outcome else {
                XCTFail("\(outcome)")
                return outcome
            }
            XCTAssertEqual(generation, 1)
            XCTAssertGreaterThanOrEqual(fitness, -1)
            XCTAssertEqual(population.state.generation, 1)
            XCTAssertTrue(population.isFinished)
            let records = try LineageRecord.read(population.lineagePath)
            XCTAssertEqual(records.map(\.action), ["continue", "continue", "continue", "continue"], "the boundary that reached the target only evaluated")
            XCTAssertEqual(SelectionRule.ranking(records.map(\.fitness)).first, best)
            XCTAssertEqual(RunStatus.read(population.memberDirectory(0).status)?.frames, 2_000, "nothing trained past it")
            return outcome
        }()
        // Rerunning a population that reached its target trains nothing more.
        XCTAssertEqual(try run("target", settings).1, outcome)
        var unreachable = settings
        unreachable.targetFitness = .infinity
        XCTAssertThrowsError(try unreachable.validate()) { XCTAssertTrue("\($0)".contains("--target-fitness"), "\($0)") }
    }

    /// `--mutate hidden_sizes=mlp:...` (AgileRL's architecture mutation): mutated members train on in the new
    /// architecture, carried from the donor's checkpoint; the whole run replays from its seed.
    func testMembersChangeArchitectureAndTrainOnInIt() throws {
        let settings = PopulationSettings(
            agent: "dqn", environment: "CartPole-v1", size: 4, interval: 1_500, generations: 3, selection: "tournament", tournamentSize: 2,
            mutations: ["hidden_sizes=mlp:1..3,8..64"], evaluationEpisodes: 2, seed: 8,
            overrides: ["total_frames=4500", "learning_starts=300", "batch_size=16", "gradient_steps=16", "train_freq=64"])
        var carried: [String] = []
        let population = try PopulationRun(directory: root + "/architecture", settings: settings, log: { line in
            if line.contains("into the new architecture") { carried.append(line) }
        })
        guard case .finished = try population.run() else { return XCTFail("the population did not finish") }
        let records = try LineageRecord.read(population.lineagePath)
        let changes = records.flatMap(\.changes).filter { $0.old != $0.new }
        XCTAssertFalse(changes.isEmpty, "some member's architecture changed")
        XCTAssertTrue(changes.allSatisfy { ["add_layer", "remove_layer", "add_nodes", "remove_nodes", "resample"].contains($0.operation) }, "\(changes)")
        XCTAssertFalse(carried.isEmpty, "a member resumed a checkpoint of another architecture")
        // Every member's last checkpoint is its own architecture: the one its lineage's last change set.
        for member in population.state.members {
            let header = try AgentCheckpoint.Header(path: population.memberDirectory(member.slot).latestCheckpoint)
            XCTAssertTrue(header.configurationTOML.contains("hidden_sizes = \(member.values["hidden_sizes"]!)\n"), "slot \(member.slot): \(member.values)")
            XCTAssertNotNil(member.fitness.last ?? nil, "slot \(member.slot) trained in its architecture and was evaluated")
        }
        let lineage = try String(contentsOfFile: population.lineagePath, encoding: .utf8)
        XCTAssertEqual(try String(contentsOfFile: run("again", settings).0.lineagePath, encoding: .utf8), lineage, "one seed, one lineage")
    }

    /// The issue's hard-to-tune setting: DQN on CartPole with 8 members whose learning rates start spread
    /// log-uniformly over [1e-5, 1e-1]. With truncation selection the elite's greedy mean beats the median member
    /// of the same population trained without evolution (quantile 0) on at least 2 of 3 seeds.
    func testEvolutionBeatsTheMedianMemberOfTheSamePopulationWithoutIt() throws {
        var wins = 0
        var table: [String] = []
        for seed: UInt64 in 1...3 {
            func population(_ name: String, quantile: Double) throws -> [Double?] {
                let settings = PopulationSettings(
                    agent: "dqn", environment: "CartPole-v1", size: 8, interval: 5_000, generations: 4, quantile: quantile,
                    mutations: ["learning_rate=log:1e-5..1e-1"], evaluationEpisodes: 10, seed: seed, overrides: ["total_frames=20000"])
                let run = try PopulationRun(directory: root + "/\(name)-\(seed)", settings: settings, log: { _ in })
                _ = try run.run()
                return run.state.members.map { $0.fitness.last ?? nil }
            }
            let evolved = try population("evolved", quantile: 0.25).compactMap { $0 }.max() ?? -.infinity
            let fixed = try population("fixed", quantile: 0).compactMap { $0 }.sorted()
            let median = fixed.isEmpty ? .infinity : (fixed[(fixed.count - 1) / 2] + fixed[fixed.count / 2]) / 2
            if evolved > median { wins += 1 }
            table.append("seed \(seed): elite \(evolved), median without evolution \(median)")
        }
        XCTAssertGreaterThanOrEqual(wins, 2, table.joined(separator: "; "))
        print(table.joined(separator: "\n"))
    }

    /// A reseeded restore takes every parameter, moment and counter of the checkpoint but none of its random streams.
    func testReseedingKeepsTheStateAndRederivesEveryRandomStream() throws {
        let configuration = try Agents.schema("dqn").resolve(["learning_starts": .int(200)])
        let options = TrainingOptions(environment: "CartPole-v1", seed: 3, frames: 1_000, configuration: configuration, runsDirectory: root, testEpisodes: 0)
        _ = try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { _ in }).run()
        let checkpoint = options.directory.latestCheckpoint
        func restored(_ reseeding: RandomStreamReseeding?, _ name: String) throws -> HDF5File {
            let agent = try Agents.makeParallel(configuration, observationSpace: Environments.make("CartPole-v1", seed: 0).observationSpace,
                                                actionSpace: Environments.make("CartPole-v1", seed: 0).actionSpace, environments: 1, seed: 99)
            try AgentCheckpoint.load(agent, from: checkpoint, reseeding: reseeding)
            try AgentCheckpoint.save(agent, to: root + "/" + name)
            return try HDF5File.open(root + "/" + name)
        }
        let plain = try restored(nil, "plain.h5"), first = try restored(RandomStreamReseeding(seed: 1), "first.h5")
        let second = try restored(RandomStreamReseeding(seed: 2), "second.h5")
        var streams = 0, tensors = 0
        func compare(_ group: String) throws {
            for name in try plain.members(of: group) {
                let path = group + "/" + name
                if let children = try? plain.members(of: path), !children.isEmpty { try compare(path); continue }
                if let state = try? plain.read(UInt64.self, at: path).values {
                    streams += 1
                    XCTAssertNotEqual(try first.read(UInt64.self, at: path).values, state, path)
                    XCTAssertNotEqual(try first.read(UInt64.self, at: path).values, try second.read(UInt64.self, at: path).values, path)
                } else if let values = try? plain.read(Float.self, at: path).values {
                    tensors += 1
                    XCTAssertEqual(try first.read(Float.self, at: path).values, values, path)
                }
            }
        }
        try compare("agent")
        XCTAssertGreaterThanOrEqual(streams, 2, "DQN keeps an exploration and a replay stream")
        XCTAssertGreaterThanOrEqual(tensors, 3, "parameters, target parameters, optimizer moments")
    }
}

/// What a Slurm population's controllers read back about its member tasks' keys: the three shapes it writes, and a
/// damaged file refused with the fix rather than misread.
final class PopulationSlurmMemberArgumentsTests: XCTestCase {
    func testSavedMemberArgumentsRoundTripAndADamagedFileIsRefused() throws {
        let directory = NSTemporaryDirectory() + "colony-member-arguments-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertEqual(try PopulationSlurm.savedMemberArguments(directory), [], "a chain submitted before the file existed")
        for arguments in [[], ["--insecure"], ["--keys", "/tmp/population/keys"]] {
            try PopulationSlurm(directory: directory, colony: "/usr/bin/colony", options: SlurmOptions(), memberArguments: arguments).saveOptions()
            XCTAssertEqual(try PopulationSlurm.savedMemberArguments(directory), arguments)
        }
        for damaged in [#"["--keys"]"#, #"["--keys", "a", "b"]"#, #"["--verbose"]"#, "{"] {
            try AtomicFile.write(damaged, to: directory + "/slurm/member-arguments.json")
            XCTAssertThrowsError(try PopulationSlurm.savedMemberArguments(directory), damaged) { error in
                XCTAssertTrue("\(error)".contains("resubmit with colony pbt submit"), "\(error)")
            }
        }
    }
}
