import ColonyNumerics

/// The set of valid observations or actions of an environment, as Gymnasium's `Discrete` and
/// float32 `Box` spaces.
///
/// Values travel as `[Float]`: a box value is its `count` elements, a discrete value is one
/// element holding the index (`elementCount`). Agents that want Gymnasium's flattened one-hot
/// size use `flatDimension`.
public enum Space: Sendable, Equatable, CustomStringConvertible {
    /// The integers `0..<n`, `n > 0`.
    case discrete(Int)
    /// Vectors of `low.count` floats with `low[i] <= x[i] <= high[i]`; bounds may be infinite.
    /// Precondition: `low.count == high.count` and `low[i] <= high[i]`.
    case box(low: [Float], high: [Float])

    /// A box with the same bounds on every element.
    public static func box(low: Float, high: Float, count: Int) -> Space {
        .box(low: Array(repeating: low, count: count), high: Array(repeating: high, count: count))
    }

    /// Gymnasium's shape: `[]` for discrete, `[count]` for a box.
    public var shape: [Int] {
        switch self {
        case .discrete: return []
        case .box(let low, _): return [low.count]
        }
    }

    /// Floats in one encoded value: 1 for discrete (the index), `count` for a box.
    public var elementCount: Int {
        switch self {
        case .discrete: return 1
        case .box(let low, _): return low.count
        }
    }

    /// Gymnasium's `flatdim`: `n` for discrete (one-hot), `count` for a box.
    public var flatDimension: Int {
        switch self {
        case .discrete(let n): return n
        case .box(let low, _): return low.count
        }
    }

    /// `n` for a discrete space, nil for a box.
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
        case (.box, .continuous(let values)):
            return contains(values)
        default:
            return false
        }
    }

    /// Whether an encoded value (an observation, say) lies in the space; a discrete value must be
    /// one integral element in range. NaN is never contained.
    public func contains(_ values: [Float]) -> Bool {
        switch self {
        case .discrete(let n):
            guard values.count == 1, let index = Int(exactly: values[0]) else { return false }
            return index >= 0 && index < n
        case .box(let low, let high):
            guard values.count == low.count, low.count == high.count else { return false }
            for i in values.indices where !(values[i] >= low[i] && values[i] <= high[i]) {
                return false
            }
            return true
        }
    }

    /// A random member, drawn like Gymnasium's `sample()`: uniform for bounded box elements,
    /// shifted exponential for half-bounded ones, standard normal for unbounded ones.
    public func sample(rng: inout RandomSource) -> Action {
        switch self {
        case .discrete(let n):
            return .discrete(rng.nextInt(below: n))
        case .box(let low, let high):
            var values = [Float](repeating: 0, count: low.count)
            for i in values.indices {
                let lo = Double(low[i]), hi = Double(high[i])
                let value: Double
                switch (lo.isFinite, hi.isFinite) {
                case (true, true): value = rng.uniform(lo, hi)
                case (true, false): value = lo - libmLog(1 - rng.nextDouble())
                case (false, true): value = hi + libmLog(1 - rng.nextDouble())
                case (false, false): value = rng.normalDouble()
                }
                // Rounding to float can step just past a bound; keep the sample inside.
                values[i] = min(max(Float(value), low[i]), high[i])
            }
            return .continuous(values)
        }
    }

    public var description: String {
        switch self {
        case .discrete(let n):
            return "Discrete(\(n))"
        case .box(let low, let high):
            let lows = low.map { "\($0)" }.joined(separator: ", ")
            let highs = high.map { "\($0)" }.joined(separator: ", ")
            return "Box(low: [\(lows)], high: [\(highs)], shape: [\(low.count)])"
        }
    }
}
