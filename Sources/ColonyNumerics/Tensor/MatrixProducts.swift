/// `op(a) · op(b)` for matrices, where op transposes when asked (no transposed copy is made).
/// O(m·n·k) through OpenBLAS sgemm.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kB, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(k == kB, "matmul: inner dimensions differ, op(a) is \(m)×\(k), op(b) is \(kB)×\(n)")
    var result = [Float](repeating: 0, count: m * n)
    if m > 0 && n > 0 && k > 0 {
        a.scalars.withUnsafeBufferPointer { a0 in
            b.scalars.withUnsafeBufferPointer { b0 in
                result.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        a: a0.baseAddress!, lda: a.shape[1], b: b0.baseAddress!, ldb: b.shape[1],
                        beta: 0, c: c.baseAddress!, ldc: n)
                }
            }
        }
    }
    return Tensor(shape: [m, n], scalars: result)
}

/// `op(a) · x` for a matrix and a vector. O(rows·columns) through OpenBLAS sgemv.
public func matvec(_ a: Tensor, _ x: Tensor, transposeA: Bool = false) -> Tensor {
    precondition(a.rank == 2 && x.rank == 1, "matvec needs a matrix and a vector, got \(a.shape) and \(x.shape)")
    let (rows, columns) = (a.shape[0], a.shape[1])
    let (inputCount, outputCount) = transposeA ? (rows, columns) : (columns, rows)
    precondition(x.count == inputCount, "matvec: vector of \(x.count) does not fit \(transposeA ? "transposed " : "")\(a.shape)")
    var result = [Float](repeating: 0, count: outputCount)
    if rows > 0 && columns > 0 {
        a.scalars.withUnsafeBufferPointer { a0 in
            x.scalars.withUnsafeBufferPointer { x0 in
                result.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(
                        transposeA: transposeA, rows: rows, columns: columns, a: a0.baseAddress!,
                        x: x0.baseAddress!, beta: 0, y: y.baseAddress!)
                }
            }
        }
    }
    return Tensor(result)
}
