import ColonyNumerics
import ColonyTestSupport
import XCTest
@testable import ColonyEnvironments

final class VectorEnvironmentTests: XCTestCase {
    /// Steps a vector and, beside it, single environments seeded with the same split streams,
    /// resetting those by hand; the vector's same-step auto-reset must agree with them exactly.
    func testAutoResetFinalObservationsAndEpisodeStatisticsMatchSingleEnvironments() throws {
        for id in ["CartPole-v1", "Acrobot-v1", "Pendulum-v1"] {
            let count = 5
            let vector = try LocalVectorEnvironment(id: id, count: count, seed: 77)
            var root = RandomSource(seed: 77)
            let singles = try root.split(count: count).map { stream -> any Environment in
                let env = try makeSnapshottable(id, seed: 0)
                env.randomSource = stream
                return env
            }
            var expected = singles.flatMap { $0.reset() }
            XCTAssertEqual(vector.observations, expected)
            var returns = [Double](repeating: 0, count: count), lengths = [Int](repeating: 0, count: count)
            var rng = RandomSource(seed: 5)
            var finished = 0
            for _ in 0..<600 {
                let actions = (0..<count).map { _ in vector.actionSpace.sample(rng: &rng) }
                try vector.step(actions)
                expected = []
                var records: [EpisodeRecord] = []
                for i in 0..<count {
                    let result = try singles[i].step(actions[i])
                    XCTAssertEqual(vector.rewards[i], result.reward)
                    XCTAssertEqual(vector.terminated[i], result.terminated)
                    XCTAssertEqual(vector.truncated[i], result.truncated)
                    returns[i] += result.reward
                    lengths[i] += 1
                    if result.isDone {
                        XCTAssertEqual(vector.finalObservations[i], result.observation)
                        records.append(EpisodeRecord(environmentIndex: i, episodeReturn: returns[i], length: lengths[i], terminated: result.terminated))
                        returns[i] = 0
                        lengths[i] = 0
                        expected += singles[i].reset()  // same step: the row holds the new episode's start
                        finished += 1
                    } else {
                        XCTAssertNil(vector.finalObservations[i])
                        expected += result.observation
                    }
                    XCTAssertEqual(Array(vector.observation(i)), Array(expected[(i * vector.observationCount)...]))
                }
                XCTAssertEqual(vector.observations, expected)
                XCTAssertEqual(vector.completedEpisodes, records)
            }
            XCTAssertGreaterThan(finished, 0, id)
        }
    }

    func testTruncationIsReportedWithTheFinalObservation() throws {
        let vector = try LocalVectorEnvironment(id: "Pendulum-v1", count: 3, seed: 1)
        for step in 1...200 {
            try vector.step(continuous: [0.5, -0.5, 1])
            XCTAssertEqual(vector.completedEpisodes.count, step == 200 ? 3 : 0)
        }
        XCTAssertEqual(vector.truncated, [true, true, true])
        XCTAssertEqual(vector.terminated, [false, false, false])
        XCTAssertTrue(vector.completedEpisodes.allSatisfy { $0.length == 200 && !$0.terminated })
        XCTAssertTrue(vector.finalObservations.allSatisfy { $0?.count == 3 })
        XCTAssertEqual(vector.environments.map(\.elapsedSteps), [0, 0, 0])
        try vector.step(continuous: [0, 0, 0])
        XCTAssertEqual(vector.finalObservations.compactMap { $0 }.count, 0)
        XCTAssertEqual(vector.completedEpisodes, [])
    }

    func testCartPoleEpisodeReturnEqualsLength() throws {
        let vector = try LocalVectorEnvironment(id: "CartPole-v1", count: 8, seed: 3)
        var rng = RandomSource(seed: 4)
        var records: [EpisodeRecord] = []
        for _ in 0..<500 {
            try vector.step(discrete: (0..<8).map { _ in rng.nextInt(below: 2) })
            records += vector.completedEpisodes
        }
        XCTAssertGreaterThan(records.count, 20)
        XCTAssertTrue(records.allSatisfy { $0.episodeReturn == Double($0.length) && $0.terminated })
    }

    func testActionEntryPointsAgreeAndSeedsReproduce() throws {
        let a = try LocalVectorEnvironment(id: "MountainCar-v0", count: 4, seed: 10)
        let b = try LocalVectorEnvironment(id: "MountainCar-v0", count: 4, seed: 10)
        XCTAssertEqual(a.observations, b.observations)
        var rng = RandomSource(seed: 2)
        for _ in 0..<300 {
            let actions = (0..<4).map { _ in rng.nextInt(below: 3) }
            try a.step(discrete: actions)
            try b.step(actions.map { .discrete($0) })
            XCTAssertEqual(a.observations, b.observations)
            XCTAssertEqual(a.rewards, b.rewards)
            XCTAssertEqual(a.truncated, b.truncated)
        }
        // Re-seeding reproduces the start; different copies start differently.
        a.reset(seed: 10)
        let c = try LocalVectorEnvironment(id: "MountainCar-v0", count: 4, seed: 10)
        XCTAssertEqual(a.observations, c.observations)
        XCTAssertEqual(Set((0..<4).map { a.observation($0).first! }).count, 4)
    }

    func testInvalidActionChangesNothing() throws {
        let vector = try LocalVectorEnvironment(id: "CartPole-v1", count: 3, seed: 0)
        let before = vector.observations
        XCTAssertThrowsError(try vector.step(discrete: [0, 1, 2])) { error in
            XCTAssertEqual(error as? EnvironmentError, .invalidAction(environment: "CartPole-v1[2]", action: .discrete(2), space: .discrete(2)))
        }
        XCTAssertThrowsError(try vector.step(continuous: [0, 0, 0]))
        XCTAssertEqual(vector.observations, before)
        XCTAssertEqual(vector.environments.map(\.elapsedSteps), [0, 0, 0])
        let pendulum = try LocalVectorEnvironment(id: "Pendulum-v1", count: 2, seed: 0)
        XCTAssertThrowsError(try pendulum.step(continuous: [0, .nan]))
        XCTAssertThrowsError(try pendulum.step([.continuous([0]), .discrete(0)]))
    }
}

final class VectorEnvironmentSnapshotTests: XCTestCase {
    func testRestoringASnapshotContinuesExactly() throws {
        for id in ["CartPole-v1", "Pendulum-v1", "Acrobot-v1"] {
            let original = try LocalVectorEnvironment(id: id, count: 3, seed: 5)
            var rng = RandomSource(seed: 1)
            func actions(_ env: any VectorEnvironment) -> [Action] { (0..<env.count).map { _ in env.actionSpace.sample(rng: &rng) } }
            for _ in 0..<137 { try original.step(actions(original)) }
            let snapshot = try XCTUnwrap(original.snapshot())
            let rngAtSnapshot = rng
            var continued: [[Float]] = []
            var episodes: [EpisodeRecord] = []
            for _ in 0..<400 {
                try original.step(actions(original))
                continued.append(original.observations)
                episodes += original.completedEpisodes
            }
            let restored = try LocalVectorEnvironment(id: id, count: 3, seed: 99)
            try restored.restore(snapshot)
            XCTAssertEqual(restored.snapshot(), snapshot)
            rng = rngAtSnapshot
            var replayed: [[Float]] = []
            var replayedEpisodes: [EpisodeRecord] = []
            for _ in 0..<400 {
                try restored.step(actions(restored))
                replayed.append(restored.observations)
                replayedEpisodes += restored.completedEpisodes
            }
            XCTAssertEqual(replayed, continued, id)
            XCTAssertEqual(replayedEpisodes, episodes, id)
        }
    }
}

final class UnsnapshottableVectorTests: XCTestCase {
    private func opaqueVector(seed: UInt64) -> LocalVectorEnvironment {
        LocalVectorEnvironment(environments: (0..<3).map { _ in OpaqueEnvironment(CartPole(seed: 0)) }, seed: seed)
    }

    func testCopiesThatCannotBeSnapshottedAreStillSeededPerCopyButNotSnapshotted() throws {
        let vector = opaqueVector(seed: 8)
        // Each copy gets its own seed from its split stream: rows differ, and the seed reproduces them.
        XCTAssertEqual(Set((0..<3).map { vector.observation($0).first! }).count, 3)
        XCTAssertEqual(opaqueVector(seed: 8).observations, vector.observations)
        XCTAssertNotEqual(opaqueVector(seed: 9).observations, vector.observations)
        try vector.step(discrete: [0, 1, 0])

        XCTAssertNil(vector.snapshot())
        let snapshot = try XCTUnwrap(LocalVectorEnvironment(id: "CartPole-v1", count: 3, seed: 8).snapshot())
        XCTAssertThrowsError(try vector.restore(snapshot)) { error in
            XCTAssertEqual(error as? EnvironmentError, .notSnapshottable(environment: "CartPole-v1"))
        }
    }

    func testTheFactoryGivesCopiesWithoutATimeLimitTheDefault() throws {
        let cliff = try VectorEnvironments.make(id: "CliffWalking-v1", count: 1, seed: 0, defaultMaxEpisodeSteps: 5)
        for _ in 0..<4 { try cliff.step(discrete: [0]) }  // up, then against the top wall: no episode ends
        XCTAssertEqual(cliff.completedEpisodes, [])
        try cliff.step(discrete: [0])
        XCTAssertEqual(cliff.truncated, [true])
        // A registered limit is kept.
        let cartPole = try VectorEnvironments.make(id: "CartPole-v1", count: 1, seed: 0, defaultMaxEpisodeSteps: 5)
        XCTAssertNotNil(cartPole.snapshot())
        for _ in 0..<5 { try cartPole.step(discrete: [cartPole.observation(0)[2] > 0 ? 1 : 0]) }
        XCTAssertEqual(cartPole.truncated, [false])
    }
}
