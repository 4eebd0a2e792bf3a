import CBLAS
import Foundation
import Synchronization

/// The two OpenBLAS calls Colony uses, on raw row-major buffers, so C types stay inside the
/// module. Callers guarantee sizes; leading dimensions are the row lengths as stored.
enum BLAS {
    /// OpenBLAS itself always runs on the calling thread. RL's matrices are small (batch × 64..256): its worker
    /// threads cost more than they save (about 3× slower SAC updates with 2 threads here), and they spin after each
    /// product, so they fight any other thread of the process for the core (the IMPALA ResNet ran 2.6× slower on 2
    /// OpenBLAS threads than on 1). Set once, before the first product.
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Threads Colony spreads a large product over, and a convolutional network's per-image work
    /// (`ThreadShares`): `OPENBLAS_NUM_THREADS` (1 unless set; Slurm cells set it to their CPUs).
    static var threads: Int {
        let chosen = threadOverride.load(ordering: .relaxed)
        return chosen > 0 ? chosen : configuredThreads
    }

    private static let configuredThreads: Int = {
        _ = singleThreaded
        return max(1, Int(ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "") ?? 1)
    }()

    private static let threadOverride = Atomic<Int>(0)

    /// Runs `body` with `count` threads instead of the environment's (tests compare one thread with several).
    static func withThreads<Result>(_ count: Int, _ body: () throws -> Result) rethrows -> Result {
        threadOverride.store(count, ordering: .relaxed)
        defer { threadOverride.store(0, ordering: .relaxed) }
        return try body()
    }

    /// Multiply-adds below which a product stays on one thread: handing a share to another thread costs a few
    /// microseconds, a product this size takes about ten.
    private static let parallelWork = 1 << 19

    /// `C = alpha · op(A) · op(B) + beta · C`, with op(A) m×k, op(B) k×n, C m×n. O(m·n·k). With several `threads` and
    /// enough work, C is cut into column blocks (or row blocks when it is taller than wide), one product per thread.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        let shares = Swift.min(threads, Swift.max(m, n) / 32, m * n * k / parallelWork)
        guard shares > 1 else {
            return product(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                           beta: beta, c: c, ldc: ldc)
        }
        ThreadShares.forEach(shares, threads: shares) { share in
            if n >= m {
                let (start, end) = (n * share / shares, n * (share + 1) / shares)
                product(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k, alpha: alpha, a: a, lda: lda,
                        b: transposeB ? b + start * ldb : b + start, ldb: ldb, beta: beta, c: c + start, ldc: ldc)
            } else {
                let (start, end) = (m * share / shares, m * (share + 1) / shares)
                product(transposeA: transposeA, transposeB: transposeB, m: end - start, n: n, k: k, alpha: alpha,
                        a: transposeA ? a + start : a + start * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + start * ldc, ldc: ldc)
            }
        }
    }

    private static func product(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        // A one-row product with a large matrix (a batch of one through a wide layer) is a matrix–vector product:
        // OpenBLAS 0.3.21's sgemm would pack the whole matrix first (the Nature CNN's 512 × 3136 layer at batch 1:
        // 6.4 MB copied per call, a third of its time). Smaller products keep sgemm's summation order.
        if m == 1 && n * k >= 1 << 16 {
            // BLAS may scale y by β instead of ignoring it: a NaN left in scratch memory must not survive β = 0.
            if beta == 0 { c.update(repeating: 0, count: n) }
            // c = op(B)ᵀ · a: B stored n × k (transposed) or k × n; a's k values sit lda apart when A is k × 1.
            let (rows, columns) = transposeB ? (n, k) : (k, n)
            return cblas_sgemv(
                CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, blasint(rows), blasint(columns), alpha, b, blasint(Swift.max(1, ldb)),
                a, blasint(transposeA ? Swift.max(1, lda) : 1), beta, c, 1)
        }
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
