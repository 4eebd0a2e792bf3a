/// The binary sum tree that single-process replay used before `BlockedSumTree` served both replay
/// stacks; kept here only as the reference the sum-structure table measures against.
///
/// A binary sum tree over `capacity` non-negative priorities (Schaul et al., 2016).
///
/// Leaves hold priorities, every inner node the sum of its children, so the root is the total.
/// `update` and `find` are O(log n); `total` is O(1). Stored in one flat array of 2·size
/// doubles (size = capacity rounded up to a power of two) so a walk touches log n cache lines.
struct BinarySumTree: Sendable {
    let capacity: Int
    private let size: Int
    private var nodes: [Double]

    init(capacity: Int) {
        precondition(capacity > 0, "BinarySumTree capacity must be positive, got \(capacity)")
        self.capacity = capacity
        var size = 1
        while size < capacity { size <<= 1 }
        self.size = size
        nodes = [Double](repeating: 0, count: 2 * size)
    }

    /// Sum of all priorities.
    @inline(__always) var total: Double { nodes[1] }

    @inline(__always) subscript(index: Int) -> Double { nodes[size + index] }

    /// Sets the priority at `index`, updating the sums on the path to the root. O(log n).
    mutating func update(_ index: Int, priority: Double) {
        precondition(index >= 0 && index < capacity, "BinarySumTree index \(index) outside 0..<\(capacity)")
        precondition(priority >= 0 && priority.isFinite, "priorities must be finite and non-negative, got \(priority)")
        var node = size + index
        let delta = priority - nodes[node]
        nodes.withUnsafeMutableBufferPointer { tree in
            tree[node] = priority
            node >>= 1
            while node >= 1 {
                tree[node] += delta
                node >>= 1
            }
        }
    }

    /// The leaf whose cumulative range contains `mass` in [0, total). O(log n).
    /// Never returns a zero-priority leaf while the total is positive.
    func find(_ mass: Double) -> Int {
        var remaining = max(0, mass)
        var node = 1
        nodes.withUnsafeBufferPointer { tree in
            while node < size {
                let left = 2 * node
                if remaining < tree[left] || tree[left + 1] <= 0 {
                    node = left
                } else {
                    remaining -= tree[left]
                    node = left + 1
                }
            }
        }
        var index = node - size
        // Floating-point drift can land on an empty leaf at the right edge; step back to a live one.
        while index > 0 && (index >= capacity || nodes[size + index] <= 0) { index -= 1 }
        return index
    }

    /// Recomputes every inner node from the leaves (removes accumulated rounding drift). O(n).
    mutating func rebuild() {
        for node in stride(from: size - 1, through: 1, by: -1) { nodes[node] = nodes[2 * node] + nodes[2 * node + 1] }
    }

    /// Smallest positive leaf priority, O(n); used for the max importance weight.
    var minimumPositive: Double {
        var best = Double.infinity
        for i in 0..<capacity where nodes[size + i] > 0 { best = min(best, nodes[size + i]) }
        return best
    }

    var leaves: [Double] { Array(nodes[size..<(size + capacity)]) }
}
