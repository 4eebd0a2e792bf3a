/// A dense, row-major array of `Float` with a shape: observations, Q-values, losses, gradients.
///
/// A value type backed by one `[Float]`, so copies are free until one side writes (copy-on-write)
/// and a tensor can cross actors, sockets and checkpoints as it is. Shapes are checked with
/// preconditions: a wrong shape is a programming error, not a runtime condition to recover from.
/// Matrix products go through OpenBLAS (`matmul`, `matvec`); elementwise work is plain loops the
/// compiler vectorises.
public struct Tensor: Sendable, Equatable {
    /// Extent of each axis; the last axis is contiguous.
    public internal(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count` is the product of `shape`.
    public internal(set) var scalars: [Float]

    /// Wraps `scalars` without copying. Precondition: their count is the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        precondition(
            Tensor.elementCount(of: shape) == scalars.count,
            "Tensor shape \(shape) needs \(Tensor.elementCount(of: shape)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        self.init(shape: shape, scalars: Array(repeating: value, count: Tensor.elementCount(of: shape)))
    }

    /// All zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    /// A vector (rank 1).
    public init(_ vector: [Float]) {
        self.init(shape: [vector.count], scalars: vector)
    }

    /// A matrix from equal-length rows, e.g. a batch of observations. No rows gives shape [0, 0].
    public init(rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor(rows:) needs rows of equal length")
        self.init(shape: [rows.count, columns], scalars: Array(rows.joined()))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Element of a matrix.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(rank == 2, "subscript(row:column:) needs a matrix, shape is \(shape)")
            precondition(row >= 0 && row < shape[0] && column >= 0 && column < shape[1], "index (\(row), \(column)) outside \(shape)")
            return scalars[row * shape[1] + column]
        }
        set {
            precondition(rank == 2, "subscript(row:column:) needs a matrix, shape is \(shape)")
            precondition(row >= 0 && row < shape[0] && column >= 0 && column < shape[1], "index (\(row), \(column)) outside \(shape)")
            scalars[row * shape[1] + column] = newValue
        }
    }

    /// Element of a vector.
    public subscript(index: Int) -> Float {
        get {
            precondition(rank == 1, "subscript(_:) needs a vector, shape is \(shape)")
            return scalars[index]
        }
        set {
            precondition(rank == 1, "subscript(_:) needs a vector, shape is \(shape)")
            scalars[index] = newValue
        }
    }

    /// Bulk writes without per-element bounds checks (e.g. filling a batch from an environment).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// The same scalars under another shape; one extent may be -1 and is then inferred. O(1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        precondition(inferred.count <= 1, "reshaped(\(newShape)): at most one extent may be -1")
        var resolved = newShape
        if let axis = inferred.first {
            let known = Tensor.elementCount(of: newShape.enumerated().filter { $0.offset != axis }.map(\.element))
            precondition(known > 0 && count % known == 0, "reshaped(\(newShape)): \(count) scalars do not divide")
            resolved[axis] = count / known
        }
        return Tensor(shape: resolved, scalars: scalars)
    }

    /// Scalars per entry of the first axis (a row of a matrix, one observation of a batch).
    var rowStride: Int { Tensor.elementCount(of: shape.dropFirst()) }

    /// Entries `range` of the first axis, e.g. one minibatch of a rollout. O(range.count × rowStride).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "rows(\(range)) outside \(shape)")
        let stride = rowStride
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * stride)..<(range.upperBound * stride)]))
    }

    /// Entries of the first axis in the order of `indices` (repeats allowed): shuffled minibatches,
    /// replay samples. O(indices.count × rowStride).
    public func rows(at indices: [Int]) -> Tensor {
        precondition(rank >= 1, "rows(at:) needs rank ≥ 1")
        let stride = rowStride
        let rowCount = shape[0]
        var result = [Float](repeating: 0, count: indices.count * stride)
        scalars.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for (position, index) in indices.enumerated() {
                    precondition(index >= 0 && index < rowCount, "row \(index) outside \(shape)")
                    for offset in 0..<stride { target[position * stride + offset] = source[index * stride + offset] }
                }
            }
        }
        var newShape = shape
        newShape[0] = indices.count
        return Tensor(shape: newShape, scalars: result)
    }

    /// Columns `range` of a matrix, e.g. the action part of a critic's input gradient.
    public func columns(_ range: Range<Int>) -> Tensor {
        precondition(rank == 2 && range.lowerBound >= 0 && range.upperBound <= shape[1], "columns(\(range)) outside \(shape)")
        let (rowCount, columnCount) = (shape[0], shape[1])
        var result = [Float]()
        result.reserveCapacity(rowCount * range.count)
        for row in 0..<rowCount {
            result.append(contentsOf: scalars[(row * columnCount + range.lowerBound)..<(row * columnCount + range.upperBound)])
        }
        return Tensor(shape: [rowCount, range.count], scalars: result)
    }

    /// Matrices side by side (same row count), e.g. a critic's input [observation, action].
    public static func concatenatingColumns(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.rank == 2 }, "concatenatingColumns needs matrices")
        let rowCount = parts[0].shape[0]
        precondition(parts.allSatisfy { $0.shape[0] == rowCount }, "concatenatingColumns needs equal row counts")
        let columnCount = parts.reduce(0) { $0 + $1.shape[1] }
        var result = [Float]()
        result.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for part in parts {
                let width = part.shape[1]
                result.append(contentsOf: part.scalars[(row * width)..<((row + 1) * width)])
            }
        }
        return Tensor(shape: [rowCount, columnCount], scalars: result)
    }

    /// Tensors stacked along the first axis (equal trailing shapes), e.g. per-step batches into a rollout.
    public static func concatenatingRows(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.rank >= 1 }, "concatenatingRows needs tensors of rank ≥ 1")
        let trailing = Array(parts[0].shape.dropFirst())
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == trailing }, "concatenatingRows needs equal trailing shapes")
        return Tensor(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + trailing, scalars: Array(parts.map(\.scalars).joined()))
    }

    /// The transpose of a matrix. O(rows × columns).
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, shape is \(shape)")
        let (rowCount, columnCount) = (shape[0], shape[1])
        var result = [Float](repeating: 0, count: count)
        for row in 0..<rowCount {
            for column in 0..<columnCount { result[column * rowCount + row] = scalars[row * columnCount + column] }
        }
        return Tensor(shape: [columnCount, rowCount], scalars: result)
    }

    /// `result[i] = self[i, columns[i]]`: the Q-value of each taken action (torch.gather on dim 1).
    public func gathering(columnPerRow columns: [Int]) -> Tensor {
        precondition(rank == 2 && columns.count == shape[0], "gathering(columnPerRow:) needs one column per row of \(shape)")
        let columnCount = shape[1]
        return Tensor(columns.enumerated().map { row, column in
            precondition(column >= 0 && column < columnCount, "column \(column) outside \(shape)")
            return scalars[row * columnCount + column]
        })
    }

    /// The adjoint of `gathering`: a zero matrix with `values[i]` at `(i, columns[i])`, e.g. the
    /// gradient of a DQN loss with respect to all Q-values.
    public static func scattering(_ values: Tensor, columnPerRow columns: [Int], columnCount: Int) -> Tensor {
        precondition(values.rank == 1 && values.count == columns.count, "scattering needs one value per column index")
        var result = Tensor(zeros: [columns.count, columnCount])
        for (row, column) in columns.enumerated() {
            precondition(column >= 0 && column < columnCount, "column \(column) outside 0..<\(columnCount)")
            result.scalars[row * columnCount + column] = values.scalars[row]
        }
        return result
    }

    static func elementCount<S: Sequence<Int>>(of shape: S) -> Int {
        shape.reduce(1, *)
    }
}
