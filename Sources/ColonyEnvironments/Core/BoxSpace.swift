import ColonyNumerics

/// The element type of a `Box` space, as Gymnasium's `dtype`. Values still travel as `Float`;
/// uint8 and int64 elements hold integral values.
public enum SpaceElementType: String, Sendable, Equatable {
    case float32, uint8, int64

    var isIntegral: Bool { self != .float32 }
}

/// Gymnasium's `Box`: an array of `shape` whose elements lie within per-element bounds.
public struct BoxSpace: Sendable, Equatable, CustomStringConvertible {
    /// Per-element bounds, row-major, `elementCount` each; they may be infinite (float32 and int64).
    public let low: [Float]
    public let high: [Float]
    public let shape: [Int]
    public let elementType: SpaceElementType

    /// Precondition: `low.count == high.count ==` the product of `shape`, `low[i] <= high[i]`,
    /// and uint8 bounds within `0...255`.
    public init(low: [Float], high: [Float], shape: [Int], elementType: SpaceElementType) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Box shape \(shape) has a negative dimension")
        let count = shape.reduce(1, *)
        precondition(low.count == count && high.count == count, "Box of shape \(shape) needs \(count) bounds, got \(low.count) and \(high.count)")
        precondition(zip(low, high).allSatisfy { $0 <= $1 }, "Box bounds must satisfy low <= high")
        if elementType == .uint8 {
            precondition(low.allSatisfy { $0 >= 0 } && high.allSatisfy { $0 <= 255 }, "uint8 Box bounds must lie within 0...255")
        }
        self.low = low
        self.high = high
        self.shape = shape
        self.elementType = elementType
    }

    /// The product of `shape`.
    public var elementCount: Int { low.count }

    /// Whether `values` has `elementCount` elements within the bounds (integral for integral
    /// element types). NaN is never contained.
    public func contains(_ values: [Float]) -> Bool {
        guard values.count == low.count else { return false }
        for i in values.indices where !(values[i] >= low[i] && values[i] <= high[i]) {
            return false
        }
        if elementType.isIntegral {
            return values.allSatisfy { $0.rounded(.down) == $0 }
        }
        return true
    }

    /// Gymnasium's draw: uniform for bounded elements, shifted exponential for half-bounded ones,
    /// standard normal for unbounded ones; integral types take the floor of a draw over
    /// `[low, high + 1)` for bounded elements, or of the continuous draw otherwise.
    func sample(rng: inout RandomSource) -> [Float] {
        var values = [Float](repeating: 0, count: low.count)
        let integral = elementType.isIntegral
        for i in values.indices {
            let lo = Double(low[i]), hi = Double(high[i])
            var value: Double
            switch (lo.isFinite, hi.isFinite) {
            case (true, true): value = integral ? rng.uniform(lo.rounded(.up), hi.rounded(.down) + 1) : rng.uniform(lo, hi)
            case (true, false): value = lo - libmLog(1 - rng.nextDouble())
            case (false, true): value = hi + libmLog(1 - rng.nextDouble())
            case (false, false): value = rng.normalDouble()
            }
            if integral { value = value.rounded(.down) }
            // Rounding to float can step just past a bound; keep the sample inside.
            values[i] = min(max(Float(value), integral ? low[i].rounded(.up) : low[i]), integral ? high[i].rounded(.down) : high[i])
        }
        return values
    }

    /// The 1-D float32 boxes of the classic-control environments print as they always have
    /// (checkpoints store and compare this text); other boxes add their element type, and print
    /// uniform bounds once rather than per element.
    public var description: String {
        if shape.count == 1 && elementType == .float32 {
            return "Box(low: \(list(low)), high: \(list(high)), shape: [\(low.count)])"
        }
        let shapeText = "[" + shape.map(String.init).joined(separator: ", ") + "]"
        return "Box(low: \(bound(low)), high: \(bound(high)), shape: \(shapeText), dtype: \(elementType.rawValue))"
    }

    private func list(_ values: [Float]) -> String {
        "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
    }

    private func bound(_ values: [Float]) -> String {
        if let first = values.first, values.allSatisfy({ $0 == first }) { return "\(first)" }
        return list(values)
    }
}
