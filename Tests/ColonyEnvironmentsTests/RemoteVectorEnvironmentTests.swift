import ColonyEnvironments
import Foundation
import XCTest

/// The Python environment host against real gymnasium (`make envhost`'s venv or COLONY_PYTHON);
/// skipped, saying why, where no such interpreter exists.
final class RemoteVectorEnvironmentTests: XCTestCase {
    private func settings(_ id: String) throws -> EnvironmentSettings {
        let venv = (PythonInterpreter.packageDirectory ?? "") + "/.venv/bin/python"
        let python = ProcessInfo.processInfo.environment["COLONY_PYTHON"] ?? venv
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("no Python for the environment host (run `make envhost` or set COLONY_PYTHON)")
        }
        var settings = EnvironmentSettings(id: id)
        settings.python = python
        return settings
    }

    private var testEnvironments: String { (PythonInterpreter.packageDirectory ?? "python") + "/tests" }

    func testCartPoleThroughTheHostMatchesNativeSpacesAndAutoresets() throws {
        let environments = try VectorEnvironments.make(try settings("gym:CartPole-v1"), count: 4, seed: 3)
        let native = try VectorEnvironments.describe(EnvironmentSettings(id: "CartPole-v1"))
        XCTAssertEqual(environments.actionSpace, native.actionSpace)
        XCTAssertEqual(environments.observationSpace.shape, native.observationSpace.shape)
        var finished = 0
        for step in 0..<300 {
            try environments.step(discrete: (0..<4).map { ($0 + step) % 2 })
            for i in 0..<4 {
                let done = environments.terminated[i] || environments.truncated[i]
                XCTAssertEqual(environments.finalObservations[i] != nil, done)
                if done { finished += 1 }
            }
            XCTAssertEqual(environments.completedEpisodes.count, (0..<4).filter { environments.terminated[$0] || environments.truncated[$0] }.count)
        }
        XCTAssertGreaterThan(finished, 4, "alternating actions end CartPole episodes within 300 steps")
    }

    func testSameSeedsGiveTheSameObservations() throws {
        let a = try VectorEnvironments.make(try settings("gym:Acrobot-v1"), count: 3, seed: 11)
        let b = try VectorEnvironments.make(try settings("gym:Acrobot-v1"), count: 3, seed: 11)
        XCTAssertEqual(a.observations, b.observations)
        for _ in 0..<20 {
            try a.step(discrete: [0, 1, 2])
            try b.step(discrete: [0, 1, 2])
        }
        XCTAssertEqual(a.observations, b.observations)
    }

    func testAMissingModuleIsOneLine() throws {
        XCTAssertThrowsError(try VectorEnvironments.describe(try settings("gym:no_such_module_xyz:Env-v0"))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("no_such_module_xyz"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }

    func testAKilledHostIsRestartedAndItsEpisodesAreCut() throws {
        var settings = try settings("gym:CartPole-v1")
        settings.hosts = 2
        let vector = try RemoteVectorEnvironment(settings, count: 4, seed: 1)
        try vector.step(discrete: [0, 1, 0, 1])
        let victim = vector.hostProcessIDs[1]
        kill(victim, SIGKILL)
        try vector.step(discrete: [0, 1, 0, 1])
        XCTAssertEqual(vector.restarts, 1)
        XCTAssertEqual(vector.interruptedIndices, [2, 3])
        XCTAssertEqual(vector.truncated[2], true)
        XCTAssertNotNil(vector.finalObservations[3])
        XCTAssertFalse(vector.hostProcessIDs.contains(victim))
        try vector.step(discrete: [0, 1, 0, 1])
        XCTAssertEqual(vector.interruptedIndices, [])
    }

    func testAnEnvironmentThatRaisesNamesItsTraceback() throws {
        setenv("PYTHONPATH", testEnvironments, 1)
        var settings = try settings("gym:colony_testenvs:RaiseOnStep-v0")
        settings.maximumRestarts = 0
        let vector = try VectorEnvironments.make(settings, count: 1, seed: 1)
        XCTAssertThrowsError(try (0..<10).forEach { _ in try vector.step(discrete: [0]) }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("deliberate failure"), text)
            XCTAssertTrue(text.contains("Traceback"), text)
        }
    }
}
