import CBLAS
import Foundation

/// The two OpenBLAS calls Colony uses, on raw row-major buffers, so C types stay inside the
/// module. Callers guarantee sizes; leading dimensions are the row lengths as stored.
enum BLAS {
    /// RL's matrices are small (batch × 64..256): OpenBLAS's worker threads cost more than they save
    /// (about 3× slower SAC updates with 2 threads here), and Colony's processes already run one per
    /// core. Set once, before the first product. `OPENBLAS_NUM_THREADS` set by the user still wins.
    private static let singleThreaded: Void = {
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { openblas_set_num_threads(1) }
    }()

    /// `C = alpha · op(A) · op(B) + beta · C`, with op(A) m×k, op(B) k×n, C m×n. O(m·n·k).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
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
        _ = singleThreaded
        cblas_sgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns),
            alpha, a, blasint(Swift.max(1, columns)), x, 1, beta, y, 1)
    }
}
