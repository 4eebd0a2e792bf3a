/// One 2-D convolution `y[o] = b[o] + Σ_c W[o, c] ⋆ x[c]` over channel-first (C × H × W) images, with a square
/// stride and zero padding: PyTorch's `nn.Conv2d` and its weight layout (out × in × kh × kw, row-major), so a slice
/// of a network's flat parameters is the tensor h5py or PyTorch would show.
///
/// Computed as im2col + one sgemm per image: the K = C·kh·kw rows of `col` hold, for every output position, the
/// input values its kernel covers, and `W[O × K] · col[K × OH·OW]` is the output. Backward recomputes `col` rather
/// than keeping it (it is kh·kw/stride² times the input) and scatters `Wᵀ · dY` back with col2im.
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

    /// Fills `col` (patchSize × outputPositions) from one image, each value converted by `value` (a Float as it is,
    /// a uint8 pixel ÷ 255). O(patchSize · outputPositions).
    @inline(__always)
    func im2col<Element>(_ image: UnsafePointer<Element>, into col: UnsafeMutablePointer<Float>, value: (Element) -> Float) {
        let (height, width, outputHeight, outputWidth) = (inputHeight, inputWidth, outputHeight, outputWidth)
        for channel in 0..<inputChannels {
            let plane = image + channel * height * width
            for i in 0..<kernel {
                for j in 0..<kernel {
                    let row = col + ((channel * kernel + i) * kernel + j) * outputPositions
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + i
                        let target = row + oy * outputWidth
                        guard y >= 0 && y < height else {
                            target.update(repeating: 0, count: outputWidth)
                            continue
                        }
                        let line = plane + y * width
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + j
                            target[ox] = x >= 0 && x < width ? value(line[x]) : 0
                        }
                    }
                }
            }
        }
    }

    /// Adds `col` (patchSize × outputPositions) back into one image's gradient: the adjoint of `im2col`.
    func col2im(_ col: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>) {
        let (height, width, outputHeight, outputWidth) = (inputHeight, inputWidth, outputHeight, outputWidth)
        for channel in 0..<inputChannels {
            let plane = image + channel * height * width
            for i in 0..<kernel {
                for j in 0..<kernel {
                    let row = col + ((channel * kernel + i) * kernel + j) * outputPositions
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + i
                        guard y >= 0 && y < height else { continue }
                        let line = plane + y * width, source = row + oy * outputWidth
                        for ox in 0..<outputWidth {
                            let x = ox * stride - padding + j
                            if x >= 0 && x < width { line[x] += source[ox] }
                        }
                    }
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

    /// For one image whose `col` is filled and whose output gradient is `outputGradient` (O × OH·OW): adds dW and db
    /// into `gradients`; with `colGradient`, writes Wᵀ · dY there (col2im turns it into the input's gradient).
    func backward(col: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, parameters: UnsafePointer<Float>,
                  gradients: UnsafeMutablePointer<Float>, colGradient: UnsafeMutablePointer<Float>?) {
        let biasGradient = gradients + biasRange.lowerBound
        for channel in 0..<outputChannels {
            let values = outputGradient + channel * outputPositions
            var sum: Float = 0
            for position in 0..<outputPositions { sum += values[position] }
            biasGradient[channel] += sum
        }
        // dW += dY · colᵀ
        BLAS.gemm(transposeA: false, transposeB: true, m: outputChannels, n: patchSize, k: outputPositions,
                  a: outputGradient, lda: outputPositions, b: col, ldb: outputPositions, beta: 1,
                  c: gradients + weightRange.lowerBound, ldc: patchSize)
        if let colGradient {
            // dcol = Wᵀ · dY
            BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: outputPositions, k: outputChannels,
                      a: parameters + weightRange.lowerBound, lda: patchSize, b: outputGradient, ldb: outputPositions, beta: 0,
                      c: colGradient, ldc: outputPositions)
        }
    }
}
