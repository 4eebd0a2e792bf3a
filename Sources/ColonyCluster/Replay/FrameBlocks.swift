import ColonyAgents

/// Where a replay item's frames sit: blocks of `width` values at `offsets` (an Ape-X transition's observation and next
/// observation of a uint8 space). Inserts and sample replies carry these columns as bytes beside the item's other
/// Floats, a quarter of what they would take as Floats; a table keeps them in a `FramePool`.
public struct FrameBlocks: Sendable, Equatable {
    /// The first column of each block, increasing.
    public var offsets: [Int]
    /// Values in one block.
    public var width: Int

    public init(offsets: [Int], width: Int) {
        (self.offsets, self.width) = (offsets, width)
    }

    /// The observation and next observation of a transition item (observation | action | reward | next | discount).
    public static func transitions(_ layout: TransitionLayout) -> FrameBlocks {
        FrameBlocks(offsets: [0, layout.observationSize + layout.actionSize + 1], width: layout.observationSize)
    }

    /// Frame values in one item.
    public var values: Int { offsets.count * width }

    /// Values of an item of `itemSize` that are not frames.
    public func floatColumns(itemSize: Int) -> Int { itemSize - values }

    /// Nil when the blocks lie in an item of `itemSize`, in order and without overlapping; else why not.
    public func problem(itemSize: Int) -> String? {
        guard width > 0, !offsets.isEmpty else { return "no frame blocks" }
        var end = 0
        for offset in offsets {
            guard offset >= end, offset + width <= itemSize else { return "frame blocks at \(offsets) of \(width) values overlap or pass an item of \(itemSize)" }
            end = offset + width
        }
        return nil
    }

    /// Calls `body(itemColumn, packedColumn, count)` for each run of non-frame columns, in order.
    func forEachFloatRun(itemSize: Int, _ body: (Int, Int, Int) -> Void) {
        var (column, packed) = (0, 0)
        for offset in offsets + [itemSize] {
            if offset > column { body(column, packed, offset - column) }
            packed += offset - column
            column = offset + width
        }
    }

    /// The first frame value of `count` rows of `itemSize` that is not a byte (an integer in 0…255), described; nil
    /// when all are.
    public func byteProblem(_ rows: UnsafeBufferPointer<Float>, count: Int, itemSize: Int) -> String? {
        for row in 0..<count {
            for offset in offsets {
                let block = rows.baseAddress! + row * itemSize + offset
                for index in 0..<width {
                    let value = block[index]
                    guard value >= 0, value <= 255, value.rounded() == value else {
                        return "item \(row) holds \(value) at column \(offset + index), where frames go: observations of a uint8 space are integers in 0…255"
                    }
                }
            }
        }
        return nil
    }

    /// Splits `count` rows of `itemSize` into their other Floats (`floatColumns` a row) and their frames (`values` bytes
    /// a row). Every frame value must be a byte (`byteProblem`).
    public func pack(_ rows: UnsafePointer<Float>, count: Int, itemSize: Int,
                     floats: UnsafeMutablePointer<Float>, frames: UnsafeMutablePointer<UInt8>) {
        let floatsPerRow = floatColumns(itemSize: itemSize)
        for row in 0..<count {
            let (source, packedFloats, packedFrames) = (rows + row * itemSize, floats + row * floatsPerRow, frames + row * values)
            forEachFloatRun(itemSize: itemSize) { column, packed, run in (packedFloats + packed).update(from: source + column, count: run) }
            for (block, offset) in offsets.enumerated() {
                let (from, to) = (source + offset, packedFrames + block * width)
                for index in 0..<width { to[index] = UInt8(from[index]) }
            }
        }
    }

    /// Joins what `pack` split back into `count` rows of `itemSize`.
    public func unpack(floats: UnsafePointer<Float>, frames: UnsafePointer<UInt8>, count: Int, itemSize: Int,
                       into rows: UnsafeMutablePointer<Float>) {
        let floatsPerRow = floatColumns(itemSize: itemSize)
        for row in 0..<count {
            let (target, packedFloats, packedFrames) = (rows + row * itemSize, floats + row * floatsPerRow, frames + row * values)
            forEachFloatRun(itemSize: itemSize) { column, packed, run in (target + column).update(from: packedFloats + packed, count: run) }
            for (block, offset) in offsets.enumerated() {
                let (from, to) = (packedFrames + block * width, target + offset)
                for index in 0..<width { to[index] = Float(from[index]) }
            }
        }
    }
}

