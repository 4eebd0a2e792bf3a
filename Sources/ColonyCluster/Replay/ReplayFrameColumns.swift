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
        ReplayFrameColumns(offsets: [0, layout.observationSize + layout.actionSize + 1], width: layout.observationSize, chunkSize: chunkSize)
    }

    /// Chunk ids a slot holds.
    public var chunksPerItem: Int { offsets.count * (width / chunkSize) }

    /// Floats of an item of `itemSize` that are not frames.
    public func floatColumns(itemSize: Int) -> Int { itemSize - offsets.count * width }

    /// Nil when the blocks fit an item of `itemSize` without overlapping and whole chunks fill a block; else why not.
    func problem(itemSize: Int) -> String? {
        guard width > 0, chunkSize > 0, width % chunkSize == 0 else { return "frame blocks of \(width) values cannot be cut into chunks of \(chunkSize)" }
        var end = 0
        for offset in offsets {
            guard offset >= end, offset + width <= itemSize else { return "frame blocks at \(offsets) of \(width) values overlap or pass an item of \(itemSize)" }
            end = offset + width
        }
        return offsets.isEmpty ? "no frame blocks" : nil
    }

    /// Calls `body(itemColumn, storedColumn, count)` for each run of non-frame columns, in order.
    func forEachFloatRun(itemSize: Int, _ body: (Int, Int, Int) -> Void) {
        var (column, stored) = (0, 0)
        for offset in offsets + [itemSize] {
            if offset > column { body(column, stored, offset - column) }
            stored += offset - column
            column = offset + width
        }
    }
}

/// The frames of a `ReplayTable`'s slots: per slot the ids of its chunks in a `FramePool`, each chunk's bytes once.
/// Owned by the table (one thread).
final class ReplayFrameStore {
    let columns: ReplayFrameColumns
    let itemSize: Int
    let pool: FramePool
    /// capacity × chunksPerItem ids; −1 for an empty slot.
    private var ids: [Int32]
    private var staging: [UInt8]

    init(columns: ReplayFrameColumns, itemSize: Int, capacity: Int) {
        (self.columns, self.itemSize) = (columns, itemSize)
        pool = FramePool(chunkSize: columns.chunkSize)
        ids = [Int32](repeating: -1, count: capacity * columns.chunksPerItem)
        staging = [UInt8](repeating: 0, count: columns.chunkSize)
    }

    /// Throws unless every frame value of `rows` items is a byte (an integer in 0…255), before anything is stored.
    func validate(_ rows: UnsafeBufferPointer<Float>, count: Int) throws {
        for row in 0..<count {
            for offset in columns.offsets {
                let block = rows.baseAddress! + row * itemSize + offset
                for index in 0..<columns.width {
                    let value = block[index]
                    guard value >= 0, value <= 255, value.rounded() == value else {
                        throw ReplayTableError.badInsert("item \(row) holds \(value) at column \(offset + index), where this table keeps frames: "
                            + "observations of a uint8 space are integers in 0…255")
                    }
                }
            }
        }
    }

    /// Stores `row`'s frames for `slot` (the chunks it held before released) and its other values into `floats`.
    func store(_ row: UnsafePointer<Float>, slot: Int, floats: UnsafeMutablePointer<Float>) {
        columns.forEachFloatRun(itemSize: itemSize) { column, stored, count in (floats + stored).update(from: row + column, count: count) }
        let (size, perBlock) = (columns.chunkSize, columns.width / columns.chunkSize)
        staging.withUnsafeMutableBufferPointer { bytes in
            for (block, offset) in columns.offsets.enumerated() {
                for chunk in 0..<perBlock {
                    let source = row + offset + chunk * size
                    for index in 0..<size { bytes[index] = UInt8(source[index]) }
                    let position = slot * columns.chunksPerItem + block * perBlock + chunk
                    let id = pool.intern(bytes.baseAddress!)
                    if ids[position] >= 0 { pool.release(ids[position]) }
                    ids[position] = id
                }
            }
        }
    }

    /// `slot`'s item: its other values from `floats`, its frames from the pool.
    func load(slot: Int, floats: UnsafePointer<Float>, into row: UnsafeMutablePointer<Float>) {
        columns.forEachFloatRun(itemSize: itemSize) { column, stored, count in (row + column).update(from: floats + stored, count: count) }
        let (size, perBlock) = (columns.chunkSize, columns.width / columns.chunkSize)
        for (block, offset) in columns.offsets.enumerated() {
            for chunk in 0..<perBlock {
                let bytes = pool.chunk(ids[slot * columns.chunksPerItem + block * perBlock + chunk])
                let target = row + offset + chunk * size
                for index in 0..<size { target[index] = Float(bytes[index]) }
            }
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
