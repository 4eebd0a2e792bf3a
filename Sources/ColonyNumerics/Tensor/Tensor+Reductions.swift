// Reductions, O(count). Sums accumulate in Double: losses and statistics over long rollouts
// would otherwise lose digits, and reductions are never the hot path.

extension Tensor {
    public func sum() -> Float { Float(exactSum) }

    /// NaN for an empty tensor, as torch.mean.
    public func mean() -> Float { Float(exactSum / Double(count)) }

    private var exactSum: Double { scalars.reduce(0.0) { $0 + Double($1) } }

    public func max() -> Float {
        precondition(count > 0, "max() of an empty tensor")
        return scalars.max()!
    }

    public func min() -> Float {
        precondition(count > 0, "min() of an empty tensor")
        return scalars.min()!
    }

    public func squaredNorm() -> Float {
        Float(scalars.reduce(0.0) { $0 + Double($1) * Double($1) })
    }

    /// Sums of a matrix along `axis`: 0 gives one value per column, 1 one value per row.
    public func sum(alongAxis axis: Int) -> Tensor {
        reduce(alongAxis: axis, initial: 0.0) { $0 + Double($1) }
    }

    public func mean(alongAxis axis: Int) -> Tensor {
        precondition(rank == 2, "mean(alongAxis:) needs a matrix, shape is \(shape)")
        return sum(alongAxis: axis) / Float(shape[axis])
    }

    /// Maxima along `axis`, e.g. max over actions of target Q-values (axis 1).
    public func max(alongAxis axis: Int) -> Tensor {
        precondition(rank == 2 && shape[axis] > 0, "max(alongAxis: \(axis)) of \(shape)")
        return reduce(alongAxis: axis, initial: -Double.infinity) { Swift.max($0, Double($1)) }
    }

    /// The column of each row's largest element, first one on ties: greedy actions.
    public func argmaxPerRow() -> [Int] {
        precondition(rank == 2 && shape[1] > 0, "argmaxPerRow() needs a matrix with columns, shape is \(shape)")
        let width = shape[1]
        return (0..<shape[0]).map { row in
            var best = 0
            for column in 1..<width where scalars[row * width + column] > scalars[row * width + best] { best = column }
            return best
        }
    }

    private func reduce(alongAxis axis: Int, initial: Double, _ combine: (Double, Float) -> Double) -> Tensor {
        precondition(rank == 2 && (axis == 0 || axis == 1), "reductions along an axis need a matrix and axis 0 or 1, got \(shape), axis \(axis)")
        let (rowCount, columnCount) = (shape[0], shape[1])
        var accumulators = [Double](repeating: initial, count: axis == 0 ? columnCount : rowCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                let target = axis == 0 ? column : row
                accumulators[target] = combine(accumulators[target], scalars[row * columnCount + column])
            }
        }
        return Tensor(accumulators.map { Float($0) })
    }
}
