/// A linear layer's batch passes on raw rows, shared by the convolutional networks' fully connected part.
extension LinearLayer {
    /// Linear layers of `sizes` (ReLU between, `output` after the last) laid out from `offset` on, which ends past them.
    static func stack(sizes: [Int], output: Activation, offset: inout Int) -> [LinearLayer] {
        (0..<(sizes.count - 1)).map { index in
            let layer = LinearLayer(inputSize: sizes[index], outputSize: sizes[index + 1], activation: index == sizes.count - 2 ? output : .relu, offset: offset)
            offset = layer.biasRange.upperBound
            return layer
        }
    }

    /// `output = f(input · Wᵀ + b)` for `rows` rows.
    func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows: Int, parameters p: UnsafePointer<Float>) {
        for row in 0..<rows { (output + row * outputSize).update(from: p + biasRange.lowerBound, count: outputSize) }
        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: outputSize, k: inputSize, a: input, lda: inputSize,
                  b: p + weightRange.lowerBound, ldb: inputSize, beta: 1, c: output, ldc: outputSize)
        activation.apply(output, count: rows * outputSize)
    }

    /// Backward of `forward` whose result was `output`: turns `upstream` (dL/d output, rows × outputSize) into
    /// dL/d pre-activation in place, adds dW and db into `gradients`, and writes dL/d input (rows × inputSize) to
    /// `downstream`.
    func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>, upstream: UnsafeMutablePointer<Float>,
                  downstream: UnsafeMutablePointer<Float>, rows: Int, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>) {
        activation.backpropagate(output: output, upstream: upstream, into: upstream, count: rows * outputSize)
        let biasGradient = g + biasRange.lowerBound
        for row in 0..<rows { for unit in 0..<outputSize { biasGradient[unit] += upstream[row * outputSize + unit] } }
        BLAS.gemm(transposeA: true, transposeB: false, m: outputSize, n: inputSize, k: rows, a: upstream, lda: outputSize,
                  b: input, ldb: inputSize, beta: 1, c: g + weightRange.lowerBound, ldc: inputSize)
        BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: inputSize, k: outputSize, a: upstream, lda: outputSize,
                  b: p + weightRange.lowerBound, ldb: inputSize, beta: 0, c: downstream, ldc: inputSize)
    }
}
