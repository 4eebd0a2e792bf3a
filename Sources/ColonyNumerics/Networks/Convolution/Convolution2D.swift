/// One 2-D convolution `y[o] = b[o] + Σ_c W[o, c] ⋆ x[c]` over channel-first (C × H × W) images, with a square
/// stride and zero padding: PyTorch's `nn.Conv2d` and its weight layout (out × in × kh × kw, row-major), so a slice
/// of a network's flat parameters is the tensor h5py or PyTorch would show.
///
/// Computed as im2col + sgemm: the K = C·kh·kw rows of `col` hold, for every output position, the
/// input values its kernel covers, and `W[O × K] · col[K × OH·OW]` is the output (ConvolutionColumns.swift builds
/// `col`). Backward recomputes `col` rather than keeping it (it is kh·kw/stride² times the input) and scatters
/// `Wᵀ · dY` back with col2im.
public struct Convolution2D: Sendable, Equatable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let outputHeight: Int
    public let outputWidth: Int
    /// Offsets in the network's parameter (and gradient) buffer.
    public let weightRange: Range<Int>
    public let biasRange: Range<Int>

    public init(inputChannels: Int, outputChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                inputHeight: Int, inputWidth: Int, offset: Int) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernel > 0 && stride > 0 && padding >= 0, "Convolution2D: bad geometry")
        (self.inputChannels, self.outputChannels, self.kernel, self.stride, self.padding) = (inputChannels, outputChannels, kernel, stride, padding)
        (self.inputHeight, self.inputWidth) = (inputHeight, inputWidth)
        outputHeight = (inputHeight + 2 * padding - kernel) / stride + 1
        outputWidth = (inputWidth + 2 * padding - kernel) / stride + 1
        precondition(outputHeight > 0 && outputWidth > 0, "Convolution2D: a \(kernel)×\(kernel) kernel does not fit \(inputHeight)×\(inputWidth)")
        weightRange = offset..<(offset + outputChannels * inputChannels * kernel * kernel)
        biasRange = weightRange.upperBound..<(weightRange.upperBound + outputChannels)
    }

    /// Rows of `col`: C·kh·kw, the weight's fan-in.
    public var patchSize: Int { inputChannels * kernel * kernel }
    public var outputPositions: Int { outputHeight * outputWidth }
    public var inputSize: Int { inputChannels * inputHeight * inputWidth }
    public var outputSize: Int { outputChannels * outputPositions }

    /// Images whose output is computed together by `forward(images:...)`: enough that W is packed once for many, few
    /// enough that their columns stay near 1 MiB, in cache while the product reads them (with 4 MiB groups the
    /// Nature CNN's batch-32 forward ran at 3.1k images/s against 3.3–3.4k, its training step at 1.2k against 1.3k).
    /// With several threads a group holds at least one image per thread, which fill their columns side by side.
    public func imagesPerProduct(batch: Int) -> Int { max(1, min(batch, max(BLAS.threads, (1 << 18) / (patchSize * outputPositions)))) }

    /// W · col + b (with `rectifies`, ReLU of it) for `count` images whose columns are side by side in `col` (pitch
    /// count·outputPositions): one product into `product` (O × count·outputPositions), then each image's block to
    /// `output` + image · outputSize.
    func forwardGroup(images count: Int, col: UnsafePointer<Float>, parameters: UnsafePointer<Float>, product: UnsafeMutablePointer<Float>,
                      output: UnsafeMutablePointer<Float>, rectifies: Bool) {
        let width = count * outputPositions
        BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: width, k: patchSize, a: parameters + weightRange.lowerBound,
                  lda: patchSize, b: col, ldb: width, beta: 0, c: product, ldc: width)
        let bias = parameters + biasRange.lowerBound
        ThreadShares.forEach(count) { image in
            for channel in 0..<outputChannels {
                let source = product + channel * width + image * outputPositions
                let target = output + image * outputSize + channel * outputPositions
                let b = bias[channel]
                if rectifies {
                    for position in 0..<outputPositions { target[position] = max(0, source[position] + b) }
                } else {
                    for position in 0..<outputPositions { target[position] = source[position] + b }
                }
            }
        }
    }

    /// `output` (O × OH·OW) of one image whose `col` is filled: bias, then W · col.
    func forward(col: UnsafePointer<Float>, parameters: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let bias = parameters + biasRange.lowerBound
        for channel in 0..<outputChannels { (output + channel * outputPositions).update(repeating: bias[channel], count: outputPositions) }
        BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: outputPositions, k: patchSize,
                  a: parameters + weightRange.lowerBound, lda: patchSize, b: col, ldb: outputPositions, beta: 1, c: output, ldc: outputPositions)
    }
}
