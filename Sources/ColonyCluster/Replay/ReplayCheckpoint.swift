import ColonyStorage
import Foundation

/// A copy of a `ReplayTable`'s state, taken on the table's thread and written on any other
/// (`write(to:)`), so inserts and samples go on while the file is written.
///
/// File layout (HDF5, written atomically): datasets `payloads` f32 [N, item_size], `keys` u64 [N]
/// (oldest first), `priorities` f32 [N], `times_sampled` i32 [N] (only with max_times_sampled; all
/// three absent when N = 0), scalars `count`, `next_key`, `limiter/{inserts,samples,deletes}`, `stats/*`;
/// the configuration as root attributes (`capacity`, `item_size`, `selector`, `alpha`,
/// `samples_per_insert`, `min_size`, `error_buffer`, `max_times_sampled` (0: none), `format` =
/// "colony-replay-2"). Files of format "colony-replay-1" (f64 priorities, times sampled always) are
/// read too. A table with frame columns writes "colony-replay-3": `payloads` holds each item's other floats
/// [N, stored floats], `frame_columns` i64 [width, chunk size, offsets…], `frames` u8 (every chunk once) and
/// `frame_ids` i32 [N × chunks per item].
public struct ReplayTableSnapshot: Sendable, Equatable {
    public static let format = "colony-replay-2"
    public static let framesFormat = "colony-replay-3"
    /// Formats `read` accepts.
    public static let readableFormats: Set<String> = ["colony-replay-1", format, framesFormat]

    public var configuration: ReplayTableConfiguration
    public var payloads: [Float]
    public var keys: [UInt64]
    public var priorities: [Float]
    /// Per key, only when the configuration sets `maxTimesSampled` (empty otherwise).
    public var timesSampled: [Int32]
    public var nextKey: UInt64
    public var limiterInserts: Int
    public var limiterSamples: Int
    public var limiterDeletes: Int
    public var statistics: ReplayTableStatistics
    /// Frame columns only: the pool's chunks (each once) and, per key, its chunk ids.
    public var frames: [UInt8] = []
    public var frameIDs: [Int32] = []
    /// Items `read` left out because their payload held NaN or ±inf (a forged insert that reached
    /// the file); zero for a snapshot taken from a table.
    public var droppedItems = 0

    public func write(to path: String) throws {
        let config = configuration
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", config.frames == nil ? Self.format : Self.framesFormat)
            try file.setAttribute("capacity", Int64(config.capacity))
            try file.setAttribute("item_size", Int64(config.itemSize))
            try file.setAttribute("selector", config.selector.name)
            try file.setAttribute("alpha", config.selector.alpha)
            try file.setAttribute("samples_per_insert", config.rateLimiter.samplesPerInsert)
            try file.setAttribute("min_size", Int64(config.rateLimiter.minSize))
            try file.setAttribute("error_buffer", config.rateLimiter.errorBuffer)
            try file.setAttribute("max_times_sampled", Int64(config.maxTimesSampled ?? 0))
            let n = keys.count
            try file.writeScalar(Int64(n), at: "count")
            if let columns = config.frames {
                try file.write([Int64(columns.width), Int64(columns.chunkSize)] + columns.offsets.map(Int64.init), at: "frame_columns")
                try file.write(frames, at: "frames")
            }
            if n > 0 {
                try file.write(payloads, shape: [n, config.storedFloats], at: "payloads")
                if config.frames != nil { try file.write(frameIDs, at: "frame_ids") }
                try file.write(keys, at: "keys")
                try file.write(priorities, at: "priorities")
                if config.maxTimesSampled != nil { try file.write(timesSampled, at: "times_sampled") }
            }
            try file.writeScalar(nextKey, at: "next_key")
            try file.writeScalar(Int64(limiterInserts), at: "limiter/inserts")
            try file.writeScalar(Int64(limiterSamples), at: "limiter/samples")
            try file.writeScalar(Int64(limiterDeletes), at: "limiter/deletes")
            let s = statistics
            let counters: [(String, Int)] = [
                ("inserts", s.inserts), ("samples", s.samples), ("evictions", s.evictions),
                ("removed_after_sampling", s.removedAfterSampling), ("evicted_key_updates", s.evictedKeyUpdates),
                ("unknown_key_updates", s.unknownKeyUpdates), ("insert_waits", s.insertWaits), ("sample_waits", s.sampleWaits),
            ]
            for (name, value) in counters { try file.writeScalar(Int64(value), at: "stats/\(name)") }
        }
    }

    /// Reads a checkpoint's configuration only.
    public static func readConfiguration(_ file: HDF5File) throws -> ReplayTableConfiguration {
        let format = try file.stringAttribute("format")
        guard Self.readableFormats.contains(format) else {
            throw ReplayTableError.corruptCheckpoint("format is \(format), expected \(Self.readableFormats.sorted().joined(separator: " or "))")
        }
        let selectorName = try file.stringAttribute("selector")
        let alpha = try file.attribute("alpha", as: Double.self)
        let selector: ReplaySelector
        switch selectorName {
        case "uniform": selector = .uniform
        case "prioritized": selector = .prioritized(alpha: alpha)
        default: throw ReplayTableError.corruptCheckpoint("unknown selector \(selectorName)")
        }
        let maxTimes = Int(try file.attribute("max_times_sampled", as: Int64.self))
        var frames: ReplayFrameColumns?
        if file.contains("frame_columns") {
            let values = try file.read(Int64.self, at: "frame_columns").values
            guard values.count >= 3, values.allSatisfy({ (0...Int64(Int32.max)).contains($0) }) else {
                throw ReplayTableError.corruptCheckpoint("frame_columns holds \(values), expected width, chunk size and offsets")
            }
            frames = ReplayFrameColumns(offsets: values.dropFirst(2).map { Int($0) }, width: Int(values[0]), chunkSize: Int(values[1]))
        }
        return ReplayTableConfiguration(
            capacity: Int(try file.attribute("capacity", as: Int64.self)),
            itemSize: Int(try file.attribute("item_size", as: Int64.self)),
            selector: selector,
            rateLimiter: .init(samplesPerInsert: try file.attribute("samples_per_insert", as: Double.self),
                               minSize: Int(try file.attribute("min_size", as: Int64.self)),
                               errorBuffer: try file.attribute("error_buffer", as: Double.self)),
            maxTimesSampled: maxTimes == 0 ? nil : maxTimes, frames: frames)
    }

    /// Reads a checkpoint; when `expecting` is given, a configuration that differs throws before the
    /// data is read, naming the first field that differs.
    public static func read(from path: String, expecting: ReplayTableConfiguration? = nil) throws -> ReplayTableSnapshot {
        let file = try HDF5File.open(path)
        defer { file.close() }
        let configuration = try readConfiguration(file)
        if let expecting { try configuration.checkMatches(expecting) }
        // Every number below comes from the file: counts are checked against the table's capacity
        // before any arithmetic, so a damaged or edited file is one error naming it, never a trap.
        func counter(at object: String, atMost limit: Int64 = Int64(1) << 53) throws -> Int {
            let value = try file.readScalar(Int64.self, at: object)
            guard (0...limit).contains(value) else {
                throw ReplayTableError.corruptCheckpoint("\(path): '\(object)' is \(value), outside 0...\(limit); delete the file to start with an empty table")
            }
            return Int(value)
        }
        guard configuration.capacity > 0, configuration.itemSize > 0, configuration.itemSize <= Int(Int32.max) else {
            throw ReplayTableError.corruptCheckpoint("\(path): capacity \(configuration.capacity) or item size \(configuration.itemSize) is impossible")
        }
        if let problem = configuration.frames?.problem(itemSize: configuration.itemSize) { throw ReplayTableError.corruptCheckpoint("\(path): \(problem)") }
        let n = try counter(at: "count", atMost: Int64(configuration.capacity))
        let countsSamples = configuration.maxTimesSampled != nil
        var payloads: [Float] = [], keys: [UInt64] = [], priorities: [Float] = [], times: [Int32] = [], frameIDs: [Int32] = []
        let frames = configuration.frames == nil ? [] : try file.read(UInt8.self, at: "frames").values
        if n > 0 {
            payloads = try file.read(Float.self, at: "payloads").values
            if configuration.frames != nil { frameIDs = try file.read(Int32.self, at: "frame_ids").values }
            keys = try file.read(UInt64.self, at: "keys").values
            priorities = try file.read(Float.self, at: "priorities", convertingFrom: [Double.self]).values  // format 1 stored f64
            if countsSamples { times = try file.read(Int32.self, at: "times_sampled").values }
        }
        let chunksPerItem = configuration.frames?.chunksPerItem ?? 0
        guard keys.count == n, payloads.count == n * configuration.storedFloats, priorities.count == n, times.count == (countsSamples ? n : 0),
              frameIDs.count == n * chunksPerItem else {
            throw ReplayTableError.corruptCheckpoint("\(path): count \(n) disagrees with the stored arrays")
        }
        let dropped = Self.dropNonFiniteItems(itemSize: configuration.storedFloats, chunksPerItem: chunksPerItem, &payloads, &keys, &priorities, &times, &frameIDs)
        func counter(_ name: String) throws -> Int { try counter(at: "stats/\(name)") }
        var stats = ReplayTableStatistics()
        stats.inserts = try counter("inserts")
        stats.samples = try counter("samples")
        stats.evictions = try counter("evictions")
        stats.removedAfterSampling = try counter("removed_after_sampling")
        stats.evictedKeyUpdates = try counter("evicted_key_updates")
        stats.unknownKeyUpdates = try counter("unknown_key_updates")
        stats.insertWaits = try counter("insert_waits")
        stats.sampleWaits = try counter("sample_waits")
        stats.size = keys.count
        return ReplayTableSnapshot(
            configuration: configuration, payloads: payloads, keys: keys, priorities: priorities, timesSampled: times,
            nextKey: try file.readScalar(UInt64.self, at: "next_key"),
            limiterInserts: try counter(at: "limiter/inserts"),
            limiterSamples: try counter(at: "limiter/samples"),
            limiterDeletes: try counter(at: "limiter/deletes"),
            statistics: stats, frames: frames, frameIDs: frameIDs, droppedItems: dropped)
    }

    /// Removes the items whose payload holds NaN or ±inf (they would poison every batch that
    /// samples them); returns how many it removed.
    private static func dropNonFiniteItems(itemSize: Int, chunksPerItem: Int, _ payloads: inout [Float], _ keys: inout [UInt64], _ priorities: inout [Float],
                                           _ times: inout [Int32], _ frameIDs: inout [Int32]) -> Int {
        let bad = keys.indices.filter { row in !payloads[(row * itemSize)..<((row + 1) * itemSize)].allSatisfy(\.isFinite) }
        guard !bad.isEmpty else { return 0 }
        let badRows = Set(bad)
        let kept = keys.indices.filter { !badRows.contains($0) }
        payloads = kept.flatMap { payloads[($0 * itemSize)..<(($0 + 1) * itemSize)] }
        keys = kept.map { keys[$0] }
        priorities = kept.map { priorities[$0] }
        if !times.isEmpty { times = kept.map { times[$0] } }
        if chunksPerItem > 0 { frameIDs = kept.flatMap { frameIDs[($0 * chunksPerItem)..<(($0 + 1) * chunksPerItem)] } }
        return bad.count
    }
}

extension ReplayTableConfiguration {
    /// Throws `configurationMismatch` naming the first field where `self` (from a file) differs from `table`.
    func checkMatches(_ table: ReplayTableConfiguration) throws {
        func check<T: Equatable>(_ field: String, _ file: T, _ mine: T) throws {
            if file != mine { throw ReplayTableError.configurationMismatch(field: field, file: "\(file)", table: "\(mine)") }
        }
        try check("capacity", capacity, table.capacity)
        try check("item_size", itemSize, table.itemSize)
        try check("selector", selector.name, table.selector.name)
        try check("alpha", selector.alpha, table.selector.alpha)
        try check("samples_per_insert", rateLimiter.samplesPerInsert, table.rateLimiter.samplesPerInsert)
        try check("min_size", rateLimiter.minSize, table.rateLimiter.minSize)
        try check("error_buffer", rateLimiter.errorBuffer, table.rateLimiter.errorBuffer)
        try check("max_times_sampled", maxTimesSampled.map(String.init) ?? "none", table.maxTimesSampled.map(String.init) ?? "none")
        func describe(_ columns: ReplayFrameColumns?) -> String {
            columns.map { "\($0.width) values at \($0.offsets) in chunks of \($0.chunkSize)" } ?? "none"
        }
        try check("frames", describe(frames), describe(table.frames))
    }
}

extension ReplayTable {
    /// Writes the table to `path` now, on this thread (snapshot, then write). A server calls
    /// `snapshot()` on its thread and `write(to:)` on another instead.
    public func checkpoint(to path: String) throws {
        try snapshot().write(to: path)
    }

    /// Replaces the state with the checkpoint at `path`; throws at once, naming the field, when the
    /// file's configuration differs from this table's.
    /// Returns how many items the file held with non-finite payloads (left out; the caller reports them).
    @discardableResult
    public func restore(from path: String) throws -> Int {
        let snapshot = try ReplayTableSnapshot.read(from: path, expecting: configuration)
        do { try load(snapshot) } catch let error as ReplayTableError { throw ReplayTableError.corruptCheckpoint("\(path): \(error)") }
        return snapshot.droppedItems
    }
}
