import XCTest
import ColonyEnvironments
import ColonyNumerics
@testable import ColonyAgents

final class ReplayBufferTests: XCTestCase {
    func testFIFOEvictionAndUniformSampling() {
        let buffer = ReplayBuffer(capacity: 3, observationSize: 2, actionSize: 1)
        for k in 0..<5 {
            let f = Float(k)
            buffer.add(observation: [f, f], action: [f], reward: f, nextObservation: [f + 1, f + 1], discount: 0.99)
        }
        XCTAssertEqual(buffer.count, 3)
        var rng = RandomSource(seed: 1)
        let batch = buffer.sample(300, rng: &rng)
        XCTAssertEqual(Set(batch.rewards), [2, 3, 4], "the two oldest were evicted")
        for row in 0..<batch.count {
            XCTAssertEqual(batch.observations[2 * row], batch.rewards[row])
            XCTAssertEqual(batch.nextObservations[2 * row], batch.rewards[row] + 1)
            XCTAssertEqual(batch.weights[row], 1)
        }
    }

    /// Frames (a uint8 space) are kept one byte per element and come back as the same Floats; the bytes per
    /// transition of Atari's 4 × 84 × 84 frames; a buffer larger than the machine is refused before it is allocated.
    func testByteObservationsRoundTripAndTheMemoryIsCheckedFirst() {
        let bytes = ReplayBuffer(capacity: 4, observationSize: 3, actionSize: 1, storesBytes: true)
        let floats = ReplayBuffer(capacity: 4, observationSize: 3, actionSize: 1)
        for k in 0..<6 {
            let frame: [Float] = [Float(k), 255, Float(40 * k)]
            for buffer in [bytes, floats] {
                buffer.add(observation: frame[...], action: [1], reward: Float(k), nextObservation: frame.map { 255 - $0 }[...], discount: 0.99)
            }
        }
        var (a, b) = (RandomSource(seed: 2), RandomSource(seed: 2))
        let (fromBytes, fromFloats) = (bytes.sample(32, rng: &a), floats.sample(32, rng: &b))
        XCTAssertEqual(fromBytes.observations, fromFloats.observations)
        XCTAssertEqual(fromBytes.nextObservations, fromFloats.nextObservations)
        XCTAssertEqual(Set(fromBytes.rewards), [2, 3, 4, 5])
        // Frames: one observation's bytes and two chunk-id rows (one chunk each, or four 84 × 84 planes), against 2 × 4 bytes a value.
        XCTAssertEqual(ReplayBuffer.bytesPerTransition(observationSize: 4 * 84 * 84, actionSize: 1, storesBytes: true), 28_224 + 2 * 4 + 12)
        XCTAssertEqual(ReplayBuffer.bytesPerTransition(observationSize: 4 * 84 * 84, actionSize: 1, storesBytes: true, chunkSize: 84 * 84),
                       28_224 + 2 * 4 * 4 + 12)
        XCTAssertEqual(ReplayBuffer.bytesPerTransition(observationSize: 4 * 84 * 84, actionSize: 1, storesBytes: false), 8 * 28_224 + 12)
        XCTAssertEqual(Space.box(shape: [4, 84, 84], low: 0, high: 255, elementType: .uint8).replayChunkSize, 84 * 84)
        XCTAssertEqual(Space.box(shape: [84, 84, 4], low: 0, high: 255, elementType: .uint8).replayChunkSize, 84 * 84 * 4)
        XCTAssertNil(Space.box(low: -1, high: 1, count: 4).replayChunkSize)
        XCTAssertNoThrow(try ReplayBuffer.checkFitsMemory(capacity: 1000, observationSize: 28_224, actionSize: 1, storesBytes: true, agent: "dqn"))
        XCTAssertThrowsError(try ReplayBuffer.checkFitsMemory(capacity: 100_000_000, observationSize: 28_224, actionSize: 1, storesBytes: true, agent: "dqn")) {
            XCTAssertTrue("\($0)".contains("lower buffer_size"), "\($0)")
        }
    }

    /// Frame stacks as Gymnasium's FrameStackObservation gives them (observation t holds planes t−3 … t, its next
    /// observation t−2 … t+1): each plane is stored once however many observations hold it, old planes are freed as
    /// their transitions are evicted, and every sample is the one a Float buffer of the same transitions gives, also
    /// after a checkpoint round trip and more transitions.
    func testFrameStacksAreStoredOncePlaneByPlane() throws {
        let (plane, capacity) = (12, 50)
        var rng = RandomSource(seed: 5)
        let planes: [[Float]] = (0..<200).map { _ in (0..<plane).map { _ in Float(rng.nextInt(below: 256)) } }
        func stack(_ t: Int) -> [Float] { (0..<4).flatMap { planes[Swift.max(0, t - 3 + $0)] } }
        let frames = ReplayBuffer(capacity: capacity, observationSize: 4 * plane, actionSize: 1, storesBytes: true, chunkSize: plane)
        let floats = ReplayBuffer(capacity: capacity, observationSize: 4 * plane, actionSize: 1)
        func add(_ range: Range<Int>, to buffers: [ReplayBuffer]) {
            for t in range {
                for buffer in buffers {
                    buffer.add(observation: stack(t)[...], action: [Float(t % 3)], reward: Float(t), nextObservation: stack(t + 1)[...], discount: 0.99)
                }
            }
        }
        add(0..<120, to: [frames, floats])
        // Slots hold t = 70 … 119, whose stacks span planes 67 … 120.
        XCTAssertEqual(frames.storedFrames?.chunks, capacity + 4)
        func assertSamplesAgree(_ a: ReplayBuffer, _ b: ReplayBuffer, seed: UInt64) {
            var (x, y) = (RandomSource(seed: seed), RandomSource(seed: seed))
            let (first, second) = (a.sample(64, rng: &x), b.sample(64, rng: &y))
            XCTAssertEqual(first.observations, second.observations)
            XCTAssertEqual(first.nextObservations, second.nextObservations)
            XCTAssertEqual(first.rewards, second.rewards)
        }
        assertSamplesAgree(frames, floats, seed: 1)

        let reader = try ValueBasedTestSupport.roundTrip(self) { try frames.save(to: $0) }
        let resumed = ReplayBuffer(capacity: capacity, observationSize: 4 * plane, actionSize: 1, storesBytes: true, chunkSize: plane)
        try resumed.restore(from: reader)
        XCTAssertEqual(resumed.storedFrames?.chunks, capacity + 4)
        assertSamplesAgree(resumed, floats, seed: 2)
        add(120..<190, to: [frames, floats, resumed])
        XCTAssertEqual(resumed.storedFrames?.chunks, capacity + 4, "evicted planes were freed after the restore too")
        assertSamplesAgree(resumed, floats, seed: 3)
        assertSamplesAgree(frames, floats, seed: 3)

        // A damaged checkpoint: a chunk id past the stored frames is an error naming the entry.
        let saved = try ValueBasedTestSupport.roundTrip(self) { try frames.save(to: $0) }
        let damaged = try ValueBasedTestSupport.roundTrip(self) { writer in
            try writer.write(try saved.bytes("frames"), "frames")
            try writer.write([Int](repeating: 10_000, count: capacity * 4), "observations_frames")
            try writer.write(try saved.ints("next_observations_frames"), "next_observations_frames")
            for name in ["actions", "rewards", "discounts"] { try writer.write(try saved.floats(name), name) }
            try writer.write(try saved.ints("cursor"), "cursor")
        }
        XCTAssertThrowsError(try resumed.restore(from: damaged)) { XCTAssertTrue("\($0)".contains("observations_frames"), "\($0)") }
    }

    /// A round of minibatches drawn up front (`uniformIndices`, then `gather` batch by batch) is the
    /// very sequence `sample` returns one batch at a time, and `sample(into:)` reuses the batch.
    func testUniformIndicesThenGatherReproduceSampling() {
        let buffer = ReplayBuffer(capacity: 50, observationSize: 3, actionSize: 1)
        for k in 0..<40 {
            let f = Float(k)
            buffer.add(observation: [f, -f, 2 * f], action: [Float(k % 2)], reward: f / 10, nextObservation: [f + 1, 0, f], discount: k % 5 == 0 ? 0 : 0.99)
        }
        var sampling = RandomSource(seed: 4), drawing = sampling, reusing = sampling
        let indices = buffer.uniformIndices(3 * 16, rng: &drawing)
        var gathered = TransitionBatch(count: 16, observationSize: 3, actionSize: 1), reused = gathered
        for step in 0..<3 {
            let expected = buffer.sample(16, rng: &sampling)
            buffer.gather(indices[(step * 16)..<((step + 1) * 16)], into: &gathered)
            buffer.sample(16, rng: &reusing, into: &reused)
            for batch in [gathered, reused] {
                XCTAssertEqual(batch.indices, expected.indices)
                XCTAssertEqual(batch.observations, expected.observations)
                XCTAssertEqual(batch.nextObservations, expected.nextObservations)
                XCTAssertEqual(batch.actions, expected.actions)
                XCTAssertEqual(batch.rewards, expected.rewards)
                XCTAssertEqual(batch.discounts, expected.discounts)
                XCTAssertEqual(batch.weights, expected.weights)
            }
        }
        XCTAssertEqual(sampling, drawing, "the same draws, no more")
    }

    func testPrioritizedSamplingFollowsPrioritiesAndWeightsCorrectIt() {
        let buffer = ReplayBuffer(capacity: 4, observationSize: 1, actionSize: 1, prioritized: PrioritizedReplayOptions(alpha: 1, epsilon: 0))
        for k in 0..<4 { buffer.add(observation: [Float(k)], action: [0], reward: Float(k), nextObservation: [0], discount: 1) }
        buffer.updatePriorities(indices: [0, 1, 2, 3], tdErrors: [1, 1, 2, 4])
        var rng = RandomSource(seed: 9)
        var counts = [Int](repeating: 0, count: 4)
        var weightOf = [Float](repeating: 0, count: 4)
        for _ in 0..<2000 {
            let batch = buffer.sample(8, rng: &rng, beta: 1)
            for (row, index) in batch.indices.enumerated() {
                counts[index] += 1
                weightOf[index] = batch.weights[row]
                XCTAssertEqual(batch.rewards[row], Float(index))
            }
        }
        let n = Double(counts.reduce(0, +))
        for (i, p) in [1.0, 1, 2, 4].enumerated() { XCTAssertEqual(Double(counts[i]) / n, p / 8, accuracy: 0.01) }
        // β = 1: w_i ∝ 1/P(i), normalised by the largest (the rarest transition gets weight 1).
        XCTAssertEqual(weightOf[0], 1, accuracy: 1e-6)
        XCTAssertEqual(weightOf[3], 0.25, accuracy: 1e-6)
        XCTAssertEqual(weightOf[2], 0.5, accuracy: 1e-6)
    }

    func testNStepAccumulatorDiscountsAndFlushesAtEpisodeEnds() {
        var accumulator = NStepAccumulator(steps: 3, gamma: 0.5, environments: 1)
        var emitted: [(obs: Float, reward: Float, next: Float, discount: Float)] = []
        let emit: NStepAccumulator.Emit = { o, _, r, n, d in emitted.append((o.first!, r, n.first!, d)) }
        // Episode: states 0→1→2→3→4 (terminates on the step into 4), rewards 1, 2, 4, 8.
        for (t, reward) in [Float(1), 2, 4, 8].enumerated() {
            accumulator.record(env: 0, observation: [Float(t)], action: [0], reward: reward, next: [Float(t + 1)], terminated: t == 3, truncated: false, emit: emit)
        }
        XCTAssertEqual(emitted.count, 4)
        XCTAssertEqual(emitted[0].obs, 0); XCTAssertEqual(emitted[0].reward, 1 + 1 + 1); XCTAssertEqual(emitted[0].next, 3); XCTAssertEqual(emitted[0].discount, 0.125)
        XCTAssertEqual(emitted[1].obs, 1); XCTAssertEqual(emitted[1].reward, 2 + 2 + 2); XCTAssertEqual(emitted[1].next, 4); XCTAssertEqual(emitted[1].discount, 0)
        XCTAssertEqual(emitted[3].obs, 3); XCTAssertEqual(emitted[3].reward, 8); XCTAssertEqual(emitted[3].discount, 0)
        // A truncation bootstraps: discount γ^m.
        emitted.removeAll()
        accumulator.record(env: 0, observation: [10], action: [0], reward: 1, next: [11], terminated: false, truncated: false, emit: emit)
        accumulator.record(env: 0, observation: [11], action: [0], reward: 1, next: [12], terminated: false, truncated: true, emit: emit)
        XCTAssertEqual(emitted.map(\.discount), [0.25, 0.5])
        XCTAssertEqual(emitted.map(\.reward), [1.5, 1])
    }
}

final class ScheduleTests: XCTestCase {
    func testApeXEpsilons() {
        XCTAssertEqual(apeXEpsilon(actor: 0, actors: 8), 0.4, accuracy: 1e-12)
        XCTAssertEqual(apeXEpsilon(actor: 7, actors: 8), pow(0.4, 8), accuracy: 1e-12)
    }
}
