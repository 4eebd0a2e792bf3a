/// Byte chunks of equal size (an image's channel planes, or whole observations) stored once however many replay
/// slots hold them: a transition's next observation is the following transition's observation, and with a stack of
/// k frames k consecutive observations share each frame, so an Atari transition (4 × 84 × 84) costs one 7 KB plane
/// instead of two 28 KB stacks (Dopamine stores frames once the same way, knowing the stack; this finds it by content).
///
/// Each chunk has a reference count; `intern` returns the id of an identical live chunk (content hash, then a byte
/// comparison) or copies the bytes into a free one, `release` frees a chunk no slot holds any more. Memory grows in
/// blocks of about 4 MB up to the largest number of chunks live at once. Not thread-safe: one owner.
public final class FramePool {
    public let chunkSize: Int
    private let chunksPerBlock: Int
    private var blocks: [UnsafeMutablePointer<UInt8>] = []
    private var references: [Int32] = []
    private var hashes: [UInt64] = []
    /// The next chunk with the same hash (−1: none), heads in `table`.
    private var chains: [Int32] = []
    private var table: [UInt64: Int32] = [:]
    private var free: [Int32] = []

    public init(chunkSize: Int) {
        precondition(chunkSize > 0, "FramePool: chunks of \(chunkSize) bytes")
        self.chunkSize = chunkSize
        chunksPerBlock = Swift.max(1, (1 << 22) / chunkSize)
    }

    deinit { for block in blocks { block.deallocate() } }

    /// Chunks ever allocated (live or free): the ids lie in 0..<allocated.
    public var allocated: Int { references.count }
    /// Chunks some slot holds.
    public var live: Int { references.count - free.count }

    public func chunk(_ id: Int32) -> UnsafeMutablePointer<UInt8> {
        let index = Int(id)
        return blocks[index / chunksPerBlock] + (index % chunksPerBlock) * chunkSize
    }

    /// The id of a chunk holding `bytes` (`chunkSize` of them), its reference count raised by one.
    public func intern(_ bytes: UnsafePointer<UInt8>) -> Int32 {
        let hash = Self.hash(bytes, count: chunkSize)
        var candidate = table[hash] ?? -1
        while candidate >= 0 {
            if memcmp(chunk(candidate), bytes, chunkSize) == 0 {
                references[Int(candidate)] += 1
                return candidate
            }
            candidate = chains[Int(candidate)]
        }
        let id = free.popLast() ?? newChunk()
        chunk(id).update(from: bytes, count: chunkSize)
        references[Int(id)] = 1
        hashes[Int(id)] = hash
        chains[Int(id)] = table[hash] ?? -1
        table[hash] = id
        return id
    }

    /// Drops one reference; a chunk nothing holds becomes free.
    public func release(_ id: Int32) {
        let index = Int(id)
        precondition(references[index] > 0, "FramePool: chunk \(id) released more often than held")
        references[index] -= 1
        guard references[index] == 0 else { return }
        let hash = hashes[index]
        if table[hash] == id {
            table[hash] = chains[index] >= 0 ? chains[index] : nil
        } else {
            var previous = table[hash]!
            while chains[Int(previous)] != id { previous = chains[Int(previous)] }
            chains[Int(previous)] = chains[index]
        }
        free.append(id)
    }

    private func newChunk() -> Int32 {
        let id = references.count
        precondition(id < Int(Int32.max), "FramePool: more than 2³¹ chunks")
        if id / chunksPerBlock == blocks.count { blocks.append(.allocate(capacity: chunksPerBlock * chunkSize)) }
        references.append(0)
        hashes.append(0)
        chains.append(-1)
        return Int32(id)
    }

    /// Every chunk's bytes in id order (free ones too): with the slots' ids, what a checkpoint needs.
    public var contents: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(allocated * chunkSize)
        for id in 0..<allocated { bytes.append(contentsOf: UnsafeBufferPointer(start: chunk(Int32(id)), count: chunkSize)) }
        return bytes
    }

    /// Replaces everything with `contents` (whole chunks in id order) and `referenceCounts` (one per chunk; 0: free).
    public func restore(contents: [UInt8], referenceCounts: [Int32]) {
        precondition(contents.count == referenceCounts.count * chunkSize, "FramePool.restore: sizes")
        for block in blocks { block.deallocate() }
        (blocks, references, hashes, chains, table, free) = ([], [], [], [], [:], [])
        contents.withUnsafeBufferPointer { source in
            for (index, count) in referenceCounts.enumerated() {
                let id = newChunk()
                chunk(id).update(from: source.baseAddress! + index * chunkSize, count: chunkSize)
                references[index] = count
                guard count > 0 else { continue }
                let hash = Self.hash(chunk(id), count: chunkSize)
                hashes[index] = hash
                chains[index] = table[hash] ?? -1
                table[hash] = id
            }
        }
        free = referenceCounts.indices.reversed().filter { referenceCounts[$0] == 0 }.map(Int32.init)
    }

    /// A 64-bit hash of `count` bytes, eight at a time (a multiply–rotate mix; collisions are settled by comparison).
    static func hash(_ bytes: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        let words = count / 8
        let raw = UnsafeRawPointer(bytes)
        for index in 0..<words {
            let word = raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
            state = (state ^ word) &* 0xFF51_AFD7_ED55_8CCD
            state = (state << 29) | (state >> 35)
        }
        for index in (words * 8)..<count { state = (state ^ UInt64(bytes[index])) &* 0xC4CE_B9FE_1A85_EC53 }
        return state ^ (state >> 32)
    }
}

import Foundation
