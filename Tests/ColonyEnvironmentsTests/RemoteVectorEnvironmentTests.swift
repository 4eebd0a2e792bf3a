import ColonyEnvironments
import ColonyTestSupport
import Foundation
import XCTest

/// The Python environment host against real gymnasium (`make envhost`'s venv or COLONY_PYTHON);
/// skipped, saying why, where no such interpreter exists.
final class RemoteVectorEnvironmentTests: XCTestCase {
    private func settings(_ id: String) throws -> EnvironmentSettings {
        guard let settings = EnvironmentHostTesting.settings(id) else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        return settings
    }

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
        let settings = try settings("gym:no_such_module_xyz:Env-v0")  // outside the assertion, so a missing Python skips
        XCTAssertThrowsError(try VectorEnvironments.describe(settings)) { error in
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
        var settings = try settings("gym:colony_testenvs:RaiseOnStep-v0")
        settings.maximumRestarts = 0
        let vector = try VectorEnvironments.make(settings, count: 1, seed: 1)
        XCTAssertThrowsError(try (0..<10).forEach { _ in try vector.step(discrete: [0]) }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("deliberate failure"), text)
            XCTAssertTrue(text.contains("Traceback"), text)
        }
    }

    // MARK: Hung hosts and NaN observations

    /// `HangOnStep-v0` sleeps an hour in its 5th step after every reset.
    private func hangingVector(maximumRestarts: Int) throws -> RemoteVectorEnvironment {
        var settings = try settings("gym:colony_testenvs:HangOnStep-v0")
        settings.stepTimeoutSeconds = 1.5
        settings.maximumRestarts = maximumRestarts
        settings.hosts = 1
        return try RemoteVectorEnvironment(settings, count: 2, seed: 1)
    }

    func testAHungHostIsKilledAndTheErrorNamesTheEnvironmentAndPid() throws {
        let vector = try hangingVector(maximumRestarts: 0)
        let pid = try XCTUnwrap(vector.hostProcessIDs.first)
        for _ in 0..<4 { try vector.step(discrete: [0, 1]) }
        let began = Date()
        XCTAssertThrowsError(try vector.step(discrete: [0, 1])) { error in
            let elapsed = Date().timeIntervalSince(began)
            XCTAssertGreaterThanOrEqual(elapsed, 1.4, "the host had 1.5 s to answer")
            XCTAssertLessThan(elapsed, 15, "a hung host is given up on at the deadline, not after its hour of sleep")
            XCTAssertEqual((error as? EnvironmentHostError)?.kind, .tooManyRestarts(restarts: 0), "\(error)")
            let headline = (error as? EnvironmentHostError)?.headline ?? "\(error)"
            XCTAssertTrue(headline.contains("gym:colony_testenvs:HangOnStep-v0"), headline)
            XCTAssertTrue(headline.contains("environment host pid \(pid) did not answer within 1.5 s"), headline)
        }
        let signalled = kill(pid, 0), code = errno
        XCTAssertEqual(signalled, -1, "the hung host was killed")
        XCTAssertEqual(code, ESRCH)
    }

    func testAHungHostIsRestartedUntilTheBound() throws {
        let vector = try hangingVector(maximumRestarts: 1)
        let first = try XCTUnwrap(vector.hostProcessIDs.first)
        for _ in 0..<4 { try vector.step(discrete: [0, 1]) }
        let began = Date()
        try vector.step(discrete: [0, 1])
        XCTAssertLessThan(Date().timeIntervalSince(began), 15)
        XCTAssertEqual(vector.restarts, 1)
        XCTAssertEqual(vector.interruptedIndices, [0, 1])
        XCTAssertEqual(vector.truncated, [true, true])
        XCTAssertEqual(vector.finalObservations[1], [4, 1, 0], "cut at the last observation the hung host sent")
        XCTAssertEqual(vector.observations, [0, 0, 0, 0, 0, 0], "fresh episodes")
        XCTAssertNotEqual(vector.hostProcessIDs.first, first)
        // The fresh host hangs again in its episodes' 5th step: past max_restarts, the error ends the run.
        for step in 1...4 {
            try vector.step(discrete: [1, 0])
            XCTAssertEqual(vector.observations, [Float(step), 1, 0, Float(step), 0, 0])
            XCTAssertEqual(vector.interruptedIndices, [])
        }
        XCTAssertThrowsError(try vector.step(discrete: [1, 0])) { error in
            XCTAssertEqual((error as? EnvironmentHostError)?.kind, .tooManyRestarts(restarts: 1), "\(error)")
            XCTAssertTrue("\(error)".contains("did not answer within 1.5 s"), "\(error)")
        }
        XCTAssertEqual(vector.restarts, 1)
    }

    func testANaNObservationIsRejectedNamingTheEnvironment() throws {
        var settings = try settings("gym:colony_testenvs:NaNObs-v0")
        settings.maximumRestarts = 0
        let vector = try VectorEnvironments.make(settings, count: 3, seed: 1)
        try vector.step(discrete: [0, 1, 0])
        XCTAssertThrowsError(try vector.step(discrete: [0, 1, 0])) { error in
            let headline = (error as? EnvironmentHostError)?.headline ?? "\(error)"
            XCTAssertTrue(headline.contains("returned a non-finite observation (nan)"), headline)
            XCTAssertTrue(headline.contains("environment 0 (colony_testenvs:NaNObs-v0)"), headline)
            XCTAssertFalse(headline.contains("\n"), headline)
        }
    }
}
