// Elementwise arithmetic and functions. Tensor–tensor operators need equal shapes; the only
// broadcast is the explicit row-vector one (`addingRowVector`, `multiplyingRowVector`), so a
// shape mistake fails loudly instead of silently broadcasting. All O(count).

extension Tensor {
    /// `transform` applied to every element.
    @inlinable
    public func map(_ transform: (Float) throws -> Float) rethrows -> Tensor {
        Tensor(shape: shape, scalars: try scalars.map(transform))
    }

    /// `transform(self[i], other[i])` for every element; shapes must match.
    @inlinable
    public func zipMap(_ other: Tensor, _ transform: (Float, Float) throws -> Float) rethrows -> Tensor {
        precondition(shape == other.shape, "zipMap: shapes \(shape) and \(other.shape) differ")
        return Tensor(shape: shape, scalars: try zip(scalars, other.scalars).map(transform))
    }

    /// Applies `transform` in place; the fast path for operators and activations.
    mutating func updateScalars(_ transform: (UnsafeMutablePointer<Float>, Int) -> Void) {
        scalars.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { transform(base, buffer.count) }
        }
    }

    mutating func combine(with other: Tensor, _ operation: (Float, Float) -> Float) {
        precondition(shape == other.shape, "elementwise operation on shapes \(shape) and \(other.shape)")
        other.scalars.withUnsafeBufferPointer { rhs in
            updateScalars { lhs, count in
                for index in 0..<count { lhs[index] = operation(lhs[index], rhs[index]) }
            }
        }
    }

    mutating func combine(with scalar: Float, _ operation: (Float, Float) -> Float) {
        updateScalars { values, count in
            for index in 0..<count { values[index] = operation(values[index], scalar) }
        }
    }

    // MARK: Tensor ∘ tensor

    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.combine(with: rhs, +) }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.combine(with: rhs, -) }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.combine(with: rhs, *) }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.combine(with: rhs, /) }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { var result = lhs; result += rhs; return result }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { var result = lhs; result -= rhs; return result }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { var result = lhs; result *= rhs; return result }
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { var result = lhs; result /= rhs; return result }

    // MARK: Tensor ∘ scalar

    public static func += (lhs: inout Tensor, rhs: Float) { lhs.combine(with: rhs, +) }
    public static func -= (lhs: inout Tensor, rhs: Float) { lhs.combine(with: rhs, -) }
    public static func *= (lhs: inout Tensor, rhs: Float) { lhs.combine(with: rhs, *) }
    public static func /= (lhs: inout Tensor, rhs: Float) { lhs.combine(with: rhs, /) }

    public static func + (lhs: Tensor, rhs: Float) -> Tensor { var result = lhs; result += rhs; return result }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { var result = lhs; result -= rhs; return result }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { var result = lhs; result *= rhs; return result }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { var result = lhs; result /= rhs; return result }

    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { var result = rhs; result.combine(with: lhs) { $1 - $0 }; return result }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { var result = rhs; result.combine(with: lhs) { $1 / $0 }; return result }

    public static prefix func - (operand: Tensor) -> Tensor { operand * -1 }

    // MARK: Row-vector broadcast

    /// `self[i, j] + row[j]` for every row: a bias, or subtracting a running mean (pass its negation).
    public func addingRowVector(_ row: Tensor) -> Tensor { broadcastingRowVector(row, +) }

    /// `self[i, j] * row[j]` for every row: per-dimension scales such as a Gaussian policy's std.
    public func multiplyingRowVector(_ row: Tensor) -> Tensor { broadcastingRowVector(row, *) }

    private func broadcastingRowVector(_ row: Tensor, _ operation: (Float, Float) -> Float) -> Tensor {
        precondition(rank == 2 && row.rank == 1 && row.count == shape[1], "row vector \(row.shape) does not fit rows of \(shape)")
        let width = shape[1]
        var result = self
        if width == 0 { return result }
        row.scalars.withUnsafeBufferPointer { vector in
            result.updateScalars { values, count in
                for rowStart in stride(from: 0, to: count, by: width) {
                    for column in 0..<width { values[rowStart + column] = operation(values[rowStart + column], vector[column]) }
                }
            }
        }
        return result
    }

    // MARK: Functions

    public func tanh() -> Tensor { var result = self; result.updateScalars(VectorMath.tanh); return result }
    public func relu() -> Tensor { var result = self; result.updateScalars(VectorMath.relu); return result }
    public func exp() -> Tensor { map(VectorMath.exp) }
    public func log() -> Tensor { map(VectorMath.log) }
    public func squareRoot() -> Tensor { map { $0.squareRoot() } }
    public func squared() -> Tensor { self * self }

    /// Every element limited to `lower...upper`, e.g. PPO's ratio clipping.
    public func clamped(min lower: Float, max upper: Float) -> Tensor {
        precondition(lower <= upper, "clamped(min: \(lower), max: \(upper)): empty range")
        return map { Swift.min(Swift.max($0, lower), upper) }
    }
}
