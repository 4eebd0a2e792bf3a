import CBLAS

/// The two OpenBLAS calls Colony uses, on raw row-major buffers, so C types stay inside the
/// module. Callers guarantee sizes; leading dimensions are the row lengths as stored.
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, with op(A) m×k, op(B) k×n, C m×n. O(m·n·k).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(Swift.max(1, lda)), b, blasint(Swift.max(1, ldb)),
            beta, c, blasint(Swift.max(1, ldc)))
    }

    /// `y = alpha · op(A) · x + beta · y`, A stored rows×columns. O(rows·columns).
    static func gemv(
        transposeA: Bool, rows: Int, columns: Int, alpha: Float = 1, a: UnsafePointer<Float>,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns),
            alpha, a, blasint(Swift.max(1, columns)), x, 1, beta, y, 1)
    }
}
