import ColonyAgents
import ColonyEnvironments
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyExperiments

final class TrainerTests: XCTestCase {
    private var runs: String!

    override func setUpWithError() throws {
        UniformRandomAgent.register()
        StopSignal.reset()
        runs = NSTemporaryDirectory() + "colony-runs-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: runs)
    }

    private func options(frames: Int, checkpointEvery: Int = 1_000, set: [String] = [], fresh: Bool = false) throws -> TrainingOptions {
        let configuration = try ConfigurationSources(assignments: set).resolve(agent: "test_uniform")
        return TrainingOptions(environment: "CartPole-v1", seed: 4, frames: frames, configuration: configuration, runsDirectory: runs,
                               checkpointInterval: checkpointEvery, keepCheckpoints: 2, testEpisodes: 10, fresh: fresh)
    }

    private func train(_ options: TrainingOptions) throws -> TrainingResult {
        try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { _ in }).run()
    }

    func testARunLeavesEveryFileStandardToolsRead() throws {
        let options = try options(frames: 6_000, set: ["learning_rate=0.5"])
        let result = try train(options)
        let directory = options.directory
        XCTAssertEqual(directory.path, "\(runs!)/test_uniform/CartPole-v1/seed-4")
        XCTAssertEqual(result.frames, 6_000)

        // returns100.csv: a row per 100 episodes, frame,mean,std,max,min.
        let rows = try ReturnsCSV.read(directory.returns100)
        XCTAssertEqual(rows.count, result.episodes / 100)
        XCTAssertGreaterThanOrEqual(rows.count, 2, "random CartPole episodes last ~22 frames")
        for row in rows { XCTAssertTrue(row.min <= row.mean && row.mean <= row.max && row.std >= 0) }
        XCTAssertEqual(try String(contentsOfFile: directory.returns100, encoding: .utf8).split(separator: "\n").first?.split(separator: ",").count, 5)

        // Effective configuration: every key, set or default.
        let config = try String(contentsOfFile: directory.configuration, encoding: .utf8)
        XCTAssertTrue(config.contains("learning_rate = 0.5") && config.contains("# set:"), config)
        XCTAssertTrue(config.contains("num_envs = 2") && config.contains("# default:"), config)
        _ = try TOMLDocument(parsing: config)

        // Checkpoints: latest plus the last two numbered ones.
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.latestCheckpoint))
        XCTAssertEqual(directory.numberedCheckpoints().map { ($0 as NSString).lastPathComponent }, ["frame-0000005000.h5", "frame-0000006000.h5"])

        // Test episodes and status.
        XCTAssertEqual(try ReturnsCSV.read(directory.returnsTest).count, 1)
        XCTAssertEqual(result.testReturns.count, 10)
        XCTAssertEqual(RunStatus.read(directory.status)?.state, .done)
        let events = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("events.out.tfevents.") }
        XCTAssertEqual(events.count, 1)
    }

    func testRerunningResumesFromTheLatestCheckpointAndMatchesAnUninterruptedRun() throws {
        let uninterrupted = try train(try options(frames: 8_000))
        let straight = try String(contentsOfFile: try options(frames: 8_000).directory.returns100, encoding: .utf8)
        try FileManager.default.removeItem(atPath: runs)

        let first = try train(try options(frames: 3_000))
        XCTAssertNil(first.resumedFrom)
        let second = try train(try options(frames: 8_000))
        XCTAssertEqual(second.resumedFrom, 3_000)
        XCTAssertEqual(second.episodes, uninterrupted.episodes)
        let resumed = try String(contentsOfFile: try options(frames: 8_000).directory.returns100, encoding: .utf8)
        XCTAssertEqual(resumed, straight, "a resumed run writes the same returns100.csv as an uninterrupted one")
    }

    /// A finished run started again (a Slurm task run twice) leaves every file as it is: status.json never
    /// reads running again, which once made a grid's done cell look unfinished to its readers.
    func testRerunningAFinishedRunLeavesItsFilesAlone() throws {
        let options = try options(frames: 3_000)
        _ = try train(options)
        let files = [options.directory.status, options.directory.returns100, options.directory.returnsTest, options.directory.latestCheckpoint]
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        var said: [String] = []
        let again = try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { said.append($0) }).run()
        XCTAssertEqual(again.resumedFrom, 3_000)
        XCTAssertEqual(again.frames, 3_000)
        XCTAssertEqual(try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, before, "a finished run's files changed")
        XCTAssertTrue(said.contains { $0.contains("is already done at frame 3000 of 3000") }, "\(said)")
        // A larger budget continues it.
        let longer = try train(try self.options(frames: 4_000))
        XCTAssertEqual(longer.frames, 4_000)
        XCTAssertEqual(RunStatus.read(options.directory.status)?.frames, 4_000)
    }

    func testResumingWithAnotherConfigurationIsRefusedAndFreshStartsOver() throws {
        _ = try train(try options(frames: 2_000))
        XCTAssertThrowsError(try train(try options(frames: 4_000, set: ["learning_rate=0.2"]))) { error in
            XCTAssertTrue("\(error)".contains("different configuration"), "\(error)")
            XCTAssertTrue("\(error)".contains("--fresh"), "\(error)")
        }
        let fresh = try train(try options(frames: 2_000, set: ["learning_rate=0.2"], fresh: true))
        XCTAssertNil(fresh.resumedFrom)
    }

    func testStopSignalCheckpointsAndTheNextRunResumes() throws {
        // Far more frames than the signal lets it run (a random agent steps millions of frames a second).
        let options = try options(frames: 500_000_000, checkpointEvery: 100_000_000)
        StopSignal.install()
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            kill(getpid(), SIGTERM)
        }
        thread.start()
        let stopped = try train(options)
        XCTAssertEqual(stopped.stoppedBySignal, SIGTERM)
        XCTAssertLessThan(stopped.frames, 500_000_000)
        XCTAssertEqual(RunStatus.read(options.directory.status)?.state, .running)
        StopSignal.reset()
        let header = try AgentCheckpoint.Header(path: options.directory.latestCheckpoint)
        XCTAssertEqual(header.agent, "test_uniform")
        let again = try train(try self.options(frames: stopped.frames + 1_000, checkpointEvery: 100_000_000))
        XCTAssertEqual(again.resumedFrom, stopped.frames)
    }

    func testEnvironmentsThatCannotBeSnapshottedResumeWithFreshEpisodes() throws {
        let id = "OpaqueCartPole-trainer-test"
        if Environments.spec(id) == nil {
            try Environments.register(EnvironmentSpec(id: id, maxEpisodeSteps: 500) { OpaqueEnvironment(CartPole(seed: $0)) })
        }
        let configuration = try ConfigurationSources(assignments: []).resolve(agent: "test_uniform")
        func options(frames: Int) -> TrainingOptions {
            TrainingOptions(environment: id, seed: 4, frames: frames, configuration: configuration, runsDirectory: runs,
                            checkpointInterval: 1_000, keepCheckpoints: 2, testEpisodes: 2, fresh: false)
        }
        let lines = LogLines()
        func train(_ options: TrainingOptions) throws -> TrainingResult {
            try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { lines.append($0) }).run()
        }
        _ = try train(options(frames: 3_000))
        let latest = options(frames: 3_000).directory.latestCheckpoint
        XCTAssertTrue(try HDF5File.open(latest).contains("extra/frames"))
        XCTAssertFalse(try HDF5File.open(latest).contains("extra/vector"), "no environment snapshot to store")
        XCTAssertEqual(lines.matching("fresh episodes"), 0)

        let resumed = try train(options(frames: 5_000))
        XCTAssertEqual(resumed.resumedFrom, 3_000)
        XCTAssertEqual(resumed.frames, 5_000)
        XCTAssertEqual(lines.matching("fresh episodes"), 1, "resuming says once that episodes start over")
    }
}

/// Log lines collected from a trainer.
private final class LogLines: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    func matching(_ text: String) -> Int { lock.withLock { lines.filter { $0.contains(text) }.count } }
}

final class ConfigurationSourcesTests: XCTestCase {
    override func setUp() { UniformRandomAgent.register() }

    private func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "colony-\(UUID().uuidString).toml"
        try AtomicFile.write(text, to: path)
        return path
    }

    func testFileThenSetOverrideDefaults() throws {
        let path = try file("agent = \"test_uniform\"\nlearning_rate = 0.25\nnum_envs = 3\n")
        let sources = try ConfigurationSources(filePath: path, assignments: ["num_envs=5"])
        let configuration = try sources.resolve(agent: "test_uniform")
        XCTAssertEqual(configuration.double("learning_rate"), 0.25)
        XCTAssertEqual(configuration.int("num_envs"), 5)
        XCTAssertEqual(sources.runValue("agent"), .string("test_uniform"))
    }

    /// make bench-atari's PPO file: every key is PPO's, and the environment is Pong with its wrappers.
    func testTheAtariPPOFileResolves() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Benchmarks/atari/ppo-pong.toml").standardized.path
        let sources = try ConfigurationSources(filePath: path, assignments: [])
        guard case .string(let agent)? = sources.runValue("agent") else { return XCTFail("the file names its agent") }
        XCTAssertEqual(agent, "ppo")
        let configuration = try sources.resolve(agent: agent)
        XCTAssertEqual(configuration.int("n_steps"), 128)
        XCTAssertEqual(configuration.double("clip_range"), 0.1)
        let environment = try XCTUnwrap(try sources.environmentSettings(id: nil))
        XCTAssertEqual(environment.id, "gym:ALE/Pong-v5")
        XCTAssertEqual(environment.wrappers, ["AtariPreprocessing(frame_skip=4)", "FrameStackObservation(stack_size=4)"])
        XCTAssertEqual(sources.runValue("frames"), .int(10_000_000))
    }

    func testBadFilesAndAssignmentsAreOneLineErrors() throws {
        XCTAssertThrowsError(try ConfigurationSources(filePath: try file("learning_rate = \n")).resolve(agent: "test_uniform")) {
            XCTAssertTrue("\($0)".contains(":1:"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigurationSources(filePath: try file("learning_rte = 0.1\n")).resolve(agent: "test_uniform")) {
            XCTAssertTrue("\($0)".contains("did you mean 'learning_rate'"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigurationSources(filePath: try file("num_envs = \"two\"\n")).resolve(agent: "test_uniform")) {
            XCTAssertTrue("\($0)".contains("takes an int"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigurationSources(assignments: ["num_envs"]).resolve(agent: "test_uniform"))
        XCTAssertThrowsError(try ConfigurationSources(filePath: "/nonexistent.toml"))
    }
}
