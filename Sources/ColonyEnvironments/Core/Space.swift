import ColonyNumerics

/// The set of valid observations or actions of an environment, as Gymnasium's `Discrete`, `Box`
/// and `MultiDiscrete` spaces.
///
/// Values travel as `[Float]`: a box value is its `elementCount` elements in row-major order
/// (float32, or integral values for uint8 and int64 boxes), a discrete value is one element holding
/// the index, a multi-discrete value one index per component. Agents that want Gymnasium's
/// flattened one-hot size use `flatDimension`. A multi-discrete action is `.continuous` holding the
/// indices as floats.
public enum Space: Sendable, Equatable, CustomStringConvertible {
    /// The integers `0..<n`, `n > 0`.
    case discrete(Int)
    /// Arrays of `shape` with `low[i] <= x[i] <= high[i]` element by element; bounds may be infinite.
    case box(BoxSpace)
    /// One index `0..<nvec[i]` per component, Gymnasium's `MultiDiscrete(nvec)`.
    case multiDiscrete([Int])

    /// A 1-D float32 box of `low.count` elements (the shape of every classic-control space).
    /// Precondition: `low.count == high.count` and `low[i] <= high[i]`.
    public static func box(low: [Float], high: [Float]) -> Space {
        .box(BoxSpace(low: low, high: high, shape: [low.count], elementType: .float32))
    }

    /// A 1-D float32 box with the same bounds on every element.
    public static func box(low: Float, high: Float, count: Int) -> Space {
        .box(low: Array(repeating: low, count: count), high: Array(repeating: high, count: count))
    }

    /// A box of any shape and element type with the same bounds on every element, e.g. an
    /// `[84, 84, 3]` uint8 image with bounds 0 and 255.
    public static func box(shape: [Int], low: Float, high: Float, elementType: SpaceElementType = .float32) -> Space {
        let count = shape.reduce(1, *)
        return .box(BoxSpace(
            low: Array(repeating: low, count: count), high: Array(repeating: high, count: count),
            shape: shape, elementType: elementType))
    }

    /// Gymnasium's shape: `[]` for discrete, the box's shape, `[nvec.count]` for multi-discrete.
    public var shape: [Int] {
        switch self {
        case .discrete: return []
        case .box(let box): return box.shape
        case .multiDiscrete(let counts): return [counts.count]
        }
    }

    /// Floats in one encoded value: 1 for discrete (the index), the product of a box's shape, one
    /// per component for multi-discrete.
    public var elementCount: Int {
        switch self {
        case .discrete: return 1
        case .box(let box): return box.elementCount
        case .multiDiscrete(let counts): return counts.count
        }
    }

    /// Gymnasium's `flatdim`: `n` for discrete (one-hot), the element count for a box, the sum of
    /// the component counts for multi-discrete (one one-hot per component).
    public var flatDimension: Int {
        switch self {
        case .discrete(let n): return n
        case .box(let box): return box.elementCount
        case .multiDiscrete(let counts): return counts.reduce(0, +)
        }
    }

    /// `n` for a discrete space, nil otherwise.
    public var discreteCount: Int? {
        if case .discrete(let n) = self { return n }
        return nil
    }

    public var isDiscrete: Bool { discreteCount != nil }

    /// Whether `action` is of this space's kind, shape and bounds.
    public func contains(_ action: Action) -> Bool {
        switch (self, action) {
        case (.discrete(let n), .discrete(let index)):
            return index >= 0 && index < n
        case (.box, .continuous(let values)), (.multiDiscrete, .continuous(let values)):
            return contains(values)
        default:
            return false
        }
    }

    /// Whether a vector environment takes `action` for a step: `contains`, except that box actions
    /// only need the right size and finite values (beyond the bounds they are the environment's to
    /// clip, as Gymnasium's are).
    public func accepts(_ action: Action) -> Bool {
        if case .box(let box) = self, case .continuous(let values) = action {
            return values.count == box.elementCount && values.allSatisfy(\.isFinite)
        }
        return contains(action)
    }

    /// Whether an encoded value (an observation, say) lies in the space; discrete values and the
    /// elements of uint8 and int64 boxes must be integral. NaN is never contained.
    public func contains(_ values: [Float]) -> Bool {
        switch self {
        case .discrete(let n):
            guard values.count == 1, let index = Int(exactly: values[0]) else { return false }
            return index >= 0 && index < n
        case .box(let box):
            return box.contains(values)
        case .multiDiscrete(let counts):
            guard values.count == counts.count else { return false }
            for (value, n) in zip(values, counts) {
                guard let index = Int(exactly: value), index >= 0, index < n else { return false }
            }
            return true
        }
    }

    /// A random member, drawn like Gymnasium's `sample()`: uniform for bounded box elements,
    /// shifted exponential for half-bounded ones, standard normal for unbounded ones (rounded down
    /// for integral elements); uniform indices for discrete and multi-discrete spaces.
    public func sample(rng: inout RandomSource) -> Action {
        switch self {
        case .discrete(let n):
            return .discrete(rng.nextInt(below: n))
        case .box(let box):
            return .continuous(box.sample(rng: &rng))
        case .multiDiscrete(let counts):
            return .continuous(counts.map { Float(rng.nextInt(below: $0)) })
        }
    }

    public var description: String {
        switch self {
        case .discrete(let n):
            return "Discrete(\(n))"
        case .box(let box):
            return box.description
        case .multiDiscrete(let counts):
            return "MultiDiscrete(\(counts))"
        }
    }
}
