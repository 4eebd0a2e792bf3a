/// Work cut into shares that run at once on the calling thread and `WorkerPool`'s threads (not the cooperative pool);
/// `forEach` returns when every share is done. Colony's own threads replace OpenBLAS's (see `BLAS.threads`).
enum ThreadShares {
    /// Calls `body(index)` for every index in 0..<count, in contiguous runs, one run per thread (at most `threads`,
    /// by default `BLAS.threads`: the convolutional networks share their per-image work this way).
    /// `body` must only write what belongs to its index (a block of a product, one image's columns or gradient),
    /// which is what makes running the runs at once sound.
    @inline(__always)
    static func forEach(_ count: Int, threads: Int = BLAS.threads, _ body: (Int) -> Void) {
        let runs = min(threads, count)
        guard runs > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        WorkerPool.shared.run(shares: runs) { run in
            for index in (count * run / runs)..<(count * (run + 1) / runs) { body(index) }
        }
    }
}
