import ColonyAgents
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyExperiments

/// A run directory belongs to one trainer or learner at a time, and names from the command line
/// never lead outside the runs directory.
final class RunDirectoryGuardTests: XCTestCase {
    private var runs: String!

    override func setUpWithError() throws {
        UniformRandomAgent.register()
        StopSignal.reset()
        runs = NSTemporaryDirectory() + "colony-guard-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: runs)
    }

    private func options(fresh: Bool = false) throws -> TrainingOptions {
        TrainingOptions(environment: "CartPole-v1", seed: 4, frames: 2_000, configuration: try ConfigurationSources(assignments: []).resolve(agent: "test_uniform"),
                        runsDirectory: runs, checkpointInterval: 1_000, keepCheckpoints: 1, testEpisodes: 1, fresh: fresh)
    }

    private func train(_ options: TrainingOptions) throws -> TrainingResult {
        try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { _ in }).run()
    }

    func testASecondTrainerOnALiveRunDirectoryIsRefusedWithTheHoldersPid() throws {
        let options = try options()
        var holder: RunDirectoryLock? = try RunDirectoryLock(options.directory)
        for attempt in [options, try self.options(fresh: true)] {
            XCTAssertThrowsError(try train(attempt)) { error in
                XCTAssertTrue("\(error)".contains("in use by process \(getpid())") && "\(error)".contains("run.lock"), "\(error)")
            }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: options.directory.lock), "--fresh must not clear a live run")
        withExtendedLifetime(holder) {}
        holder = nil  // the holder ends: the lock goes with its descriptor
        XCTAssertEqual(try train(options).frames, 2_000)
        XCTAssertEqual(try train(try self.options(fresh: true)).resumedFrom, nil, "--fresh clears the directory it holds")
    }

    func testTheColonyExecutableIsRefusedWhileAnotherProcessHoldsTheRun() throws {
        guard BuiltExecutable.path("colony") != nil else { throw XCTSkip("colony is not built next to the tests") }
        let directory = RunDirectory(runsDirectory: runs, agent: "random", environment: "CartPole-v1", seed: 1)
        let holder = try RunDirectoryLock(directory)
        let outcome = try XCTUnwrap(try BuiltExecutable.run(
            "colony", ["train", "--agent", "random", "--env", "CartPole-v1", "--frames", "1000", "--runs-dir", runs!, "--test-episodes", "1", "--quiet"]))
        withExtendedLifetime(holder) {}
        XCTAssertEqual(outcome.status, 1, outcome.error)
        XCTAssertTrue(outcome.error.hasPrefix("error: ") && outcome.error.contains("in use by process \(getpid())"), outcome.error)
        XCTAssertEqual(outcome.error.split(separator: "\n").count, 1, outcome.error)
    }

    func testNamesThatClimbOutOfTheRunsDirectoryAreRefused() throws {
        for name in ["../../x", "..", ".", "", "a/b"] {
            XCTAssertThrowsError(try ExperimentGrid.make(
                name: name, agents: ["test_uniform"], environments: ["CartPole-v1"], seeds: [1], frames: 1_000, runsRoot: runs,
                overrides: [:], testEpisodes: 1)) { error in
                XCTAssertTrue("\(error)".contains("grid name '\(name)'"), "\(error)")
            }
        }
        XCTAssertThrowsError(try ExperimentGrid.make(
            name: "ok", agents: ["test_uniform"], environments: [".."], seeds: [1], frames: 1_000, runsRoot: runs, overrides: [:], testEpisodes: 1))
        XCTAssertNoThrow(try ExperimentGrid.make(
            name: "ok", agents: ["test_uniform"], environments: ["CartPole-v1", "gym:ALE/Pong-v5"], seeds: [1], frames: 1_000, runsRoot: runs,
            overrides: [:], testEpisodes: 1))
        // An edited manifest (experiment status, run, Slurm cells) is refused the same way.
        var grid = try ExperimentGrid.make(
            name: "ok", agents: ["test_uniform"], environments: ["CartPole-v1"], seeds: [1], frames: 1_000, runsRoot: runs, overrides: [:], testEpisodes: 1)
        grid.name = "../../elsewhere"
        try grid.writeManifest()
        XCTAssertThrowsError(try ExperimentGrid.load(from: grid.runsDirectory)) { error in
            XCTAssertTrue("\(error)".contains("manifest.json is not a valid manifest") && "\(error)".contains("'../../elsewhere'"), "\(error)")
        }

        // colony train: ".." is no environment, and a Gymnasium id's "/" and ":" become "-".
        var options = try options()
        options.environment = ".."
        XCTAssertThrowsError(try train(options))
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs + "/test_uniform/seed-4"))
        XCTAssertEqual(RunDirectory(runsDirectory: runs, agent: "ppo", environment: "gym:../../x", seed: 1).path, runs + "/ppo/gym-..-..-x/seed-1")
    }
}
