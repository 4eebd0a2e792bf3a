/// One 2-D convolution `y[o] = b[o] + Σ_c W[o, c] ⋆ x[c]` over channel-first (C × H × W) images, with a square
/// stride and zero padding: PyTorch's `nn.Conv2d` and its weight layout (out × in × kh × kw, row-major), so a slice
/// of a network's flat parameters is the tensor h5py or PyTorch would show.
///
/// Computed as im2col + sgemm: the K = C·kh·kw rows of `col` hold, for every output position, the
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

    /// Fills `col` (patchSize rows of outputPositions, `pitch` apart: several images' columns side by side) from one
    /// image, each value converted by `value` (a Float as it is, a uint8 pixel ÷ 255). O(patchSize · outputPositions).
    @inline(__always)
    func im2col<Element>(_ image: UnsafePointer<Element>, into col: UnsafeMutablePointer<Float>, pitch: Int? = nil, value: (Element) -> Float) {
        let pitch = pitch ?? outputPositions
        let (height, width, outputHeight, outputWidth, stride) = (inputHeight, inputWidth, outputHeight, outputWidth, stride)
        for channel in 0..<inputChannels {
            let plane = image + channel * height * width
            for i in 0..<kernel {
                for j in 0..<kernel {
                    let row = col + ((channel * kernel + i) * kernel + j) * pitch
                    // The output columns whose input column x = ox·stride − padding + j lies inside the image: the loop
                    // between them has no test, and the padding around them is zero.
                    let (first, end) = validRange(offset: j - padding, extent: width, outputs: outputWidth)
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + i
                        let target = row + oy * outputWidth
                        // Plain loops, not memset: on small images these runs are a few elements and the call costs more.
                        guard y >= 0 && y < height, first < end else {
                            for ox in 0..<outputWidth { target[ox] = 0 }
                            continue
                        }
                        for ox in 0..<first { target[ox] = 0 }
                        for ox in end..<outputWidth { target[ox] = 0 }
                        let line = plane + y * width + (j - padding)
                        if stride == 1 {
                            for ox in first..<end { target[ox] = value(line[ox]) }
                        } else {
                            for ox in first..<end { target[ox] = value(line[ox * stride]) }
                        }
                    }
                }
            }
        }
    }

    /// The output indices o with 0 ≤ o·stride + offset < extent, as first..<end (empty when first ≥ end).
    @inline(__always)
    private func validRange(offset: Int, extent: Int, outputs: Int) -> (Int, Int) {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = extent - 1 - offset < 0 ? 0 : min(outputs, (extent - 1 - offset) / stride + 1)
        return (first, end)
    }

    /// Adds `col` (patchSize rows of outputPositions, `pitch` apart) back into one image's gradient: the adjoint of `im2col`.
    func col2im(_ col: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, pitch: Int? = nil) {
        let pitch = pitch ?? outputPositions
        let (height, width, outputHeight, outputWidth) = (inputHeight, inputWidth, outputHeight, outputWidth)
        for channel in 0..<inputChannels {
            let plane = image + channel * height * width
            for i in 0..<kernel {
                for j in 0..<kernel {
                    let row = col + ((channel * kernel + i) * kernel + j) * pitch
                    let (first, end) = validRange(offset: j - padding, extent: width, outputs: outputWidth)
                    for oy in 0..<outputHeight {
                        let y = oy * stride - padding + i
                        guard y >= 0 && y < height, first < end else { continue }
                        let line = plane + y * width + (j - padding), source = row + oy * outputWidth
                        for ox in first..<end { line[ox * stride] += source[ox] }
                    }
                }
            }
        }
    }

    /// Images whose output is computed together by `forward(images:...)`: enough that W is packed once for many, few
    /// enough that their columns stay near 4 MiB (larger groups measured slower: 2.1k against 2.7k images/s at batch 32).
    public func imagesPerProduct(batch: Int) -> Int { max(1, min(batch, (1 << 20) / (patchSize * outputPositions))) }

    /// W · col + b (with `rectifies`, ReLU of it) for `count` images whose columns are side by side in `col` (pitch
    /// count·outputPositions): one product into `product` (O × count·outputPositions), then each image's block to
    /// `output` + image · outputSize.
    func forwardGroup(images count: Int, col: UnsafePointer<Float>, parameters: UnsafePointer<Float>, product: UnsafeMutablePointer<Float>,
                      output: UnsafeMutablePointer<Float>, rectifies: Bool) {
        let width = count * outputPositions
        BLAS.gemm(transposeA: false, transposeB: false, m: outputChannels, n: width, k: patchSize, a: parameters + weightRange.lowerBound,
                  lda: patchSize, b: col, ldb: width, beta: 0, c: product, ldc: width)
        let bias = parameters + biasRange.lowerBound
        for image in 0..<count {
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
