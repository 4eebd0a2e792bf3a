import Foundation

/// Priorities of a fixed number of slots, for proportional sampling with little memory per slot.
///
/// Each slot holds its raw priority as one `Float` leaf (a negative leaf marks an empty slot). Leaves
/// are grouped in blocks of b slots (a power of two); a binary tree over the blocks keeps, per subtree, the sum of the
/// weights w = p^α of its positive leaves (Double, so sums over many blocks stay exact enough), the
/// smallest positive leaf (for importance-weight normalisation) and the number of occupied slots (for
/// uniform draws). A block's figures are recomputed from its leaves when a slot is filled or emptied,
/// adjusted by the difference when a positive priority changes (a few Double ulps of drift per update,
/// reset whenever the block is recomputed), and every tree node is recomputed from its children.
///
/// Memory: 4 bytes per slot plus 16 bytes per tree node, two nodes per block (up to four when the
/// block count is just past a power of two): 6 to 8 bytes per slot with b = 16 (the replay server's
/// table, where memory per item counts), 36 to 68 with b = 1 (single-process replay, where the
/// buffers are small and each gradient step samples and updates a batch). The block size trades
/// memory against time: `find` computes p^α for each leaf it passes in its block (b/2 on average);
/// at 1e6 slots, blocks of 16 sample about twice as fast as blocks of 32 for one byte more per slot.
/// `colony-bench replay` measures both block sizes against a plain binary sum tree.
/// Costs: `update` O(log(n/b)) between positive priorities, else O(b + log(n/b)); `find` and
/// `findOccupied` O(log(n/b) + b). Not thread-safe: one owner.
public final class BlockedSumTree {
    /// The replay server's block size.
    public static let defaultBlockSize = 16

    public let capacity: Int
    /// Slots per block (a power of two).
    public let blockSize: Int
    private let blockShift: Int
    /// The priority exponent α (0: every positive priority weighs 1).
    public let alpha: Float
    private let blockCount: Int
    /// Blocks rounded up to a power of two: node 1 is the root, node `treeWidth + b` is block b.
    private let treeWidth: Int
    private let leaves: UnsafeMutablePointer<Float>
    private let sums: UnsafeMutablePointer<Double>
    private let minima: UnsafeMutablePointer<Float>
    private let counts: UnsafeMutablePointer<Int32>

    /// `capacity` empty slots in blocks of `blockSize` (a power of two from 1 to 1024).
    public init(capacity: Int, alpha: Double, blockSize: Int = defaultBlockSize) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "capacity must be between 1 and \(Int32.max), got \(capacity)")
        precondition(alpha.isFinite && alpha >= 0, "alpha must be finite and non-negative, got \(alpha)")
        precondition(blockSize >= 1 && blockSize <= 1024 && blockSize & (blockSize - 1) == 0, "blockSize must be a power of two from 1 to 1024, got \(blockSize)")
        self.capacity = capacity
        self.alpha = Float(alpha)
        self.blockSize = blockSize
        blockShift = blockSize.trailingZeroBitCount
        blockCount = (capacity + blockSize - 1) >> blockShift
        var width = 1
        while width < blockCount { width <<= 1 }
        treeWidth = width
        leaves = .allocate(capacity: capacity)
        leaves.initialize(repeating: -1, count: capacity)
        sums = .allocate(capacity: 2 * width)
        sums.initialize(repeating: 0, count: 2 * width)
        minima = .allocate(capacity: 2 * width)
        minima.initialize(repeating: .infinity, count: 2 * width)
        counts = .allocate(capacity: 2 * width)
        counts.initialize(repeating: 0, count: 2 * width)
    }

    deinit {
        leaves.deallocate()
        sums.deallocate()
        minima.deallocate()
        counts.deallocate()
    }

    // MARK: Reading

    /// Σ p^α over the positive priorities.
    @inline(__always) public var total: Double { sums[1] }

    /// Occupied slots (priority 0 included).
    @inline(__always) public var occupied: Int { Int(counts[1]) }

    /// The smallest positive priority (+∞ when there is none).
    @inline(__always) public var minimumPositive: Float { minima[1] }

    /// The raw priority of `slot`, negative when it is empty.
    @inline(__always) public subscript(slot: Int) -> Float { leaves[slot] }

    @inline(__always) public func isOccupied(_ slot: Int) -> Bool { leaves[slot] >= 0 }

    /// p^α, or 0 for an empty slot or a zero priority.
    @inline(__always) public func weight(ofLeaf leaf: Float) -> Double {
        guard leaf > 0 else { return 0 }
        if alpha == 1 { return Double(leaf) }
        return Double(powf(leaf, alpha))
    }

    // MARK: Writing

    /// Sets one slot's priority (a negative value empties it). O(log(n/b)) when a positive priority
    /// becomes another positive one (the learner's updates): the block's sum changes by the difference
    /// of the two weights, and its minimum is rescanned (no powers) only when the old value was it.
    /// Otherwise the block is recomputed from its leaves, O(b + log(n/b)), so an emptied block sums
    /// to exactly 0 and adjustments never pile up in a block that is refilled.
    public func update(_ slot: Int, priority: Float) {
        precondition(slot >= 0 && slot < capacity, "slot \(slot) outside 0..<\(capacity)")
        let old = leaves[slot]
        leaves[slot] = priority
        let block = slot >> blockShift
        guard old > 0 && priority > 0 else {
            refresh(blocks: block...block)
            return
        }
        var node = treeWidth + block
        if blockSize == 1 {
            // The leaf is its whole block: set the block's figures outright (one power, no drift).
            sums[node] = weight(ofLeaf: priority)
            minima[node] = priority
        } else {
            sums[node] += weight(ofLeaf: priority) - weight(ofLeaf: old)
            updateMinimum(ofBlock: block, node: node, old: old, new: priority)
        }
        node >>= 1
        while node >= 1 {
            let left = 2 * node, right = left + 1
            sums[node] = sums[left] + sums[right]
            minima[node] = min(minima[left], minima[right])
            node >>= 1
        }
    }

    /// A block's minimum after one positive leaf changed from `old` to `new`: rescanned (no powers)
    /// only when the old value was the minimum and the new one is larger.
    private func updateMinimum(ofBlock block: Int, node: Int, old: Float, new priority: Float) {
        if priority < minima[node] {
            minima[node] = priority
        } else if old == minima[node] {
            let start = block * blockSize, end = min(start + blockSize, capacity)
            var minimum = Float.infinity
            for other in start..<end where leaves[other] > 0 { minimum = min(minimum, leaves[other]) }
            minima[node] = minimum
        }
    }

    /// Sets consecutive slots' priorities from `start` on (one refresh per touched block, so a batch
    /// costs O(B + b · blocks + log n)).
    public func update(from start: Int, priorities: UnsafeBufferPointer<Float>) {
        guard !priorities.isEmpty else { return }
        precondition(start >= 0 && start + priorities.count <= capacity, "slots \(start)..<\(start + priorities.count) outside 0..<\(capacity)")
        (leaves + start).update(from: priorities.baseAddress!, count: priorities.count)
        refresh(blocks: start >> blockShift...(start + priorities.count - 1) >> blockShift)
    }

    /// Empties every slot, lets `fill` write any leaves (all slots at once, e.g. on restore), then
    /// recomputes the whole tree once. O(n).
    public func rebuild(_ fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        leaves.update(repeating: -1, count: capacity)
        fill(UnsafeMutableBufferPointer(start: leaves, count: capacity))
        sums.update(repeating: 0, count: 2 * treeWidth)
        minima.update(repeating: .infinity, count: 2 * treeWidth)
        counts.update(repeating: 0, count: 2 * treeWidth)
        refresh(blocks: 0...blockCount - 1)
    }

    /// Recomputes the given blocks from their leaves, then their ancestors level by level.
    private func refresh(blocks: ClosedRange<Int>) {
        for block in blocks {
            let start = block * blockSize, end = min(start + blockSize, capacity)
            var sum = 0.0, minimum = Float.infinity, count: Int32 = 0
            for slot in start..<end {
                let leaf = leaves[slot]
                if leaf >= 0 { count &+= 1 }
                if leaf > 0 {
                    minimum = min(minimum, leaf)
                    sum += weight(ofLeaf: leaf)
                }
            }
            let node = treeWidth + block
            sums[node] = sum
            minima[node] = minimum
            counts[node] = count
        }
        var low = (treeWidth + blocks.lowerBound) >> 1, high = (treeWidth + blocks.upperBound) >> 1
        while low >= 1 {
            for node in low...high {
                let left = 2 * node, right = left + 1
                sums[node] = sums[left] + sums[right]
                minima[node] = min(minima[left], minima[right])
                counts[node] = counts[left] &+ counts[right]
            }
            low >>= 1
            high >>= 1
        }
    }

    // MARK: Finding

    /// The slot whose share of the weights contains `mass` ∈ [0, total): slot i is found with
    /// probability w_i / total for a uniform `mass`. Never an empty or zero-priority slot while the
    /// total is positive (rounding at a boundary falls back to the block's last positive slot).
    public func find(_ mass: Double) -> Int {
        precondition(total > 0, "find needs a positive total")
        var remaining = max(0, mass)
        var node = 1
        while node < treeWidth {
            let left = 2 * node
            if remaining < sums[left] || sums[left + 1] <= 0 {
                node = left
            } else {
                remaining -= sums[left]
                node = left + 1
            }
        }
        let start = (node - treeWidth) * blockSize, end = min(start + blockSize, capacity)
        var last = -1
        for slot in start..<end {
            let weight = weight(ofLeaf: leaves[slot])
            guard weight > 0 else { continue }
            if remaining < weight { return slot }
            remaining -= weight
            last = slot
        }
        return last
    }

    /// The occupied slot of the given rank ∈ [0, occupied), counting in slot order.
    public func findOccupied(_ rank: Int) -> Int {
        precondition(rank >= 0 && rank < occupied, "rank \(rank) outside 0..<\(occupied)")
        var remaining = Int32(rank)
        var node = 1
        while node < treeWidth {
            let left = 2 * node
            if remaining < counts[left] {
                node = left
            } else {
                remaining -= counts[left]
                node = left + 1
            }
        }
        let start = (node - treeWidth) * blockSize, end = min(start + blockSize, capacity)
        for slot in start..<end where leaves[slot] >= 0 {
            if remaining == 0 { return slot }
            remaining -= 1
        }
        preconditionFailure("block counts disagree with the leaves")
    }
}
