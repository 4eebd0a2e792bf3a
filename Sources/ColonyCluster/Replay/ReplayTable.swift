import ColonyAgents
import ColonyNumerics
import Foundation

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

    public init(capacity: Int, itemSize: Int, selector: ReplaySelector = .prioritized(alpha: 0.6),
                rateLimiter: RateLimiter.Configuration = .unlimited, maxTimesSampled: Int? = nil) {
        self.capacity = capacity
        self.itemSize = itemSize
        self.selector = selector
        self.rateLimiter = rateLimiter
        self.maxTimesSampled = maxTimesSampled
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

/// A replay table: fixed-size items in flat arrays, FIFO eviction at capacity, uniform or
/// proportional-prioritized sampling with replacement, priority updates by key, optional removal after
/// `maxTimesSampled` samples, and a Reverb-style `RateLimiter`.
///
/// Storage is slot-based: `capacity` slots of `itemSize` floats. Keys are UInt64, increasing by one per
/// inserted item. A FIFO of keys gives eviction order; items removed early (max times sampled) leave
/// holes that are skipped. Costs: insert O(B log n), sample O(B log n) prioritized / O(B) uniform,
/// update O(B log n). Not thread-safe: one owner (the server's thread); `snapshot()` copies the state so
/// a checkpoint is written elsewhere.
public final class ReplayTable {
    public let configuration: ReplayTableConfiguration
    public var capacity: Int { configuration.capacity }
    public var itemSize: Int { configuration.itemSize }

    private var payloads: [Float]
    private var slotKeys: [UInt64]
    private var slotPriorities: [Double]
    private var slotTimesSampled: [Int32]
    /// Slot → position in `liveSlots`, −1 when the slot is free.
    private var livePosition: [Int]
    private var liveSlots: [Int] = []
    private var freeSlots: [Int]
    private var keyToSlot: [UInt64: Int] = [:]
    /// Keys in insertion order (may hold removed keys; skipped on eviction). Compacted when mostly stale.
    private var fifo: [UInt64] = []
    private var fifoHead = 0
    private var sumTree: SumTree?
    private var minTree: MinTree?
    public private(set) var nextKey: UInt64 = 1
    public private(set) var rateLimiter: RateLimiter
    private var stats = ReplayTableStatistics()

    public init(_ configuration: ReplayTableConfiguration) throws {
        guard configuration.capacity > 0 else { throw ReplayTableError.invalidConfiguration("capacity must be positive, got \(configuration.capacity)") }
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
        self.configuration = configuration
        rateLimiter = try RateLimiter(configuration.rateLimiter)
        let capacity = configuration.capacity
        payloads = [Float](repeating: 0, count: capacity * configuration.itemSize)
        slotKeys = [UInt64](repeating: 0, count: capacity)
        slotPriorities = [Double](repeating: 0, count: capacity)
        slotTimesSampled = [Int32](repeating: 0, count: capacity)
        livePosition = [Int](repeating: -1, count: capacity)
        freeSlots = Array((0..<capacity).reversed())
        liveSlots.reserveCapacity(capacity)
        keyToSlot.reserveCapacity(capacity)
        if case .prioritized = configuration.selector {
            sumTree = SumTree(capacity: capacity)
            minTree = MinTree(capacity: capacity)
        }
    }

    public var size: Int { liveSlots.count }

    public var statistics: ReplayTableStatistics {
        var result = stats
        result.size = size
        return result
    }

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
    public func insert(payloads batch: [Float], priorities: [Float]) throws -> [UInt64] {
        let count = priorities.count
        guard count > 0 else { return [] }
        guard batch.count == count * itemSize else {
            throw ReplayTableError.badInsert("\(count) priorities need \(count * itemSize) payload floats, got \(batch.count)")
        }
        guard count <= capacity else { throw ReplayTableError.badInsert("batch of \(count) exceeds capacity \(capacity)") }
        if let bad = priorities.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw ReplayTableError.badInsert("priority \(bad) is \(priorities[bad]); priorities must be finite and non-negative")
        }
        guard rateLimiter.canInsert(count) else { throw ReplayTableError.rateLimited("inserting \(count)") }
        var keys: [UInt64] = []
        keys.reserveCapacity(count)
        for row in 0..<count {
            if freeSlots.isEmpty { evictOldest() }
            let slot = freeSlots.removeLast()
            let key = nextKey
            nextKey += 1
            batch.withUnsafeBufferPointer { source in
                payloads.withUnsafeMutableBufferPointer { destination in
                    let from = source.baseAddress! + row * itemSize
                    (destination.baseAddress! + slot * itemSize).update(from: from, count: itemSize)
                }
            }
            occupy(slot: slot, key: key, priority: Double(priorities[row]), timesSampled: 0)
            keys.append(key)
        }
        rateLimiter.recordInserts(count)
        stats.inserts += count
        return keys
    }

    private func occupy(slot: Int, key: UInt64, priority: Double, timesSampled: Int32) {
        slotKeys[slot] = key
        slotTimesSampled[slot] = timesSampled
        livePosition[slot] = liveSlots.count
        liveSlots.append(slot)
        keyToSlot[key] = slot
        fifo.append(key)
        setPriority(slot: slot, priority)
    }

    private func setPriority(slot: Int, _ priority: Double) {
        slotPriorities[slot] = priority
        if case .prioritized(let alpha) = configuration.selector {
            let scaled = priority > 0 ? Foundation.pow(priority, alpha) : 0
            sumTree!.update(slot, priority: scaled)
            minTree!.update(slot, value: scaled > 0 ? scaled : .infinity)
        }
    }

    private func evictOldest() {
        while fifoHead < fifo.count {
            let key = fifo[fifoHead]
            fifoHead += 1
            if let slot = keyToSlot[key] {
                remove(slot: slot)
                stats.evictions += 1
                break
            }
        }
        compactFIFOIfNeeded()
    }

    private func compactFIFOIfNeeded() {
        if fifoHead > 1024 && fifoHead * 2 > fifo.count {
            fifo.removeFirst(fifoHead)
            fifoHead = 0
        }
    }

    private func remove(slot: Int) {
        let key = slotKeys[slot]
        keyToSlot[key] = nil
        let position = livePosition[slot]
        let last = liveSlots.removeLast()
        if last != slot {
            liveSlots[position] = last
            livePosition[last] = position
        }
        livePosition[slot] = -1
        if sumTree != nil {
            sumTree!.update(slot, priority: 0)
            minTree!.update(slot, value: .infinity)
        }
        slotPriorities[slot] = 0
        freeSlots.append(slot)
        rateLimiter.recordDeletes(1)
    }

    // MARK: Sample

    /// Draws `count` items with replacement (each draw independent) and returns their payloads, keys
    /// and importance weights w_i = (N·P(i))^−β / max_j w_j, where max_j w_j = (N·p_min/Σp)^−β over the
    /// live items. With `maxTimesSampled`, an item is removed as soon as it reaches the limit (so later
    /// draws of the same batch do not see it). When all priorities are zero, draws are uniform (weights 1).
    /// Throws when the table is empty or the rate limiter blocks (check `canSample` first).
    public func sample(_ count: Int, beta: Double, rng: inout RandomSource) throws -> ReplaySample {
        precondition(count > 0, "sample count must be positive")
        guard size > 0 else { throw ReplayTableError.empty }
        guard rateLimiter.canSample(count) else { throw ReplayTableError.rateLimited("sampling \(count)") }
        var result = ReplaySample(payloads: [Float](repeating: 0, count: count * itemSize),
                                  keys: [UInt64](repeating: 0, count: count), weights: [Float](repeating: 1, count: count))
        var drawn = 0
        while drawn < count {
            guard size > 0 else { break }  // max-times-sampled emptied the table mid-batch
            let slot: Int
            var weight: Float = 1
            if let sumTree, let minTree, sumTree.total > 0 {
                let total = sumTree.total
                slot = sumTree.find(min(rng.nextDouble() * total, total * (1 - 1e-12)))
                let n = Double(size)
                let maxWeight = Foundation.pow(n * minTree.minimum / total, -beta)
                weight = Float(Foundation.pow(n * sumTree[slot] / total, -beta) / maxWeight)
            } else {
                slot = liveSlots[rng.nextInt(below: liveSlots.count)]
            }
            result.keys[drawn] = slotKeys[slot]
            result.weights[drawn] = weight
            payloads.withUnsafeBufferPointer { source in
                result.payloads.withUnsafeMutableBufferPointer { destination in
                    (destination.baseAddress! + drawn * itemSize).update(from: source.baseAddress! + slot * itemSize, count: itemSize)
                }
            }
            slotTimesSampled[slot] += 1
            drawn += 1
            if let limit = configuration.maxTimesSampled, Int(slotTimesSampled[slot]) >= limit {
                remove(slot: slot)
                stats.removedAfterSampling += 1
            }
        }
        if drawn < count {
            result.payloads.removeLast((count - drawn) * itemSize)
            result.keys.removeLast(count - drawn)
            result.weights.removeLast(count - drawn)
        }
        rateLimiter.recordSamples(drawn)
        stats.samples += drawn
        if configuration.maxTimesSampled != nil { compactFIFOIfNeeded() }
        return result
    }

    // MARK: Priorities

    /// Sets new priorities by key; keys no longer in the table are ignored and counted
    /// (`evictedKeyUpdates`), as are keys never issued (`unknownKeyUpdates`). Non-finite or negative
    /// priorities are ignored too (counted as unknown). Returns how many were applied.
    @discardableResult
    public func updatePriorities(keys: [UInt64], priorities: [Float]) -> Int {
        precondition(keys.count == priorities.count, "one priority per key")
        var applied = 0
        for (key, priority) in zip(keys, priorities) {
            guard let slot = keyToSlot[key] else {
                if key >= 1 && key < nextKey { stats.evictedKeyUpdates += 1 } else { stats.unknownKeyUpdates += 1 }
                continue
            }
            guard priority.isFinite && priority >= 0 else { stats.unknownKeyUpdates += 1; continue }
            setPriority(slot: slot, Double(priority))
            applied += 1
        }
        return applied
    }

    /// The priority of a live key (nil when absent).
    public func priority(of key: UInt64) -> Double? { keyToSlot[key].map { slotPriorities[$0] } }

    /// The payload of a live key (nil when absent).
    public func payload(of key: UInt64) -> [Float]? {
        keyToSlot[key].map { Array(payloads[$0 * itemSize..<($0 + 1) * itemSize]) }
    }

    /// How often a live key has been sampled.
    public func timesSampled(of key: UInt64) -> Int? { keyToSlot[key].map { Int(slotTimesSampled[$0]) } }

    /// Live keys, oldest first.
    public var keysInInsertionOrder: [UInt64] { fifo[fifoHead...].filter { keyToSlot[$0] != nil } }

    // MARK: Snapshot

    /// A copy of the table's state (live items oldest first, counters, configuration): cheap to take on
    /// the owning thread (array copies), then written anywhere with `ReplayTableSnapshot.write(to:)`.
    public func snapshot() -> ReplayTableSnapshot {
        let keys = keysInInsertionOrder
        var items = [Float](repeating: 0, count: keys.count * itemSize)
        var priorities = [Double](repeating: 0, count: keys.count)
        var times = [Int32](repeating: 0, count: keys.count)
        payloads.withUnsafeBufferPointer { source in
            items.withUnsafeMutableBufferPointer { destination in
                for (row, key) in keys.enumerated() {
                    let slot = keyToSlot[key]!
                    (destination.baseAddress! + row * itemSize).update(from: source.baseAddress! + slot * itemSize, count: itemSize)
                    priorities[row] = slotPriorities[slot]
                    times[row] = slotTimesSampled[slot]
                }
            }
        }
        return ReplayTableSnapshot(configuration: configuration, payloads: items, keys: keys, priorities: priorities,
                                   timesSampled: times, nextKey: nextKey, limiterInserts: rateLimiter.inserts,
                                   limiterSamples: rateLimiter.samples, limiterDeletes: rateLimiter.deletes, statistics: statistics)
    }

    /// Replaces the state with a snapshot's (its configuration must equal this table's).
    public func load(_ snapshot: ReplayTableSnapshot) throws {
        try snapshot.configuration.checkMatches(configuration)
        let n = snapshot.keys.count
        guard n <= capacity, snapshot.payloads.count == n * itemSize, snapshot.priorities.count == n, snapshot.timesSampled.count == n else {
            throw ReplayTableError.corruptCheckpoint("\(n) keys with \(snapshot.payloads.count) payload floats, \(snapshot.priorities.count) priorities")
        }
        liveSlots.removeAll(keepingCapacity: true)
        keyToSlot.removeAll(keepingCapacity: true)
        fifo.removeAll()
        fifoHead = 0
        livePosition = [Int](repeating: -1, count: capacity)
        slotPriorities = [Double](repeating: 0, count: capacity)
        if sumTree != nil {
            sumTree = SumTree(capacity: capacity)
            minTree = MinTree(capacity: capacity)
        }
        freeSlots = Array((n..<capacity).reversed())
        payloads.replaceSubrange(0..<n * itemSize, with: snapshot.payloads)
        for row in 0..<n {
            occupy(slot: row, key: snapshot.keys[row], priority: snapshot.priorities[row], timesSampled: snapshot.timesSampled[row])
        }
        nextKey = snapshot.nextKey
        rateLimiter.setCounters(inserts: snapshot.limiterInserts, samples: snapshot.limiterSamples, deletes: snapshot.limiterDeletes)
        stats = snapshot.statistics
    }
}
