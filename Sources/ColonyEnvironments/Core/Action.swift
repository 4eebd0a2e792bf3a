/// One action for one environment: an index into a discrete action space, or the elements of a
/// continuous (box) action.
public enum Action: Sendable, Equatable, CustomStringConvertible {
    case discrete(Int)
    case continuous([Float])

    /// The `[Float]` encoding used for observations and buffers: `[index]` or the elements.
    public var encoded: [Float] {
        switch self {
        case .discrete(let index): return [Float(index)]
        case .continuous(let values): return values
        }
    }

    public var description: String {
        switch self {
        case .discrete(let index): return ".discrete(\(index))"
        case .continuous(let values): return ".continuous(\(values))"
        }
    }
}
