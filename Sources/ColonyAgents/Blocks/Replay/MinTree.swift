/// A binary min tree: O(log n) update and O(1) minimum, for the largest importance weight
/// (w_max = (N·p_min)^−β) without an O(n) scan per sampled batch.
public struct MinTree: Sendable {
    private let size: Int
    private var nodes: [Double]

    public init(capacity: Int) {
        precondition(capacity > 0)
        var size = 1
        while size < capacity { size <<= 1 }
        self.size = size
        nodes = [Double](repeating: .infinity, count: 2 * size)
    }

    public var minimum: Double { nodes[1] }

    public mutating func update(_ index: Int, value: Double) {
        var node = size + index
        nodes[node] = value
        node >>= 1
        while node >= 1 {
            nodes[node] = min(nodes[2 * node], nodes[2 * node + 1])
            node >>= 1
        }
    }
}
