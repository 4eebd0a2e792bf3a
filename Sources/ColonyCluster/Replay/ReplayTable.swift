import ColonyAgents
import ColonyNumerics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a `ReplayTable` picks items.
public enum ReplaySelector: Sendable, Equatable, CustomStringConvertible {
    /// Every live item equally likely; importance weights are 1.
    case uniform
    /// Proportional prioritization (Schaul et al., 2016): P(i) = p_i^α / Σ_k p_k^α.
    case prioritized(alpha: Double)

    public var name: String {
        switch self {
        case .uniform: "uniform"
        case .prioritized: "prioritized"
        }
    }

    public var alpha: Double {
        switch self {
        case .uniform: 0
        case .prioritized(let alpha): alpha
        }
    }

    public var description: String {
        switch self {
        case .uniform: "uniform"
        case .prioritized(let alpha): "prioritized(alpha=\(alpha))"
        }
    }
}

/// A table's fixed configuration (checked against a checkpoint on restore).
public struct ReplayTableConfiguration: Sendable, Equatable {
    public var capacity: Int
    /// Floats per item (e.g. obs | action | reward | next_obs | discount of one n-step transition).
    public var itemSize: Int
    public var selector: ReplaySelector
    public var rateLimiter: RateLimiter.Configuration
    /// Remove an item after it has been sampled this many times (nil: never; 1 with a uniform selector
    /// and FIFO eviction is a queue for on-policy data).
    public var maxTimesSampled: Int?
    /// Columns that hold frames, kept as bytes with each chunk stored once (nil: every column a Float).
    public var frames: ReplayFrameColumns?

    public init(capacity: Int, itemSize: Int, selector: ReplaySelector = .prioritized(alpha: 0.6),
                rateLimiter: RateLimiter.Configuration = .unlimited, maxTimesSampled: Int? = nil, frames: ReplayFrameColumns? = nil) {
        self.capacity = capacity
        self.itemSize = itemSize
        self.selector = selector
        self.rateLimiter = rateLimiter
        self.maxTimesSampled = maxTimesSampled
        self.frames = frames
    }

    /// Floats a slot keeps besides its frames.
    public var storedFloats: Int { frames?.floatColumns(itemSize: itemSize) ?? itemSize }

    /// Bytes one item takes in a table: its Floats, and for frames one observation's bytes and its chunk ids (what an
    /// item costs when its next observation is a later item's observation; frame stacks share further).
    public var bytesPerItem: Int {
        storedFloats * MemoryLayout<Float>.size + (frames.map { $0.width + $0.chunksPerItem * MemoryLayout<Int32>.size } ?? 0)
    }
}

public enum ReplayTableError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case badInsert(String)
    case rateLimited(String)
    case empty
    /// A checkpoint written with a different configuration: which field, the file's value, the table's.
    case configurationMismatch(field: String, file: String, table: String)
    case corruptCheckpoint(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "replay table: invalid configuration: \(why)"
        case .badInsert(let why): "replay table: bad insert: \(why)"
        case .rateLimited(let why): "replay table: rate limiter blocks \(why)"
        case .empty: "replay table: cannot sample from an empty table"
        case .configurationMismatch(let field, let file, let table):
            "replay checkpoint configuration differs: \(field) is \(file) in the file but \(table) in this table"
        case .corruptCheckpoint(let why): "replay checkpoint is corrupt: \(why)"
        }
    }
}

/// One sampled batch.
public struct ReplaySample: Sendable, Equatable {
    /// `[count, itemSize]`, row-major.
    public var payloads: [Float]
    public var keys: [UInt64]
    /// w_i = (N·P(i))^−β / max_j w_j (max over the table's live items); 1 for a uniform selector.
    public var weights: [Float]
    public var count: Int { keys.count }
}

/// Counters of a table.
public struct ReplayTableStatistics: Sendable, Equatable {
    public var size = 0
    public var inserts = 0
    /// Items sampled (a batch of B counts B).
    public var samples = 0
    public var evictions = 0
    /// Items removed after `maxTimesSampled` samples.
    public var removedAfterSampling = 0
    /// Priority updates for keys no longer in the table (evicted or removed): ignored and counted here.
    public var evictedKeyUpdates = 0
    /// Priority updates for keys never issued: ignored and counted here.
    public var unknownKeyUpdates = 0
    /// Requests the rate limiter held back (recorded by the server through `recordRateLimiterWait`).
    public var insertWaits = 0
    public var sampleWaits = 0
}

/// A replay table: fixed-size items in a ring of slots, FIFO eviction at capacity, uniform or
/// proportional-prioritized sampling with replacement, priority updates by key, optional removal after
/// `maxTimesSampled` samples, and a Reverb-style `RateLimiter`.
///
/// Storage is a ring: keys are UInt64, increasing by one per inserted item (the keys of one insert are
/// consecutive), and key k lives in slot (k − 1) mod capacity. Inserting key k therefore evicts key
/// k − capacity if it is still there, so the table holds at most the newest `capacity` keys and needs
/// no key map, eviction queue or free list. An item removed early (max times sampled) leaves a hole
/// until its slot comes round again; eviction then finds nothing to evict, so with such removals the
/// table may hold fewer than `capacity` items while full-size inserts continue.
///
/// Per slot: the payload (`itemSize` floats, or with frame columns the other floats and the frames' chunk ids into a
/// `FramePool` that keeps each chunk once), its priority (one Float in a `BlockedSumTree`, negative
/// for an empty slot) and, only when `maxTimesSampled` is set, an Int32 sample count: 6 to 8 bytes
/// besides the payload. Costs (b = 16, the sum tree's block): insert O(B + log n) per batch of B,
/// sample O(log n + b) per item, priority update O(log n), or O(b + log n) to or from priority 0 or for
/// a removal. Not thread-safe: one owner (the server's thread);
/// `snapshot()` copies the state so a checkpoint is written elsewhere.
public final class ReplayTable {
    public let configuration: ReplayTableConfiguration
    public var capacity: Int { configuration.capacity }
    public var itemSize: Int { configuration.itemSize }

    /// `capacity × storedFloats` floats; slot s holds floats s·storedFloats ..< (s+1)·storedFloats (every column of
    /// its item, or those that are not frames).
    private let payloads: UnsafeMutablePointer<Float>
    private let storedFloats: Int
    /// The slots' frames, when the configuration has frame columns.
    private let frameStore: ReplayFrameStore?
    /// Raw priorities per slot (negative: empty) and the sums that sampling walks.
    private let priorities: BlockedSumTree
    /// Samples per slot, only when `maxTimesSampled` is set (nothing else needs them).
    private let timesSampledBySlot: UnsafeMutablePointer<Int32>?
    private let isPrioritized: Bool
    public private(set) var nextKey: UInt64 = 1
    public private(set) var rateLimiter: RateLimiter
    private var stats = ReplayTableStatistics()

    public init(_ configuration: ReplayTableConfiguration) throws {
        guard configuration.capacity > 0 else { throw ReplayTableError.invalidConfiguration("capacity must be positive, got \(configuration.capacity)") }
        guard configuration.capacity <= Int(Int32.max) else {
            throw ReplayTableError.invalidConfiguration("capacity must be at most \(Int32.max), got \(configuration.capacity)")
        }
        guard configuration.itemSize > 0 else { throw ReplayTableError.invalidConfiguration("item_size must be positive, got \(configuration.itemSize)") }
        if case .prioritized(let alpha) = configuration.selector, !(alpha.isFinite && alpha >= 0) {
            throw ReplayTableError.invalidConfiguration("alpha must be finite and non-negative, got \(alpha)")
        }
        if let k = configuration.maxTimesSampled, k < 1 {
            throw ReplayTableError.invalidConfiguration("max_times_sampled must be at least 1, got \(k)")
        }
        guard configuration.rateLimiter.minSize <= configuration.capacity else {
            throw ReplayTableError.invalidConfiguration("rate limiter min_size \(configuration.rateLimiter.minSize) exceeds capacity \(configuration.capacity): sampling would never start")
        }
        if let problem = configuration.frames?.problem(itemSize: configuration.itemSize) { throw ReplayTableError.invalidConfiguration(problem) }
        self.configuration = configuration
        storedFloats = configuration.storedFloats
        frameStore = configuration.frames.map { ReplayFrameStore(columns: $0, itemSize: configuration.itemSize, capacity: configuration.capacity) }
        rateLimiter = try RateLimiter(configuration.rateLimiter)
        let capacity = configuration.capacity
        let (floats, overflow) = capacity.multipliedReportingOverflow(by: configuration.storedFloats)
        guard !overflow, let storage = Self.allocatePayloads(count: floats) else {
            throw ReplayTableError.invalidConfiguration("cannot allocate capacity × stored floats = \(capacity) × \(configuration.storedFloats) floats")
        }
        payloads = storage
        priorities = BlockedSumTree(capacity: capacity, alpha: configuration.selector.alpha)
        if configuration.maxTimesSampled != nil {
            let counts = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
            counts.initialize(repeating: 0, count: capacity)
            timesSampledBySlot = counts
        } else {
            timesSampledBySlot = nil
        }
        if case .prioritized = configuration.selector { isPrioritized = true } else { isPrioritized = false }
    }

    deinit {
        free(payloads)
        timesSampledBySlot?.deallocate()
    }

    /// Payload storage, left uninitialised (a slot is read only after an insert wrote it, so pages
    /// become resident as the table fills; freed with `free`). Tables of 16 MiB and more ask for
    /// transparent huge pages: sampling reads rows at random across tens of megabytes, and 2 MiB
    /// pages keep those reads from missing the TLB as well as the cache.
    private static func allocatePayloads(count: Int) -> UnsafeMutablePointer<Float>? {
        let (product, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        guard !overflow else { return nil }
        let bytes = max(1, product)
        let hugePage = 2 << 20
        let alignment = bytes >= 8 * hugePage ? hugePage : 64
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, alignment, bytes) == 0, let memory else { return nil }
        #if os(Linux)
        if alignment == hugePage { _ = madvise(memory, bytes, MADV_HUGEPAGE) }  // advice only: fine if refused
        #endif
        return memory.bindMemory(to: Float.self, capacity: count)
    }

    public var size: Int { priorities.occupied }

    /// Distinct frame chunks the table holds (0 without frame columns).
    public var storedFrameChunks: Int { frameStore?.pool.live ?? 0 }

    public var statistics: ReplayTableStatistics {
        var result = stats
        result.size = size
        return result
    }

    // MARK: Keys and slots

    @inline(__always) private func slot(of key: UInt64) -> Int { Int((key &- 1) % UInt64(capacity)) }

    /// The slot of `key` when it is in the table (issued, not yet overwritten, not removed).
    @inline(__always) private func slot(ofLiveKey key: UInt64) -> Int? {
        guard key >= 1, key < nextKey, nextKey - key <= UInt64(capacity) else { return nil }
        let slot = slot(of: key)
        return priorities.isOccupied(slot) ? slot : nil
    }

    /// The key in an occupied slot: the newest issued key that maps to it.
    @inline(__always) private func key(inSlot slot: Int) -> UInt64 {
        let newest = nextKey - 1
        let behind = (self.slot(of: newest) - slot + capacity) % capacity
        return newest - UInt64(behind)
    }

    /// The oldest key that may still be in the table.
    private var oldestPossibleKey: UInt64 { nextKey > UInt64(capacity) ? nextKey - UInt64(capacity) : 1 }

    // MARK: Rate limiter

    public func canInsert(_ count: Int) -> Bool { rateLimiter.canInsert(count) }
    public func canSample(_ count: Int) -> Bool { size > 0 && rateLimiter.canSample(count) }

    /// Counts a request the server held back because the rate limiter blocked it.
    public func recordRateLimiterWait(insert: Bool) {
        if insert { stats.insertWaits += 1 } else { stats.sampleWaits += 1 }
    }

    // MARK: Insert

    /// Inserts `priorities.count` items (payloads row-major, `[B, itemSize]`), evicting the oldest at
    /// capacity; returns their keys. Throws when the shapes are wrong, a priority is negative or not
    /// finite, B exceeds the capacity, or the rate limiter blocks the insert (check `canInsert` first).
    @discardableResult
    public func insert(payloads batch: [Float], priorities batchPriorities: [Float]) throws -> [UInt64] {
        let keys = try batch.withUnsafeBufferPointer { rows in
            try batchPriorities.withUnsafeBufferPointer { try insert(payloads: rows, priorities: $0) }
        }
        return Array(keys)
    }

    /// `insert` without copies (the server passes a received message's tensors): returns the keys,
    /// which are consecutive.
    @discardableResult
    public func insert(payloads batch: UnsafeBufferPointer<Float>, priorities batchPriorities: UnsafeBufferPointer<Float>) throws -> Range<UInt64> {
        let count = batchPriorities.count
        guard batch.count == count * itemSize else {
            throw ReplayTableError.badInsert("\(count) priorities need \(count * itemSize) payload floats, got \(batch.count)")
        }
        try checkInsert(priorities: batchPriorities)
        try frameStore?.validate(batch, count: count)
        return try insert(count: count, priorities: batchPriorities) { row, slot, run in
            if let frameStore {
                for offset in 0..<run {
                    frameStore.store(batch.baseAddress! + (row + offset) * itemSize, slot: slot + offset, floats: payloads + (slot + offset) * storedFloats)
                }
            } else {
                (payloads + slot * itemSize).update(from: batch.baseAddress! + row * itemSize, count: run * itemSize)
            }
        }
    }

    /// Inserts packed items into a table with frame columns: per item its other Floats (`storedFloats`) and its frames
    /// as bytes (`frames.blocks.values`), as inserts carry them on the wire. Bytes need no range check.
    @discardableResult
    public func insert(packedFloats batch: UnsafeBufferPointer<Float>, frames: UnsafeBufferPointer<UInt8>,
                       priorities batchPriorities: UnsafeBufferPointer<Float>) throws -> Range<UInt64> {
        guard let frameStore else { throw ReplayTableError.badInsert("this table keeps no frames: send whole Float items") }
        let count = batchPriorities.count, frameValues = frameStore.blocks.values
        guard batch.count == count * storedFloats, frames.count == count * frameValues else {
            throw ReplayTableError.badInsert("\(count) priorities need \(count * storedFloats) floats and \(count * frameValues) frame bytes, "
                + "got \(batch.count) and \(frames.count)")
        }
        try checkInsert(priorities: batchPriorities)
        return try insert(count: count, priorities: batchPriorities) { row, slot, run in
            for offset in 0..<run {
                frameStore.store(packedFloats: batch.baseAddress! + (row + offset) * storedFloats, frames: frames.baseAddress! + (row + offset) * frameValues,
                                 slot: slot + offset, floats: payloads + (slot + offset) * storedFloats)
            }
        }
    }

    private func checkInsert(priorities batchPriorities: UnsafeBufferPointer<Float>) throws {
        guard batchPriorities.count <= capacity else { throw ReplayTableError.badInsert("batch of \(batchPriorities.count) exceeds capacity \(capacity)") }
        if let bad = batchPriorities.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw ReplayTableError.badInsert("priority \(bad) is \(batchPriorities[bad]); priorities must be finite and non-negative")
        }
    }

    /// Writes `count` checked items, evicting the oldest at capacity; `write(row, slot, run)` stores `run` items from
    /// batch row `row` into consecutive slots from `slot` (at most two runs: up to the ring's end, then from slot 0).
    private func insert(count: Int, priorities batchPriorities: UnsafeBufferPointer<Float>, write: (Int, Int, Int) -> Void) throws -> Range<UInt64> {
        guard count > 0 else { return nextKey..<nextKey }
        guard rateLimiter.canInsert(count) else { throw ReplayTableError.rateLimited("inserting \(count)") }
        let firstKey = nextKey
        var row = 0, evicted = 0
        // At most two runs of consecutive slots: up to the ring's end, then from slot 0.
        while row < count {
            let start = slot(of: firstKey + UInt64(row))
            let run = min(count - row, capacity - start)
            for slot in start..<start + run where priorities.isOccupied(slot) { evicted += 1 }
            write(row, start, run)
            timesSampledBySlot.map { ($0 + start).update(repeating: 0, count: run) }
            priorities.update(from: start, priorities: UnsafeBufferPointer(rebasing: batchPriorities[row..<row + run]))
            row += run
        }
        nextKey += UInt64(count)
        stats.evictions += evicted
        rateLimiter.recordDeletes(evicted)
        rateLimiter.recordInserts(count)
        stats.inserts += count
        return firstKey..<nextKey
    }

    /// Empties a slot early (max times sampled).
    private func remove(slot: Int) {
        priorities.update(slot, priority: -1)
        frameStore?.release(slot: slot)
        rateLimiter.recordDeletes(1)
    }

    // MARK: Sample

    /// Draws `count` items with replacement (each draw independent) and returns their payloads, keys
    /// and importance weights w_i = (N·P(i))^−β / max_j w_j, where max_j w_j = (N·p_min/Σp)^−β over the
    /// live items. With `maxTimesSampled`, an item is removed as soon as it reaches the limit (so later
    /// draws of the same batch do not see it). When all priorities are zero, draws are uniform (weights 1).
    /// Throws when the table is empty or the rate limiter blocks (check `canSample` first).
    public func sample(_ count: Int, beta: Double, rng: inout RandomSource) throws -> ReplaySample {
        try sample(count, beta: beta, rng: &rng, packed: false).sample
    }

    /// `sample` packed, for a table with frame columns: each item's other Floats in `payloads` (`storedFloats` a row)
    /// and its frames as bytes (`frames.blocks.values` a row), as sample replies carry them.
    public func samplePacked(_ count: Int, beta: Double, rng: inout RandomSource) throws -> (sample: ReplaySample, frames: [UInt8]) {
        precondition(configuration.frames != nil, "packed samples need a table with frame columns")
        return try sample(count, beta: beta, rng: &rng, packed: true)
    }

    /// `sample` into new arrays: whole items, or packed (`frames` empty otherwise).
    private func sample(_ count: Int, beta: Double, rng: inout RandomSource, packed: Bool) throws -> (sample: ReplaySample, frames: [UInt8]) {
        precondition(count > 0, "sample count must be positive")
        let (width, frameValues) = packed ? (storedFloats, configuration.frames?.blocks.values ?? 0) : (itemSize, 0)
        var result = ReplaySample(payloads: [Float](repeating: 0, count: count * width),
                                  keys: [UInt64](repeating: 0, count: count), weights: [Float](repeating: 1, count: count))
        var frames = [UInt8](repeating: 0, count: count * frameValues)
        let drawn = try result.payloads.withUnsafeMutableBufferPointer { payloads in
            try frames.withUnsafeMutableBufferPointer { frames in
                try result.keys.withUnsafeMutableBufferPointer { keys in
                    try result.weights.withUnsafeMutableBufferPointer { weights in
                        try sample(count, beta: beta, rng: &rng, payloads: payloads.baseAddress!, frames: packed ? frames.baseAddress! : nil,
                                   keys: keys.baseAddress!, weights: weights.baseAddress!)
                    }
                }
            }
        }
        if drawn < count {
            result.payloads.removeLast((count - drawn) * width)
            frames.removeLast((count - drawn) * frameValues)
            result.keys.removeLast(count - drawn)
            result.weights.removeLast(count - drawn)
        }
        return (result, frames)
    }

    /// `sample` into caller-owned buffers of room for `count` items (the server writes straight into
    /// the reply's tensors); returns how many were drawn (fewer only when max-times-sampled removals
    /// empty the table mid-batch). With `frames` (a table with frame columns) the items come packed:
    /// `storedFloats` Floats each into `output` and their frames as bytes into `frames`.
    public func sample(_ count: Int, beta: Double, rng: inout RandomSource, payloads output: UnsafeMutablePointer<Float>,
                       frames: UnsafeMutablePointer<UInt8>? = nil,
                       keys: UnsafeMutablePointer<UInt64>, weights: UnsafeMutablePointer<Float>) throws -> Int {
        precondition(frames == nil || frameStore != nil, "packed samples need a table with frame columns")
        precondition(count > 0, "sample count must be positive")
        guard size > 0 else { throw ReplayTableError.empty }
        guard rateLimiter.canSample(count) else { throw ReplayTableError.rateLimited("sampling \(count)") }
        var drawn = 0
        // (N · min_j w_j / Σw)^−β: the largest raw weight, recomputed only after a removal.
        var largestWeight: Double?
        func draw() -> (slot: Int, weight: Float) {
            let total = priorities.total
            guard isPrioritized && total > 0 else { return (priorities.findOccupied(rng.nextInt(below: size)), 1) }
            let slot = priorities.find(min(rng.nextDouble() * total, total * (1 - 1e-12)))
            let n = Double(size)
            let largest = largestWeight ?? Foundation.pow(n * priorities.weight(ofLeaf: priorities.minimumPositive) / total, -beta)
            largestWeight = largest
            return (slot, Float(Foundation.pow(n * priorities.weight(ofLeaf: priorities[slot]) / total, -beta) / largest))
        }
        if let limit = configuration.maxTimesSampled, let times = timesSampledBySlot {
            // Each draw may remove an item, which changes the next draw: one at a time.
            while drawn < count, size > 0 {  // max-times-sampled may empty the table mid-batch
                let (slot, weight) = draw()
                keys[drawn] = key(inSlot: slot)
                weights[drawn] = weight
                readItem(slot, index: drawn, into: output, frames: frames)
                drawn += 1
                times[slot] += 1
                if Int(times[slot]) >= limit {
                    remove(slot: slot)
                    stats.removedAfterSampling += 1
                    largestWeight = nil
                }
            }
        } else {
            // All slots first, then all payloads: the copies' cache misses are independent and overlap
            // (interleaved, each waited behind the next draw's walk down the tree). `keys` holds the
            // slots meanwhile.
            for index in 0..<count {
                let (slot, weight) = draw()
                keys[index] = UInt64(slot)
                weights[index] = weight
            }
            for index in 0..<count {
                let slot = Int(keys[index])
                readItem(slot, index: index, into: output, frames: frames)
                keys[index] = key(inSlot: slot)
            }
            drawn = count
        }
        rateLimiter.recordSamples(drawn)
        stats.samples += drawn
        return drawn
    }

    /// The item in `slot` as row `index` of the output: all `itemSize` columns, or packed when `frames` is given.
    @inline(__always) private func readItem(_ slot: Int, index: Int, into output: UnsafeMutablePointer<Float>, frames: UnsafeMutablePointer<UInt8>?) {
        if let frameStore, let frames {
            frameStore.load(slot: slot, floats: payloads + slot * storedFloats, packedFloats: output + index * storedFloats,
                            frames: frames + index * frameStore.blocks.values)
        } else if let frameStore {
            frameStore.load(slot: slot, floats: payloads + slot * storedFloats, into: output + index * itemSize)
        } else {
            (output + index * itemSize).update(from: payloads + slot * itemSize, count: itemSize)
        }
    }

    // MARK: Priorities

    /// Sets new priorities by key; keys no longer in the table are ignored and counted
    /// (`evictedKeyUpdates`), as are keys never issued (`unknownKeyUpdates`). Non-finite or negative
    /// priorities are ignored too (counted as unknown). Returns how many were applied.
    @discardableResult
    public func updatePriorities(keys: [UInt64], priorities newPriorities: [Float]) -> Int {
        precondition(keys.count == newPriorities.count, "one priority per key")
        var applied = 0
        for (key, priority) in zip(keys, newPriorities) {
            guard let slot = slot(ofLiveKey: key) else {
                if key >= 1 && key < nextKey { stats.evictedKeyUpdates += 1 } else { stats.unknownKeyUpdates += 1 }
                continue
            }
            guard priority.isFinite && priority >= 0 else { stats.unknownKeyUpdates += 1; continue }
            priorities.update(slot, priority: priority)
            applied += 1
        }
        return applied
    }

    /// The priority of a live key (nil when absent).
    public func priority(of key: UInt64) -> Double? { slot(ofLiveKey: key).map { Double(priorities[$0]) } }

    /// The payload of a live key (nil when absent).
    public func payload(of key: UInt64) -> [Float]? {
        slot(ofLiveKey: key).map { slot in [Float](unsafeUninitializedCapacity: itemSize) { row, count in readItem(slot, index: 0, into: row.baseAddress!, frames: nil); count = itemSize } }
    }

    /// How often a live key has been sampled; nil when the key is absent, or when the table does not
    /// count samples (no `maxTimesSampled`).
    public func timesSampled(of key: UInt64) -> Int? {
        guard let times = timesSampledBySlot, let slot = slot(ofLiveKey: key) else { return nil }
        return Int(times[slot])
    }

    /// Live keys, oldest first.
    public var keysInInsertionOrder: [UInt64] {
        (oldestPossibleKey..<nextKey).filter { priorities.isOccupied(slot(of: $0)) }
    }

    // MARK: Snapshot

    /// A copy of the table's state (live items oldest first, counters, configuration): cheap to take on
    /// the owning thread (one pass over the slots), then written anywhere with `ReplayTableSnapshot.write(to:)`.
    public func snapshot() -> ReplayTableSnapshot {
        let keys = keysInInsertionOrder
        let n = keys.count
        let width = storedFloats
        var snapshotPriorities = [Float](repeating: 0, count: n)
        var times = [Int32](repeating: 0, count: timesSampledBySlot == nil ? 0 : n)
        let items = [Float](unsafeUninitializedCapacity: n * width) { destination, initialized in
            for (row, key) in keys.enumerated() {
                let slot = slot(of: key)
                (destination.baseAddress! + row * width).initialize(from: payloads + slot * width, count: width)
                snapshotPriorities[row] = priorities[slot]
                if let counts = timesSampledBySlot { times[row] = counts[slot] }
            }
            initialized = n * width
        }
        return ReplayTableSnapshot(configuration: configuration, payloads: items, keys: keys, priorities: snapshotPriorities,
                                   timesSampled: times, nextKey: nextKey, limiterInserts: rateLimiter.inserts,
                                   limiterSamples: rateLimiter.samples, limiterDeletes: rateLimiter.deletes, statistics: statistics,
                                   frames: frameStore?.pool.contents ?? [], frameIDs: frameStore?.chunkIDs(of: keys.map { slot(of: $0) }) ?? [])
    }

    /// Replaces the state with a snapshot's (its configuration must equal this table's, and its keys must
    /// be increasing and among the newest `capacity` before its next key).
    public func load(_ snapshot: ReplayTableSnapshot) throws {
        try snapshot.configuration.checkMatches(configuration)
        let n = snapshot.keys.count
        let expectedTimes = timesSampledBySlot == nil ? 0 : n
        let chunks = snapshot.frames.count / (configuration.frames?.chunkSize ?? 1)
        guard n <= capacity, snapshot.payloads.count == n * storedFloats, snapshot.priorities.count == n, snapshot.timesSampled.count == expectedTimes,
              snapshot.frameIDs.count == n * (configuration.frames?.chunksPerItem ?? 0),
              snapshot.frames.count == chunks * (configuration.frames?.chunkSize ?? 1) else {
            throw ReplayTableError.corruptCheckpoint("\(n) keys with \(snapshot.payloads.count) payload floats, \(snapshot.priorities.count) priorities, "
                + "\(snapshot.timesSampled.count) sample counts, \(snapshot.frameIDs.count) frame ids, \(snapshot.frames.count) frame bytes")
        }
        if let bad = snapshot.frameIDs.firstIndex(where: { $0 < 0 || Int($0) >= chunks }) {
            throw ReplayTableError.corruptCheckpoint("frame id \(snapshot.frameIDs[bad]) (entry \(bad)) is not among the \(chunks) stored frames")
        }
        let next = snapshot.nextKey
        let oldest = next > UInt64(capacity) ? next - UInt64(capacity) : 1
        var previous: UInt64 = 0
        for (row, key) in snapshot.keys.enumerated() {
            guard key > previous, key >= oldest, key < next else {
                throw ReplayTableError.corruptCheckpoint("key \(key) (row \(row)) is not increasing or not among the newest \(capacity) keys before next key \(next)")
            }
            let priority = snapshot.priorities[row]
            guard priority.isFinite && priority >= 0 else { throw ReplayTableError.corruptCheckpoint("key \(key) has priority \(priority)") }
            previous = key
        }
        timesSampledBySlot?.update(repeating: 0, count: capacity)
        nextKey = next
        let width = storedFloats
        frameStore?.restore(contents: snapshot.frames, slots: snapshot.keys.map { slot(of: $0) }, chunkIDs: snapshot.frameIDs)
        priorities.rebuild { leaves in
            snapshot.payloads.withUnsafeBufferPointer { items in
                for (row, key) in snapshot.keys.enumerated() {
                    let slot = slot(of: key)
                    (payloads + slot * width).update(from: items.baseAddress! + row * width, count: width)
                    leaves[slot] = snapshot.priorities[row]
                    if let counts = timesSampledBySlot { counts[slot] = snapshot.timesSampled[row] }
                }
            }
        }
        rateLimiter.setCounters(inserts: snapshot.limiterInserts, samples: snapshot.limiterSamples, deletes: snapshot.limiterDeletes)
        stats = snapshot.statistics
    }
}
