import ColonyAgents

/// The columns of a replay item that hold frames (observations of a uint8 space: an Ape-X transition's observation
/// and next observation), which a `ReplayTable` keeps as bytes with each chunk (a channel plane) stored once.
public struct ReplayFrameColumns: Sendable, Equatable {
    /// The first column of each frame block, increasing.
    public var offsets: [Int]
    /// Values in one block (one observation).
    public var width: Int
    /// Values in one chunk stored once (`Space.replayChunkSize`); divides `width`.
    public var chunkSize: Int

    public init(offsets: [Int], width: Int, chunkSize: Int) {
        (self.offsets, self.width, self.chunkSize) = (offsets, width, chunkSize)
    }

    /// The observation and next observation of a transition item (observation | action | reward | next | discount).
    public static func transitions(_ layout: TransitionLayout, chunkSize: Int) -> ReplayFrameColumns {
        let blocks = FrameBlocks.transitions(layout)
        return ReplayFrameColumns(offsets: blocks.offsets, width: blocks.width, chunkSize: chunkSize)
    }

    /// Where the frames sit, as inserts and sample replies carry them.
    public var blocks: FrameBlocks { FrameBlocks(offsets: offsets, width: width) }

    /// Chunk ids a slot holds.
    public var chunksPerItem: Int { offsets.count * (width / chunkSize) }

    /// Floats of an item of `itemSize` that are not frames.
    public func floatColumns(itemSize: Int) -> Int { blocks.floatColumns(itemSize: itemSize) }

    /// Nil when the blocks fit an item of `itemSize` without overlapping and whole chunks fill a block; else why not.
    func problem(itemSize: Int) -> String? {
        guard width > 0, chunkSize > 0, width % chunkSize == 0 else { return "frame blocks of \(width) values cannot be cut into chunks of \(chunkSize)" }
        return blocks.problem(itemSize: itemSize)
    }
}

/// The frames of a `ReplayTable`'s slots: per slot the ids of its chunks in a `FramePool`, each chunk's bytes once.
/// Owned by the table (one thread).
final class ReplayFrameStore {
    let columns: ReplayFrameColumns
    let blocks: FrameBlocks
    let itemSize: Int
    /// Floats a slot keeps besides its frames.
    let storedFloats: Int
    let pool: FramePool
    /// capacity × chunksPerItem ids; −1 for an empty slot.
    private var ids: [Int32]
    private var staging: [UInt8]

    init(columns: ReplayFrameColumns, itemSize: Int, capacity: Int) {
        (self.columns, self.itemSize, blocks) = (columns, itemSize, columns.blocks)
        storedFloats = columns.floatColumns(itemSize: itemSize)
        pool = FramePool(chunkSize: columns.chunkSize)
        ids = [Int32](repeating: -1, count: capacity * columns.chunksPerItem)
        staging = [UInt8](repeating: 0, count: columns.blocks.values)
    }

    /// Throws unless every frame value of `rows` items is a byte (an integer in 0…255), before anything is stored.
    func validate(_ rows: UnsafeBufferPointer<Float>, count: Int) throws {
        if let problem = blocks.byteProblem(rows, count: count, itemSize: itemSize) { throw ReplayTableError.badInsert(problem) }
    }

    /// Stores a whole-Float `row`'s frames for `slot` (whose earlier chunks are released) and its other values into `floats`.
    func store(_ row: UnsafePointer<Float>, slot: Int, floats: UnsafeMutablePointer<Float>) {
        staging.withUnsafeMutableBufferPointer { frames in
            blocks.pack(row, count: 1, itemSize: itemSize, floats: floats, frames: frames.baseAddress!)
            storeFrames(frames.baseAddress!, slot: slot)
        }
    }

    /// Stores a packed row (its other values in `packedFloats`, its frames as bytes) for `slot`.
    func store(packedFloats: UnsafePointer<Float>, frames: UnsafePointer<UInt8>, slot: Int, floats: UnsafeMutablePointer<Float>) {
        floats.update(from: packedFloats, count: storedFloats)
        storeFrames(frames, slot: slot)
    }

    /// Interns one item's frames (`blocks.values` bytes) as `slot`'s chunks, releasing those it held.
    private func storeFrames(_ frames: UnsafePointer<UInt8>, slot: Int) {
        for chunk in 0..<columns.chunksPerItem {
            let position = slot * columns.chunksPerItem + chunk
            let id = pool.intern(frames + chunk * columns.chunkSize)
            if ids[position] >= 0 { pool.release(ids[position]) }
            ids[position] = id
        }
    }

    /// `slot`'s item as whole Floats: its other values from `floats`, its frames from the pool.
    func load(slot: Int, floats: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
        staging.withUnsafeMutableBufferPointer { frames in
            loadFrames(slot: slot, into: frames.baseAddress!)
            blocks.unpack(floats: floats, frames: frames.baseAddress!, count: 1, itemSize: itemSize, into: row)
        }
    }

    /// `slot`'s item packed: its other values into `packedFloats`, its frames as bytes into `frames`.
    func load(slot: Int, floats: UnsafePointer<Float>, packedFloats: UnsafeMutablePointer<Float>, frames: UnsafeMutablePointer<UInt8>) {
        packedFloats.update(from: floats, count: storedFloats)
        loadFrames(slot: slot, into: frames)
    }

    private func loadFrames(slot: Int, into frames: UnsafeMutablePointer<UInt8>) {
        for chunk in 0..<columns.chunksPerItem {
            (frames + chunk * columns.chunkSize).update(from: pool.chunk(ids[slot * columns.chunksPerItem + chunk]), count: columns.chunkSize)
        }
    }

    /// Frees `slot`'s chunks (a removed item).
    func release(slot: Int) {
        for position in (slot * columns.chunksPerItem)..<((slot + 1) * columns.chunksPerItem) where ids[position] >= 0 {
            pool.release(ids[position])
            ids[position] = -1
        }
    }

    /// The chunk ids of `slots`, in order.
    func chunkIDs(of slots: [Int]) -> [Int32] {
        slots.flatMap { ids[($0 * columns.chunksPerItem)..<(($0 + 1) * columns.chunksPerItem)] }
    }

    /// Replaces everything: the pool's chunks and, for each of `slots` in order, its ids (`chunksPerItem` each, every
    /// id below the chunk count; checked by the caller).
    func restore(contents: [UInt8], slots: [Int], chunkIDs: [Int32]) {
        var counts = [Int32](repeating: 0, count: contents.count / columns.chunkSize)
        for id in chunkIDs { counts[Int(id)] += 1 }
        pool.restore(contents: contents, referenceCounts: counts)
        ids.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
        let perItem = columns.chunksPerItem
        for (row, slot) in slots.enumerated() {
            ids.replaceSubrange((slot * perItem)..<((slot + 1) * perItem), with: chunkIDs[(row * perItem)..<((row + 1) * perItem)])
        }
    }
}
