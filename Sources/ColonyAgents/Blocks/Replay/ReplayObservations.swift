import ColonyEnvironments
import Foundation

/// The observations (or next observations) of a replay buffer: Floats, or one byte each for a uint8 Box (an image
/// environment's frames, which are 4× smaller so), read back as Floats when a batch is gathered.
struct ReplayObservations {
    let width: Int
    let storesBytes: Bool
    private var floats: [Float]
    private var bytes: [UInt8]

    init(capacity: Int, width: Int, storesBytes: Bool) {
        (self.width, self.storesBytes) = (width, storesBytes)
        floats = storesBytes ? [] : [Float](repeating: 0, count: capacity * width)
        bytes = storesBytes ? [UInt8](repeating: 0, count: capacity * width) : []
    }

    /// Bytes one observation takes.
    static func bytes(width: Int, storesBytes: Bool) -> Int { width * (storesBytes ? 1 : MemoryLayout<Float>.size) }

    mutating func store(_ values: ArraySlice<Float>, at slot: Int) {
        let range = slot * width..<(slot + 1) * width
        guard storesBytes else { return floats.replaceSubrange(range, with: values) }
        bytes.withUnsafeMutableBufferPointer { target in
            // A uint8 space's values are integers in 0…255; the clamp only guards the conversion.
            for (offset, value) in values.enumerated() { target[range.lowerBound + offset] = UInt8(Swift.min(Swift.max(value, 0), 255)) }
        }
    }

    /// The rows at `rows` into `target` (rows × width Floats).
    func gather(_ rows: [Int], into target: inout [Float]) {
        guard storesBytes else { return ReplayBuffer.gather(floats, width: width, rows: rows, into: &target) }
        bytes.withUnsafeBufferPointer { source in
            target.withUnsafeMutableBufferPointer { target in
                for (row, index) in rows.enumerated() {
                    let (from, to) = (source.baseAddress! + index * width, target.baseAddress! + row * width)
                    for offset in 0..<width { to[offset] = Float(from[offset]) }
                }
            }
        }
    }

    func save(to writer: CheckpointWriter, count: Int, _ name: String) throws {
        if storesBytes {
            try writer.write(Array(bytes[0..<count * width]), name)
        } else {
            try writer.write(Array(floats[0..<count * width]), shape: [count, width], name)
        }
    }

    mutating func restore(from reader: CheckpointReader, count: Int, _ name: String) throws {
        guard storesBytes else {
            return floats.replaceSubrange(0..<count * width, with: try reader.floats(name, count: count * width))
        }
        let stored = try reader.bytes(name)
        guard stored.count == count * width else { throw CheckpointError.shapeMismatch(entry: reader.path(name), expected: count * width, found: stored.count) }
        bytes.replaceSubrange(0..<count * width, with: stored)
    }
}

extension Space {
    /// Whether values of this space fit a byte each (a uint8 Box: frames), so replay buffers store them and
    /// trajectories carry them as bytes.
    public var storesAsBytes: Bool {
        if case .box(let box) = self { return box.elementType == .uint8 }
        return false
    }
}
