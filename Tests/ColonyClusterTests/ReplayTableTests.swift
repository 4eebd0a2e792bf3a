import ColonyAgents
import ColonyCluster
import ColonyNumerics
import ColonyStorage
import Foundation
import XCTest

final class ReplayTableTests: XCTestCase {
    func testInvalidCapacityIsRefused() {
        XCTAssertThrowsError(try ReplayTable(.init(capacity: 0, itemSize: 1)))
        XCTAssertThrowsError(try ReplayTable(.init(capacity: -3, itemSize: 1)))
    }

    private func item(_ value: Float, size: Int = 3) -> [Float] { [Float](repeating: value, count: size) }

    func testFIFOEvictionKeepsNewestAndIncreasingKeys() throws {
        let table = try ReplayTable(.init(capacity: 4, itemSize: 3, selector: .uniform))
        var keys: [UInt64] = []
        for value in 0..<6 { keys += try table.insert(payloads: item(Float(value)), priorities: [1]) }
        XCTAssertEqual(keys, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(table.size, 4)
        XCTAssertEqual(table.keysInInsertionOrder, [3, 4, 5, 6])
        XCTAssertNil(table.payload(of: 1))
        XCTAssertNil(table.payload(of: 2))
        XCTAssertEqual(table.payload(of: 6), item(5))
        XCTAssertEqual(table.statistics.evictions, 2)
        // A batch insert larger than the free space evicts in order too.
        let batch = try table.insert(payloads: item(7) + item(8) + item(9), priorities: [1, 1, 1])
        XCTAssertEqual(batch, [7, 8, 9])
        XCTAssertEqual(table.keysInInsertionOrder, [6, 7, 8, 9])
        XCTAssertThrowsError(try table.insert(payloads: item(1), priorities: [.nan]))
        XCTAssertThrowsError(try table.insert(payloads: item(1) + item(1), priorities: [1]))
    }

    func testProportionalSamplingFrequencies() throws {
        let alpha = 0.5
        let table = try ReplayTable(.init(capacity: 8, itemSize: 1, selector: .prioritized(alpha: alpha)))
        let priorities: [Float] = [1, 2, 4, 9, 0]
        let keys = try table.insert(payloads: [0, 1, 2, 3, 4], priorities: priorities)
        var rng = RandomSource(seed: 7)
        var counts: [UInt64: Int] = [:]
        let draws = 200_000
        for _ in 0..<(draws / 1000) {
            for key in try table.sample(1000, beta: 0.4, rng: &rng).keys { counts[key, default: 0] += 1 }
        }
        let scaled = priorities.map { pow(Double($0), alpha) }
        let total = scaled.reduce(0, +)
        for (index, key) in keys.enumerated() {
            let expected = scaled[index] / total
            let observed = Double(counts[key] ?? 0) / Double(draws)
            XCTAssertEqual(observed, expected, accuracy: 0.005, "key \(key)")
        }
        XCTAssertEqual(counts[keys[4]] ?? 0, 0, "zero priority is never sampled")
        XCTAssertEqual(table.statistics.samples, draws)
    }

    func testImportanceWeightsMatchNaiveFormula() throws {
        let alpha = 0.6, beta = 0.4
        let table = try ReplayTable(.init(capacity: 16, itemSize: 2, selector: .prioritized(alpha: alpha)))
        let priorities: [Float] = [0.5, 1, 2, 3, 7]
        let keys = try table.insert(payloads: (0..<10).map(Float.init), priorities: priorities)
        // Naive: P(i) = p_i^α / Σ p^α, w_i = (N P(i))^−β / max_j (N P(j))^−β.
        let n = Double(priorities.count)
        let scaled = priorities.map { pow(Double($0), alpha) }
        let total = scaled.reduce(0, +)
        let raw = scaled.map { pow(n * $0 / total, -beta) }
        let maxRaw = raw.max()!
        var rng = RandomSource(seed: 3)
        let sample = try table.sample(64, beta: beta, rng: &rng)
        for (row, key) in sample.keys.enumerated() {
            let index = keys.firstIndex(of: key)!
            XCTAssertEqual(Double(sample.weights[row]), raw[index] / maxRaw, accuracy: 1e-5)
            XCTAssertEqual(Array(sample.payloads[row * 2..<row * 2 + 2]), [Float(2 * index), Float(2 * index + 1)])
        }
        XCTAssertLessThanOrEqual(sample.weights.max()!, 1 + 1e-6)
    }

    func testPriorityUpdatesOfEvictedKeysAreIgnoredAndCounted() throws {
        let table = try ReplayTable(.init(capacity: 2, itemSize: 1, selector: .prioritized(alpha: 1)))
        try table.insert(payloads: [1, 2], priorities: [1, 1])
        try table.insert(payloads: [3], priorities: [1])  // key 1 evicted
        let applied = table.updatePriorities(keys: [1, 2, 3, 99], priorities: [5, 6, 7, 8])
        XCTAssertEqual(applied, 2)
        XCTAssertEqual(table.statistics.evictedKeyUpdates, 1)
        XCTAssertEqual(table.statistics.unknownKeyUpdates, 1)
        XCTAssertEqual(table.priority(of: 2), 6)
        XCTAssertEqual(table.priority(of: 3), 7)
        XCTAssertNil(table.priority(of: 1))
    }

    func testMaxTimesSampledRemovesItemsAsAQueue() throws {
        let table = try ReplayTable(.init(capacity: 4, itemSize: 1, selector: .uniform, maxTimesSampled: 1))
        try table.insert(payloads: [0, 1, 2, 3], priorities: [1, 1, 1, 1])
        var rng = RandomSource(seed: 1)
        let first = try table.sample(3, beta: 1, rng: &rng)
        XCTAssertEqual(Set(first.keys).count, 3, "each item is removed after one sample")
        XCTAssertEqual(table.size, 1)
        XCTAssertEqual(table.statistics.removedAfterSampling, 3)
        // Holes are reused; FIFO eviction skips removed keys.
        try table.insert(payloads: [4, 5, 6, 7], priorities: [1, 1, 1, 1])  // evicts the one survivor
        XCTAssertEqual(table.size, 4)
        XCTAssertEqual(table.keysInInsertionOrder, [5, 6, 7, 8])
        XCTAssertEqual(table.statistics.evictions, 1)
        let rest = try table.sample(10, beta: 1, rng: &rng)
        XCTAssertEqual(Set(rest.keys), [5, 6, 7, 8], "a request larger than the table drains it")
        XCTAssertEqual(table.size, 0)
        XCTAssertThrowsError(try table.sample(1, beta: 1, rng: &rng))

        let twice = try ReplayTable(.init(capacity: 4, itemSize: 1, selector: .prioritized(alpha: 1), maxTimesSampled: 2))
        try twice.insert(payloads: [0], priorities: [1])
        _ = try twice.sample(1, beta: 1, rng: &rng)
        XCTAssertEqual(twice.timesSampled(of: 1), 1)
        _ = try twice.sample(1, beta: 1, rng: &rng)
        XCTAssertEqual(twice.size, 0)
    }
}

/// The blocked sum tree against a reference written like the math (Dopamine's sum_tree_test habit).
final class ReplayTableRingTests: XCTestCase {
    func testRemovedItemLeavesAHoleUntilItsSlotComesRound() throws {
        let table = try ReplayTable(.init(capacity: 4, itemSize: 1, selector: .prioritized(alpha: 1), maxTimesSampled: 1))
        XCTAssertEqual(try table.insert(payloads: [1, 2, 3, 4], priorities: [0, 5, 0, 0]), [1, 2, 3, 4])
        var rng = RandomSource(seed: 3)
        XCTAssertEqual(try table.sample(1, beta: 1, rng: &rng).keys, [2], "all the mass on key 2")
        XCTAssertEqual(table.size, 3)
        XCTAssertNil(table.priority(of: 2))
        // Key 5 takes key 1's slot (evicting it); key 6 takes key 2's emptied slot (nothing to evict).
        XCTAssertEqual(try table.insert(payloads: [5], priorities: [1]), [5])
        XCTAssertEqual(table.keysInInsertionOrder, [3, 4, 5])
        XCTAssertEqual(table.statistics.evictions, 1)
        XCTAssertEqual(try table.insert(payloads: [6], priorities: [1]), [6])
        XCTAssertEqual(table.keysInInsertionOrder, [3, 4, 5, 6])
        XCTAssertEqual(table.statistics.evictions, 1)
        XCTAssertEqual(table.rateLimiter.size, 4)
        XCTAssertEqual(table.payload(of: 6), [6])
        XCTAssertEqual(table.timesSampled(of: 3), 0)
        table.updatePriorities(keys: [1, 2], priorities: [1, 1])
        XCTAssertEqual(table.statistics.evictedKeyUpdates, 2)
    }

    func testKeysWrapAroundTheRingAndSampleWithTheirPayloads() throws {
        let table = try ReplayTable(.init(capacity: 5, itemSize: 2, selector: .uniform))
        for key in 1...13 { try table.insert(payloads: [Float(key), -Float(key)], priorities: [Float(key % 3)]) }
        XCTAssertEqual(table.keysInInsertionOrder, [9, 10, 11, 12, 13])
        XCTAssertNil(table.timesSampled(of: 13), "no max_times_sampled: samples are not counted")
        var rng = RandomSource(seed: 8)
        let sample = try table.sample(200, beta: 1, rng: &rng)
        XCTAssertEqual(Set(sample.keys), [9, 10, 11, 12, 13], "uniform: zero priorities are drawn too")
        for (row, key) in sample.keys.enumerated() {
            XCTAssertEqual(Array(sample.payloads[row * 2..<row * 2 + 2]), [Float(key), -Float(key)])
        }
        // A batch that wraps past the ring's end.
        XCTAssertEqual(try table.insert(payloads: (0..<8).map(Float.init), priorities: [1, 1, 1, 1]), [14, 15, 16, 17])
        XCTAssertEqual(table.keysInInsertionOrder, [13, 14, 15, 16, 17])
        XCTAssertEqual(table.payload(of: 17), [6, 7])
        XCTAssertEqual(table.statistics.evictions, 12)
    }
}

final class ReplayRateLimiterTests: XCTestCase {
    /// An independent model of Reverb's SampleToInsertRatio.
    private struct NaiveLimiter {
        var ratio: Double, minSize: Int, buffer: Double
        var inserts = 0, samples = 0, deletes = 0
        func canInsert(_ n: Int) -> Bool {
            if inserts + n - deletes <= minSize { return true }
            return Double(inserts + n) * ratio - Double(samples) <= ratio * Double(minSize) + buffer
        }
        func canSample(_ n: Int) -> Bool {
            guard inserts - deletes >= minSize else { return false }
            return Double(inserts) * ratio - Double(samples) - Double(n) >= ratio * Double(minSize) - buffer
        }
    }

    func testDecisionsMatchNaiveModel() throws {
        var rng = RandomSource(seed: 11)
        for (ratio, minSize, buffer) in [(1.0, 5, 2.0), (4.0, 10, 8.0), (0.25, 3, 1.5), (2.5, 1, 3.0)] {
            var limiter = try RateLimiter(.init(samplesPerInsert: ratio, minSize: minSize, errorBuffer: buffer))
            var naive = NaiveLimiter(ratio: ratio, minSize: minSize, buffer: buffer)
            var blockedInserts = 0, blockedSamples = 0
            for _ in 0..<5000 {
                let n = 1 + rng.nextInt(below: 4)
                XCTAssertEqual(limiter.canInsert(n), naive.canInsert(n))
                XCTAssertEqual(limiter.canSample(n), naive.canSample(n))
                switch rng.nextInt(below: 3) {
                case 0:
                    if limiter.canInsert(n) { limiter.recordInserts(n); naive.inserts += n } else { blockedInserts += 1 }
                case 1:
                    if limiter.canSample(n) { limiter.recordSamples(n); naive.samples += n } else { blockedSamples += 1 }
                default:
                    if limiter.size > minSize && rng.nextInt(below: 4) == 0 { limiter.recordDeletes(1); naive.deletes += 1 }
                }
            }
            XCTAssertGreaterThan(blockedInserts, 0, "ratio \(ratio): inserts were never limited")
            XCTAssertGreaterThan(blockedSamples, 0, "ratio \(ratio): samples were never limited")
        }
    }

    func testNarrowErrorBufferIsRejected() {
        XCTAssertThrowsError(try RateLimiter(.init(samplesPerInsert: 2, minSize: 10, errorBuffer: 1.5))) { error in
            XCTAssertEqual(error as? RateLimiter.ConfigurationError, .narrowErrorBuffer(errorBuffer: 1.5, samplesPerInsert: 2))
            XCTAssertTrue("\(error)".contains("deadlock"))
        }
        XCTAssertThrowsError(try RateLimiter(.init(samplesPerInsert: 0.5, minSize: 10, errorBuffer: 0.9)))
        XCTAssertNoThrow(try RateLimiter(.init(samplesPerInsert: 0.5, minSize: 10, errorBuffer: 1)))
        XCTAssertNoThrow(try RateLimiter(.init(samplesPerInsert: 2, minSize: 10, errorBuffer: 2)))
        XCTAssertThrowsError(try RateLimiter(.init(samplesPerInsert: 1, minSize: 0, errorBuffer: 2)))
        XCTAssertThrowsError(try ReplayTable(.init(capacity: 8, itemSize: 1, rateLimiter: .init(samplesPerInsert: 4, minSize: 2, errorBuffer: 3))))
    }

    func testTableEnforcesTheLimiter() throws {
        let table = try ReplayTable(.init(capacity: 100, itemSize: 1, selector: .uniform,
                                          rateLimiter: .init(samplesPerInsert: 1, minSize: 3, errorBuffer: 2)))
        var rng = RandomSource(seed: 2)
        XCTAssertFalse(table.canSample(1))
        XCTAssertThrowsError(try table.sample(1, beta: 1, rng: &rng))
        try table.insert(payloads: [0, 1, 2], priorities: [1, 1, 1])  // free until min_size
        XCTAssertTrue(table.canSample(1))
        // inserts·r − samples ≤ 3 + 2: two more inserts allowed, a third blocked.
        try table.insert(payloads: [3, 4], priorities: [1, 1])
        XCTAssertFalse(table.canInsert(1))
        XCTAssertThrowsError(try table.insert(payloads: [5], priorities: [1]))
        _ = try table.sample(1, beta: 1, rng: &rng)
        XCTAssertTrue(table.canInsert(1))
        // Sampling stops at inserts·r − samples − n ≥ 3 − 2 = 1.
        XCTAssertTrue(table.canSample(3))
        XCTAssertFalse(table.canSample(4))
    }
}

final class ReplayCheckpointTests: XCTestCase {
    private func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent("replay.h5").path
    }

    private let configuration = ReplayTableConfiguration(
        capacity: 8, itemSize: 3, selector: .prioritized(alpha: 0.7),
        rateLimiter: .init(samplesPerInsert: 2, minSize: 2, errorBuffer: 100), maxTimesSampled: 5)

    func testRoundTripKeepsItemsPrioritiesAndCounters() throws {
        let table = try ReplayTable(configuration)
        try table.insert(payloads: (0..<15).map(Float.init), priorities: (0..<5).map { Float($0) + 0.5 })
        try table.insert(payloads: (15..<30).map(Float.init), priorities: (5..<10).map { Float($0) + 0.5 })
        var rng = RandomSource(seed: 5)
        _ = try table.sample(4, beta: 0.5, rng: &rng)
        table.updatePriorities(keys: [1, 5, 9], priorities: [9, 0.25, 3])
        let path = temporaryPath()
        try table.checkpoint(to: path)

        let restored = try ReplayTable(configuration)
        try restored.restore(from: path)
        XCTAssertEqual(restored.snapshot(), table.snapshot())
        XCTAssertEqual(restored.keysInInsertionOrder, table.keysInInsertionOrder)
        XCTAssertEqual(restored.priority(of: 5), 0.25)
        XCTAssertEqual(restored.priority(of: 9), 3)
        XCTAssertEqual(restored.statistics, table.statistics)
        XCTAssertEqual(restored.rateLimiter, table.rateLimiter)
        // Same state: the same draws, and new keys continue.
        var a = RandomSource(seed: 9), b = RandomSource(seed: 9)
        let x = try table.sample(6, beta: 0.5, rng: &a), y = try restored.sample(6, beta: 0.5, rng: &b)
        XCTAssertEqual(x.count, 6)
        XCTAssertEqual(y.count, 6)
        XCTAssertEqual(try restored.insert(payloads: [1, 2, 3], priorities: [1]), [11])

        // An empty table round-trips too.
        let empty = try ReplayTable(configuration)
        let emptyPath = temporaryPath()
        try empty.checkpoint(to: emptyPath)
        let emptyRestored = try ReplayTable(configuration)
        try emptyRestored.restore(from: emptyPath)
        XCTAssertEqual(emptyRestored.size, 0)
    }

    func testConfigurationMismatchThrowsNamingTheField() throws {
        let table = try ReplayTable(configuration)
        try table.insert(payloads: [1, 2, 3], priorities: [1])
        let path = temporaryPath()
        try table.checkpoint(to: path)
        var other = configuration
        other.selector = .prioritized(alpha: 0.6)
        XCTAssertThrowsError(try ReplayTable(other).restore(from: path)) { error in
            XCTAssertEqual(error as? ReplayTableError, .configurationMismatch(field: "alpha", file: "0.7", table: "0.6"))
        }
        var capacity = configuration
        capacity.capacity = 16
        XCTAssertThrowsError(try ReplayTable(capacity).restore(from: path)) { error in
            XCTAssertTrue("\(error)".contains("capacity is 8 in the file but 16"), "\(error)")
        }
        var limiter = configuration
        limiter.rateLimiter.errorBuffer = 50
        XCTAssertThrowsError(try ReplayTable(limiter).restore(from: path)) { error in
            XCTAssertTrue("\(error)".contains("error_buffer"), "\(error)")
        }
    }

    func testRoundTripWithHolesAndAWrappedRing() throws {
        let table = try ReplayTable(configuration)
        for key in 1...13 { try table.insert(payloads: [Float(key), 0, 0], priorities: [Float(key)]) }
        var rng = RandomSource(seed: 2)
        for _ in 0..<12 { _ = try table.sample(1, beta: 0.5, rng: &rng) }  // some reach 5 samples and leave holes
        let path = temporaryPath()
        try table.checkpoint(to: path)
        let restored = try ReplayTable(configuration)
        try restored.restore(from: path)
        XCTAssertEqual(restored.snapshot(), table.snapshot())
        for key in table.keysInInsertionOrder {
            XCTAssertEqual(restored.payload(of: key), table.payload(of: key))
            XCTAssertEqual(restored.timesSampled(of: key), table.timesSampled(of: key))
        }
        XCTAssertEqual(try restored.insert(payloads: [1, 2, 3], priorities: [1]), [14])
    }

    func testFormatOneFilesAreStillRead() throws {
        // Written the way colony-replay-1 wrote it: f64 priorities, times_sampled always.
        let path = temporaryPath()
        let config = ReplayTableConfiguration(capacity: 4, itemSize: 2, selector: .prioritized(alpha: 0.5))
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", "colony-replay-1")
            try file.setAttribute("capacity", Int64(4))
            try file.setAttribute("item_size", Int64(2))
            try file.setAttribute("selector", "prioritized")
            try file.setAttribute("alpha", 0.5)
            try file.setAttribute("samples_per_insert", 1.0)
            try file.setAttribute("min_size", Int64(1))
            try file.setAttribute("error_buffer", 1e300)
            try file.setAttribute("max_times_sampled", Int64(0))
            try file.writeScalar(Int64(2), at: "count")
            try file.write([Float(1), 2, 3, 4], shape: [2, 2], at: "payloads")
            try file.write([UInt64(4), 5], at: "keys")
            try file.write([0.25, 3.0], at: "priorities")
            try file.write([Int32(0), 2], at: "times_sampled")
            try file.writeScalar(UInt64(6), at: "next_key")
            for name in ["inserts", "samples", "deletes"] { try file.writeScalar(Int64(name == "inserts" ? 5 : name == "deletes" ? 3 : 0), at: "limiter/\(name)") }
            for name in ["inserts", "samples", "evictions", "removed_after_sampling", "evicted_key_updates", "unknown_key_updates",
                         "insert_waits", "sample_waits"] { try file.writeScalar(Int64(0), at: "stats/\(name)") }
        }
        let table = try ReplayTable(config)
        try table.restore(from: path)
        XCTAssertEqual(table.keysInInsertionOrder, [4, 5])
        XCTAssertEqual(table.priority(of: 4), 0.25)
        XCTAssertEqual(table.payload(of: 5), [3, 4])
        XCTAssertEqual(try table.insert(payloads: [9, 9], priorities: [1]), [6])
    }

    func testSnapshotWithKeysOutsideTheRingIsRejected() throws {
        let table = try ReplayTable(configuration)
        try table.insert(payloads: [1, 2, 3, 4, 5, 6], priorities: [1, 1])
        var snapshot = table.snapshot()
        snapshot.nextKey = 100  // keys 1 and 2 cannot both be among the newest 8 before 100
        XCTAssertThrowsError(try ReplayTable(configuration).load(snapshot)) { error in
            XCTAssertTrue("\(error)".contains("newest 8 keys"), "\(error)")
        }
        snapshot = table.snapshot()
        snapshot.keys = [2, 1]
        XCTAssertThrowsError(try ReplayTable(configuration).load(snapshot))
    }

    func testSnapshotIsWrittenOffThreadWhileTheTableMoves() throws {
        let table = try ReplayTable(.init(capacity: 50_000, itemSize: 10, selector: .prioritized(alpha: 0.6)))
        try table.insert(payloads: [Float](repeating: 1, count: 400_000), priorities: [Float](repeating: 1, count: 40_000))
        let snapshot = table.snapshot()
        let path = temporaryPath()
        let done = DispatchSemaphore(value: 0)
        let failure = LockedError()
        Thread.detachNewThread {
            do { try snapshot.write(to: path) } catch { failure.set(error) }
            done.signal()
        }
        // The owner keeps inserting while the file is written.
        for _ in 0..<100 { try table.insert(payloads: [Float](repeating: 2, count: 100), priorities: [Float](repeating: 2, count: 10)) }
        done.wait()
        XCTAssertNil(failure.get())
        XCTAssertEqual(table.size, 41_000)
        let read = try ReplayTableSnapshot.read(from: path)
        XCTAssertEqual(read, snapshot)
    }
}

private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?
    func set(_ value: Error) { lock.withLock { error = value } }
    func get() -> Error? { lock.withLock { error } }
}

/// A table whose items hold frames (Ape-X transitions of a uint8 observation space): every sample, payload and
/// checkpoint equals a Float table's, each chunk is stored once, and non-byte frame values are refused.
final class ReplayFrameTableTests: XCTestCase {
    // Items: observation (2 planes of 3) | action | reward | next observation (2 planes of 3) | discount.
    private let layout = TransitionLayout(observationSize: 6, actionSize: 1)
    private var frames: ReplayFrameColumns { .transitions(layout, chunkSize: 3) }

    private func configuration(frames: ReplayFrameColumns?, maxTimesSampled: Int? = nil) -> ReplayTableConfiguration {
        ReplayTableConfiguration(capacity: 10, itemSize: layout.itemSize, selector: .prioritized(alpha: 0.6), maxTimesSampled: maxTimesSampled,
                                 frames: frames)
    }

    /// Transition t of a 2-frame stack: observation planes t−1, t; next observation t, t+1 (plane p is p, p+1, p+2 mod 256).
    private func transitions(_ range: Range<Int>) -> (payloads: [Float], priorities: [Float]) {
        let plane = { (p: Int) in (0..<3).map { Float((7 * (p + 1) + $0) % 256) } }
        var items: [Float] = []
        for t in range {
            layout.append(observation: (plane(t - 1) + plane(t))[...], action: [Float(t % 4)], reward: Float(t) / 10,
                          next: (plane(t) + plane(t + 1))[...], discount: 0.99, to: &items)
        }
        return (items, range.map { Float($0 % 5) + 0.5 })
    }

    func testFramesAreStoredOnceAndItemsReadBackAsTheFloatTableHoldsThem() throws {
        let (withFrames, floats) = (try ReplayTable(configuration(frames: frames)), try ReplayTable(configuration(frames: nil)))
        for batch in [0..<4, 4..<11, 11..<16] {
            let (payloads, priorities) = transitions(batch)
            XCTAssertEqual(try withFrames.insert(payloads: payloads, priorities: priorities), try floats.insert(payloads: payloads, priorities: priorities))
        }
        // Keys 7 … 16 (transitions 6 … 15) hold planes 5 … 16.
        XCTAssertEqual(withFrames.storedFrameChunks, 12)
        for key in withFrames.keysInInsertionOrder { XCTAssertEqual(withFrames.payload(of: key), floats.payload(of: key)) }
        var (a, b) = (RandomSource(seed: 3), RandomSource(seed: 3))
        XCTAssertEqual(try withFrames.sample(16, beta: 0.4, rng: &a), try floats.sample(16, beta: 0.4, rng: &b))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-frames-\(UUID().uuidString).h5").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try withFrames.checkpoint(to: path)
        let restored = try ReplayTable(configuration(frames: frames))
        try restored.restore(from: path)
        XCTAssertEqual(restored.snapshot(), withFrames.snapshot())
        XCTAssertEqual(restored.storedFrameChunks, 12)
        let (payloads, priorities) = transitions(16..<19)
        for table in [restored, floats] { try table.insert(payloads: payloads, priorities: priorities) }
        XCTAssertEqual(restored.storedFrameChunks, 12, "evicted planes were freed after the restore")
        for key in floats.keysInInsertionOrder { XCTAssertEqual(restored.payload(of: key), floats.payload(of: key)) }
        XCTAssertThrowsError(try ReplayTable(configuration(frames: nil)).restore(from: path)) { XCTAssertTrue("\($0)".contains("frames"), "\($0)") }
    }

    /// Inserts and samples packed as the wire carries them (other Floats, frames as bytes) hold and give the same items.
    func testPackedInsertsAndSamplesHoldTheSameItems() throws {
        let (packedTable, floats) = (try ReplayTable(configuration(frames: frames)), try ReplayTable(configuration(frames: nil)))
        let blocks = frames.blocks
        let floatColumns = blocks.floatColumns(itemSize: layout.itemSize)
        XCTAssertEqual(floatColumns, 3, "action | reward | discount")
        for batch in [0..<4, 4..<13] {
            let (payloads, priorities) = transitions(batch)
            var (packed, bytes) = ([Float](repeating: 0, count: batch.count * floatColumns), [UInt8](repeating: 0, count: batch.count * blocks.values))
            packed.withUnsafeMutableBufferPointer { packed in
                bytes.withUnsafeMutableBufferPointer {
                    blocks.pack(payloads, count: batch.count, itemSize: layout.itemSize, floats: packed.baseAddress!, frames: $0.baseAddress!)
                }
            }
            let keys = try packed.withUnsafeBufferPointer { packed in
                try bytes.withUnsafeBufferPointer { bytes in
                    try priorities.withUnsafeBufferPointer { try packedTable.insert(packedFloats: packed, frames: bytes, priorities: $0) }
                }
            }
            XCTAssertEqual(Array(keys), try floats.insert(payloads: payloads, priorities: priorities))
            let two: [Float] = [1, 1]
            XCTAssertThrowsError(try packed.withUnsafeBufferPointer { packed in
                try bytes.withUnsafeBufferPointer { bytes in
                    try two.withUnsafeBufferPointer { try packedTable.insert(packedFloats: packed, frames: UnsafeBufferPointer(rebasing: bytes.dropLast()), priorities: $0) }
                }
            })
        }
        XCTAssertEqual(packedTable.snapshot().keys, floats.snapshot().keys)
        for key in floats.keysInInsertionOrder { XCTAssertEqual(packedTable.payload(of: key), floats.payload(of: key)) }
        var (a, b) = (RandomSource(seed: 5), RandomSource(seed: 5))
        let (sample, bytes) = try packedTable.samplePacked(12, beta: 0.4, rng: &a)
        let expected = try floats.sample(12, beta: 0.4, rng: &b)
        XCTAssertEqual(sample.keys, expected.keys)
        XCTAssertEqual(sample.weights, expected.weights)
        var whole = [Float](repeating: -1, count: 12 * layout.itemSize)
        whole.withUnsafeMutableBufferPointer { blocks.unpack(floats: sample.payloads, frames: bytes, count: 12, itemSize: layout.itemSize, into: $0.baseAddress!) }
        XCTAssertEqual(whole, expected.payloads)
        let (one, three, twelve): ([Float], [Float], [UInt8]) = ([1], [1, 2, 3], [UInt8](repeating: 0, count: 12))
        XCTAssertThrowsError(try three.withUnsafeBufferPointer { packed in
            try twelve.withUnsafeBufferPointer { bytes in try one.withUnsafeBufferPointer { try floats.insert(packedFloats: packed, frames: bytes, priorities: $0) } }
        }) { XCTAssertTrue("\($0)".contains("keeps no frames"), "\($0)") }
    }

    func testRemovedItemsFreeTheirFrames() throws {
        let table = try ReplayTable(configuration(frames: frames, maxTimesSampled: 1))
        let (payloads, priorities) = transitions(0..<4)
        try table.insert(payloads: payloads, priorities: priorities)
        var rng = RandomSource(seed: 1)
        while table.size > 0 { _ = try table.sample(1, beta: 0.4, rng: &rng) }
        XCTAssertEqual(table.storedFrameChunks, 0)
    }

    func testFrameValuesThatAreNotBytesAreRefusedAndChangeNothing() throws {
        let table = try ReplayTable(configuration(frames: frames))
        for bad: Float in [256, -1, 0.5, .nan] {
            var (payloads, priorities) = transitions(0..<2)
            payloads[layout.itemSize + 1] = bad
            XCTAssertThrowsError(try table.insert(payloads: payloads, priorities: priorities)) { XCTAssertTrue("\($0)".contains("0…255"), "\($0)") }
        }
        XCTAssertEqual(table.size, 0)
        XCTAssertEqual(table.storedFrameChunks, 0)
        var overlapping = frames
        overlapping.offsets = [0, 3]
        XCTAssertThrowsError(try ReplayTable(configuration(frames: overlapping)))
    }
}
