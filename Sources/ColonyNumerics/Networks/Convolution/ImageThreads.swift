/// Spreads the convolutional networks' per-image work (im2col, col2im, bias and ReLU, pooling) over `BLAS.threads`:
/// with two threads that work otherwise stays on one core while the products use both.
enum ImageThreads {
    /// Calls `body(image)` for every image in 0..<count; `body` writes only its own image's columns, output or gradient.
    @inline(__always)
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        ThreadShares.forEach(count, threads: BLAS.threads, body)
    }
}
