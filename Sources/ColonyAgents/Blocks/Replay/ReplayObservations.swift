import ColonyEnvironments
import ColonyNumerics
import Foundation

/// The observations (or next observations) of a replay buffer: Floats, or, for a uint8 Box (an image environment's
/// frames), chunk ids into a `FramePool` that both columns share, so each frame is stored once as bytes. Read back as
/// Floats when a batch is gathered.
struct ReplayObservations {
    let width: Int
    /// The shared chunks, nil for Floats.
    let frames: FramePool?
    private var floats: [Float]
    /// Per slot, the ids of its `chunksPerRow` chunks (−1: empty slot).
    private var chunkIDs: [Int32]
    private let chunksPerRow: Int
    /// One row's bytes on the way into the pool.
    private var staging: [UInt8]

    init(capacity: Int, width: Int, frames: FramePool?) {
        (self.width, self.frames) = (width, frames)
        chunksPerRow = frames.map { width / $0.chunkSize } ?? 0
        precondition(frames.map { width % $0.chunkSize == 0 } ?? true, "ReplayObservations: rows of \(width) bytes in chunks of \(frames!.chunkSize)")
        floats = frames == nil ? [Float](repeating: 0, count: capacity * width) : []
        chunkIDs = frames == nil ? [] : [Int32](repeating: -1, count: capacity * chunksPerRow)
        staging = frames == nil ? [] : [UInt8](repeating: 0, count: width)
    }

    mutating func store(_ values: ArraySlice<Float>, at slot: Int) {
        guard let frames else { return floats.replaceSubrange(slot * width..<(slot + 1) * width, with: values) }
        staging.withUnsafeMutableBufferPointer { target in
            // A uint8 space's values are integers in 0…255; the clamp only guards the conversion.
            for (offset, value) in values.enumerated() { target[offset] = UInt8(Swift.min(Swift.max(value, 0), 255)) }
        }
        staging.withUnsafeBufferPointer { row in
            for chunk in 0..<chunksPerRow {
                let index = slot * chunksPerRow + chunk
                let id = frames.intern(row.baseAddress! + chunk * frames.chunkSize)
                // Interned before the old chunk is released: an unchanged chunk keeps its id and bytes.
                if chunkIDs[index] >= 0 { frames.release(chunkIDs[index]) }
                chunkIDs[index] = id
            }
        }
    }

    /// The rows at `rows` into `target` (rows × width Floats).
    func gather(_ rows: [Int], into target: inout [Float]) {
        guard let frames else { return ReplayBuffer.gather(floats, width: width, rows: rows, into: &target) }
        let size = frames.chunkSize
        target.withUnsafeMutableBufferPointer { target in
            for (row, index) in rows.enumerated() {
                for chunk in 0..<chunksPerRow {
                    let (from, to) = (frames.chunk(chunkIDs[index * chunksPerRow + chunk]), target.baseAddress! + row * width + chunk * size)
                    for offset in 0..<size { to[offset] = Float(from[offset]) }
                }
            }
        }
    }

    /// Floats as `name`; frames as `name_frames`, the chunk ids of the first `count` slots (the pool is saved once).
    func save(to writer: CheckpointWriter, count: Int, _ name: String) throws {
        if frames != nil {
            try writer.write(chunkIDs[0..<count * chunksPerRow].map(Int.init), name + "_frames")
        } else {
            try writer.write(Array(floats[0..<count * width]), shape: [count, width], name)
        }
    }

    /// The chunk ids a checkpoint holds for `count` slots, each checked against the pool's `allocated` chunks.
    func storedChunkIDs(from reader: CheckpointReader, count: Int, _ name: String, allocated: Int) throws -> [Int32] {
        let ids = try reader.indices(name + "_frames", below: Swift.max(allocated, 1))
        guard ids.count == count * chunksPerRow else {
            throw CheckpointError.shapeMismatch(entry: reader.path(name + "_frames"), expected: count * chunksPerRow, found: ids.count)
        }
        return ids.map { Int32($0) }
    }

    mutating func restore(from reader: CheckpointReader, count: Int, _ name: String) throws {
        guard frames == nil else { preconditionFailure("ReplayObservations: frames are restored with their pool (restoreFrames)") }
        floats.replaceSubrange(0..<count * width, with: try reader.floats(name, count: count * width))
    }

    /// Sets the first slots' chunk ids (already counted in the pool's references).
    mutating func setChunkIDs(_ ids: [Int32]) {
        chunkIDs.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
        chunkIDs.replaceSubrange(0..<ids.count, with: ids)
    }

    /// Bytes one observation adds on average at most: its Floats, or (frames) its bytes once plus its chunk ids.
    static func bytes(width: Int, chunkSize: Int?) -> Int {
        guard let chunkSize else { return width * MemoryLayout<Float>.size }
        return width + width / chunkSize * MemoryLayout<Int32>.size
    }
}

extension Space {
    /// Whether values of this space fit a byte each (a uint8 Box: frames), so replay buffers store them and
    /// trajectories carry them as bytes.
    public var storesAsBytes: Bool {
        if case .box(let box) = self { return box.elementType == .uint8 }
        return false
    }

    /// The bytes a replay buffer stores once and shares between observations: one channel plane (H × W) of a
    /// channel-first image, so stacked frames are stored once each; the whole observation otherwise. Nil unless
    /// `storesAsBytes`.
    public var replayChunkSize: Int? {
        guard storesAsBytes, case .box(let box) = self else { return nil }
        if let (_, layout) = ImageLayout.of(shape: box.shape), layout == .channelsFirst, box.shape.count == 3 { return box.shape[1] * box.shape[2] }
        return box.elementCount
    }
}
