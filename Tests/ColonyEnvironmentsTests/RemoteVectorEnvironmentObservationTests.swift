import ColonyEnvironments
import ColonyNumerics
import ColonyTestSupport
import Foundation
import XCTest

/// Observations that are not a flat float vector, through the environment host against real
/// gymnasium: uint8 image stacks (Atari) and flattened Dict observations (MiniGrid and
/// `colony_testenvs:DictObs-v0`). The values are checked against the same rollout made with
/// gymnasium directly (python/tests/rollout_reference.py), seeded as docs/envhost.md says: environment
/// `i` gets the first number of the `i`-th `split()` of `RandomSource(seed:)`.
final class RemoteVectorEnvironmentObservationTests: XCTestCase {
    private func settings(_ id: String) throws -> EnvironmentSettings {
        guard let settings = EnvironmentHostTesting.settings(id) else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        return settings
    }

    // MARK: Images

    /// Pong through AtariPreprocessing (its default frame_skip=4 needs the base environment's
    /// frameskip=1; grayscale, 84×84) and a 4-frame stack: uint8 [4, 84, 84] rows.
    func testAtariFrameStacksArriveAsUInt8OfTheirShape() throws {
        var settings = try settings("gym:ALE/Pong-v5")
        settings.kwargs = ["frameskip": .int(1)]
        settings.wrappers = ["AtariPreprocessing", "FrameStackObservation(stack_size=4)"]
        settings.infoKeys = ["lives"]
        let count = 2, seed: UInt64 = 4
        let vector = try RemoteVectorEnvironment(settings, count: count, seed: seed)
        XCTAssertEqual(vector.observationSpace, .box(shape: [4, 84, 84], low: 0, high: 255, elementType: .uint8))
        XCTAssertEqual(vector.actionSpace, .discrete(6))
        XCTAssertEqual(vector.observationCount, 4 * 84 * 84)
        XCTAssertEqual(Self.layout(vector), [])

        var random = RandomSource(seed: 12)
        var actions: [[Int]] = []
        for _ in 0..<36 {
            actions.append((0..<count).map { _ in random.nextInt(below: 6) })
            try vector.step(discrete: actions.last!)
            XCTAssertEqual(vector.info, [0, 0], "Pong reports lives = 0")
            for i in 0..<count {
                // Integral values within 0...255: what uint8 elements hold (the reply schema requires u8 tensors).
                XCTAssertTrue(vector.observationSpace.contains(Array(vector.observation(i))), "row \(i) leaves uint8")
            }
        }
        let rows = vector.observations
        XCTAssertGreaterThan(Set(rows).count, 10, "a frame stack, not a constant")
        let width = vector.observationCount
        let frame = 84 * 84
        XCTAssertNotEqual(rows[0..<frame], rows[(3 * frame)..<(4 * frame)], "36 agent steps move the ball: the oldest and newest frames differ")

        let reference = try Self.reference(settings, count: count, seed: seed, actions: actions, lastOnly: true)
        let last = try XCTUnwrap(reference.steps.last)
        for i in 0..<count {
            XCTAssertEqual(Array(rows[(i * width)..<((i + 1) * width)]), Self.row(last.observations[i], layout: [""]), "row \(i) equals gymnasium's own")
        }
    }

    /// An Atari game ends by itself at ALE's frame limit, so an evaluation's step cap for endless environments is not
    /// applied to it (it would cut Pong's games at a thousand steps); an environment with no limit of any kind gets it.
    func testAtariGamesKeepTheirOwnFrameLimitAndEndlessEnvironmentsGetTheCap() throws {
        let pong = try settings("gym:ALE/Pong-v5")
        let description = try VectorEnvironments.describe(pong)
        XCTAssertNil(description.maxEpisodeSteps, "ALE v5 registers no time limit")
        XCTAssertEqual(description.episodeFrameLimit, 108_000, "ALE's max_num_frames_per_episode for v5 games")
        XCTAssertTrue(description.endsEpisodesItself)
        let games = try VectorEnvironments.make(pong, count: 1, seed: 3, defaultMaxEpisodeSteps: 3)
        for _ in 0..<6 { try games.step(discrete: [0]) }
        XCTAssertEqual(games.completedEpisodes.count, 0, "no cap of 3 steps on a Pong game")

        var endless = try settings("gym:colony_testenvs:RaiseOnStep-v0")
        endless.kwargs = ["fail_at": .int(1_000)]
        XCTAssertFalse(try VectorEnvironments.describe(endless).endsEpisodesItself)
        let capped = try VectorEnvironments.make(endless, count: 1, seed: 3, defaultMaxEpisodeSteps: 3)
        for _ in 0..<2 { try capped.step(discrete: [0]) }
        XCTAssertEqual(capped.truncated, [false])
        try capped.step(discrete: [0])
        XCTAssertEqual(capped.truncated, [true], "the evaluation's cap ends the endless episode at step 3")
    }

    /// Frames written into shared memory (the default) equal frames sent on the wire, step for step; the segments'
    /// names are gone from /dev/shm once mapped, and a host killed mid-run comes back with a fresh segment.
    func testSharedFramesEqualFramesSentOnTheWireAndAKilledHostGetsAFreshSegment() throws {
        guard SharedObservationsTesting.available else { throw XCTSkip("no writable /dev/shm") }
        var settings = try settings("gym:ALE/Pong-v5")
        settings.kwargs = ["frameskip": .int(1)]
        settings.wrappers = ["AtariPreprocessing", "FrameStackObservation(stack_size=4)"]
        settings.hosts = 2
        var onTheWire = settings
        onTheWire.sharedMemory = false
        let (shared, sent) = (try RemoteVectorEnvironment(settings, count: 4, seed: 9), try RemoteVectorEnvironment(onTheWire, count: 4, seed: 9))
        XCTAssertEqual(SharedObservationsTesting.segments(), [], "segment names are unlinked once mapped")
        XCTAssertTrue(shared.sharesObservations)
        XCTAssertFalse(sent.sharesObservations)
        var random = RandomSource(seed: 3)
        for _ in 0..<60 {
            let actions = (0..<4).map { _ in random.nextInt(below: 6) }
            try shared.step(discrete: actions)
            try sent.step(discrete: actions)
            XCTAssertEqual(shared.observations, sent.observations)
            XCTAssertEqual(shared.rewards, sent.rewards)
            XCTAssertEqual(shared.finalObservations, sent.finalObservations)
        }
        kill(shared.hostProcessIDs[1], SIGKILL)
        try shared.step(discrete: [0, 0, 0, 0])
        XCTAssertEqual(shared.restarts, 1)
        XCTAssertEqual(shared.interruptedIndices, [2, 3])
        XCTAssertTrue(shared.sharesObservations, "the restarted host shares its frames again")
        let before = Array(shared.observations[(2 * shared.observationCount)...])
        for _ in 0..<8 { try shared.step(discrete: [2, 3, 2, 3]) }
        XCTAssertNotEqual(Array(shared.observations[(2 * shared.observationCount)...]), before, "the restarted host's frames move")
        XCTAssertTrue(shared.observationSpace.contains(Array(shared.observation(3))))
        XCTAssertEqual(SharedObservationsTesting.segments(), [])
    }

    // MARK: Dict observations

    /// MiniGrid's Dict(direction: Discrete(4), image: Box(0, 255, (7, 7, 3), uint8), mission: text),
    /// keys sorted by Gymnasium: direction at 0, the image at 1..<148; the mission is not a number and is dropped.
    func testMiniGridDictObservationsAreFlattenedAsDocumented() throws {
        let settings = try settings("gym:MiniGrid-Empty-8x8-v0")
        let count = 2, seed: UInt64 = 6
        let vector = try RemoteVectorEnvironment(settings, count: count, seed: seed)
        XCTAssertEqual(Self.layout(vector), [
            "direction @0 [] int64",
            "image @1 [7, 7, 3] uint8",
        ])
        XCTAssertEqual(vector.droppedObservationLeaves.count, 1)
        XCTAssertTrue(vector.droppedObservationLeaves.first?.contains("mission") == true, "\(vector.droppedObservationLeaves)")
        XCTAssertEqual(vector.observationSpace, .box(
            low: [0] + [Float](repeating: 0, count: 147), high: [3] + [Float](repeating: 255, count: 147)),
            "one float32 box, since not every leaf is uint8")
        XCTAssertEqual(vector.actionSpace, .discrete(7))
        try assertMatchesReference(vector, settings, seed: seed, steps: 30, actions: 7, layout: ["direction", "image"])
    }

    /// `DictObs-v0` (python/tests/colony_testenvs.py): Dict(position: Box(-1, 1, (2,)), image: Box(0, 255, (3, 3, 1), uint8),
    /// mode: Discrete(3, start=1)), keys sorted: image at 0..<9, mode at 9 (its value 1...3), position at 10..<12;
    /// episodes of 10 steps, reward = the action.
    func testDictObservationsFlattenWithTheirLayoutAndValues() throws {
        let settings = try settings("gym:colony_testenvs:DictObs-v0")
        let count = 3, seed: UInt64 = 5
        let vector = try RemoteVectorEnvironment(settings, count: count, seed: seed)
        XCTAssertEqual(Self.layout(vector), [
            "image @0 [3, 3, 1] uint8",
            "mode @9 [] int64",
            "position @10 [2] float32",
        ])
        XCTAssertEqual(vector.observationSpace, .box(
            low: [Float](repeating: 0, count: 9) + [1, -1, -1], high: [Float](repeating: 255, count: 9) + [3, 1, 1]))
        for i in 0..<count { XCTAssertEqual(Array(vector.observation(i))[9], 1, "mode starts at 1 + 0 % 3") }
        try assertMatchesReference(vector, settings, seed: seed, steps: 25, actions: 2, layout: ["image", "mode", "position"])
    }

    /// Steps `vector` `steps` times with random actions below `actions` and checks every row, reward,
    /// end flag and final observation against gymnasium's own rollout, its leaves laid out in `layout` order.
    private func assertMatchesReference(
        _ vector: RemoteVectorEnvironment, _ settings: EnvironmentSettings, seed: UInt64, steps: Int, actions actionCount: Int, layout: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let count = vector.count, width = vector.observationCount
        var random = RandomSource(seed: seed + 100)
        let actions = (0..<steps).map { _ in (0..<count).map { _ in random.nextInt(below: actionCount) } }
        let reference = try Self.reference(settings, count: count, seed: seed, actions: actions)
        XCTAssertEqual(Set(reference.reset[0].keys), Set(layout), "every numeric leaf has a place in the row", file: file, line: line)
        func rows(_ observations: [[String: [Double]]]) -> [Float] { observations.flatMap { Self.row($0, layout: layout) } }
        XCTAssertEqual(vector.observations, rows(reference.reset), "reset rows", file: file, line: line)
        var finished = 0
        for (t, expected) in reference.steps.enumerated() {
            try vector.step(discrete: actions[t])
            XCTAssertEqual(vector.observations.count, count * width)
            XCTAssertEqual(vector.observations, rows(expected.observations), "rows after step \(t + 1)", file: file, line: line)
            XCTAssertEqual(vector.rewards, expected.rewards, "step \(t + 1)", file: file, line: line)
            XCTAssertEqual(vector.terminated, expected.terminated, "step \(t + 1)", file: file, line: line)
            XCTAssertEqual(vector.truncated, expected.truncated, "step \(t + 1)", file: file, line: line)
            for i in 0..<count {
                XCTAssertEqual(vector.finalObservations[i], expected.finals[String(i)].map { Self.row($0, layout: layout) },
                               "final observation of \(i) after step \(t + 1)", file: file, line: line)
            }
            finished += expected.finals.count
        }
        if settings.id.hasSuffix("DictObs-v0") { XCTAssertEqual(finished, count * (steps / 10), "10-step episodes", file: file, line: line) }
    }

    // MARK: The reference rollout

    private struct ReferenceRequest: Encodable {
        var id: String
        var seeds: [UInt64]
        var actions: [[Int]]
        var kwargs: [String: EnvironmentArgument]
        var wrappers: [String]
        var last_only: Bool
    }

    private struct Reference: Decodable {
        struct Step: Decodable {
            var observations: [[String: [Double]]]
            var finals: [String: [String: [Double]]]
            var rewards: [Double]
            var terminated: [Bool]
            var truncated: [Bool]
        }
        var reset: [[String: [Double]]]
        var steps: [Step]
    }

    /// Gymnasium's own rollout of `count` environments seeded as the vector seeds them.
    private static func reference(_ settings: EnvironmentSettings, count: Int, seed: UInt64, actions: [[Int]], lastOnly: Bool = false) throws -> Reference {
        var root = RandomSource(seed: seed)
        let seeds = root.split(count: count).map { stream in
            var stream = stream
            return stream.next()
        }
        let request = ReferenceRequest(
            id: String(settings.id.dropFirst("gym:".count)), seeds: seeds, actions: actions, kwargs: settings.kwargs, wrappers: settings.wrappers,
            last_only: lastOnly)
        let json = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        let output = try EnvironmentHostTesting.runPython([EnvironmentHostTesting.testEnvironments + "/rollout_reference.py", json])
        return try JSONDecoder().decode(Reference.self, from: output)
    }

    /// The observation layout as `path @offset [shape] dtype` lines.
    private static func layout(_ vector: RemoteVectorEnvironment) -> [String] {
        vector.observationLayout.map { "\($0.path) @\($0.offset) \($0.shape) \($0.dtype)" }
    }

    /// An observation's leaves, one after another in `layout` order.
    private static func row(_ leaves: [String: [Double]], layout: [String]) -> [Float] {
        layout.flatMap { (leaves[$0] ?? []).map { Float($0) } }
    }
}

/// This process's shared-observation segments still named in /dev/shm.
enum SharedObservationsTesting {
    static var available: Bool { access("/dev/shm", W_OK) == 0 }

    static func segments() -> [String] {
        let prefix = "colony-envhost-\(getpid())-"
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
    }
}
