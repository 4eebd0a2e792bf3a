extension LayerInitialization {
    /// A rows×columns row-major matrix with orthonormal rows (rows ≤ columns) or orthonormal
    /// columns (rows > columns), scaled by `gain`, as torch.nn.init.orthogonal_ makes it: QR of
    /// a Gaussian matrix (transposed first when wide) with Q's signs fixed so R has a positive
    /// diagonal, which makes Q Haar-distributed.
    ///
    /// Modified Gram–Schmidt, run twice per column ("twice is enough") in Double, yields that
    /// positive-diagonal Q directly and stays orthogonal to ~1e-15. O(max·min²) for a
    /// max×min matrix: ~17 M flops for 256×256, done once per layer.
    public static func orthogonalMatrix(rows: Int, columns: Int, gain: Float, rng: inout RandomSource) -> [Float] {
        precondition(rows > 0 && columns > 0, "orthogonalMatrix needs a non-empty shape, got \(rows)×\(columns)")
        var gaussian = [Double](repeating: 0, count: rows * columns)
        for index in gaussian.indices { gaussian[index] = rng.normalDouble() }

        // Work on the tall orientation: `length` × `vectorCount`, vectors stored contiguously.
        let wide = rows < columns
        let (length, vectorCount) = wide ? (columns, rows) : (rows, columns)
        var basis = [Double](repeating: 0, count: length * vectorCount)  // basis[v * length + i]
        for row in 0..<rows {
            for column in 0..<columns {
                let (vector, component) = wide ? (row, column) : (column, row)
                basis[vector * length + component] = gaussian[row * columns + column]
            }
        }
        basis.withUnsafeMutableBufferPointer { q in
            for vector in 0..<vectorCount {
                let current = q.baseAddress! + vector * length
                for _ in 0..<2 {
                    for previous in 0..<vector {
                        let earlier = q.baseAddress! + previous * length
                        var projection = 0.0
                        for i in 0..<length { projection += earlier[i] * current[i] }
                        for i in 0..<length { current[i] -= projection * earlier[i] }
                    }
                }
                var norm = 0.0
                for i in 0..<length { norm += current[i] * current[i] }
                let inverse = 1 / norm.squareRoot()
                for i in 0..<length { current[i] *= inverse }
            }
        }

        var result = [Float](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let (vector, component) = wide ? (row, column) : (column, row)
                result[row * columns + column] = Float(Double(gain) * basis[vector * length + component])
            }
        }
        return result
    }
}
