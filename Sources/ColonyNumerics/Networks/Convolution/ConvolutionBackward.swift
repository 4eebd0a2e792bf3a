/// Scratch for a convolution's batch passes: a group of images' columns side by side, their product (forward) or
/// output gradients gathered the same way (backward), and the columns' gradient.
final class ConvolutionWorkspace {
    let columns = Scratch<Float>(), gathered = Scratch<Float>(), columnGradient = Scratch<Float>()
}

extension Convolution2D {
    /// W · col + b (with `rectifies`, ReLU of it) for `batch` images into `output` (batch × outputSize), a group of
    /// images per product so W is packed once per group; `columns(image, target, pitch)` fills one image's columns.
    func forward(batch: Int, columns: (Int, UnsafeMutablePointer<Float>, Int) -> Void, output: UnsafeMutablePointer<Float>,
                 parameters: UnsafePointer<Float>, rectifies: Bool, workspace: ConvolutionWorkspace) {
        let group = imagesPerProduct(batch: batch)
        workspace.columns.reserve(group * patchSize * outputPositions)
        workspace.gathered.reserve(group * outputSize)
        for start in Swift.stride(from: 0, to: batch, by: group) {
            let count = Swift.min(group, batch - start)
            let col = workspace.columns.pointer
            ThreadShares.forEach(count) { image in columns(start + image, col + image * outputPositions, count * outputPositions) }
            forwardGroup(images: count, col: col, parameters: parameters, product: workspace.gathered.pointer,
                         output: output + start * outputSize, rectifies: rectifies)
        }
    }

    /// Backward through this convolution (no activation) for `batch` images, a group at a time as the forward groups
    /// them, so each product is one sgemm over the group: dW += dY · colᵀ and db += Σ dY into `gradients`; with
    /// `inputGradient` (batch × inputSize, which the caller has zeroed), Wᵀ · dY scattered back by col2im.
    /// `columns(image, target, pitch)` fills one image's columns; `outputGradient` is batch × outputSize.
    func backward(batch: Int, columns: (Int, UnsafeMutablePointer<Float>, Int) -> Void, outputGradient: UnsafePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
                  workspace: ConvolutionWorkspace) {
        let group = imagesPerProduct(batch: batch)
        let positions = outputPositions
        workspace.columns.reserve(group * patchSize * positions)
        workspace.gathered.reserve(group * outputSize)
        if inputGradient != nil { workspace.columnGradient.reserve(group * patchSize * positions) }
        let (col, gathered, columnGradient) = (workspace.columns.pointer, workspace.gathered.pointer, workspace.columnGradient.pointer)
        let biasGradient = g + biasRange.lowerBound
        for start in Swift.stride(from: 0, to: batch, by: group) {
            let count = Swift.min(group, batch - start)
            let width = count * positions
            ThreadShares.forEach(count) { image in
                columns(start + image, col + image * positions, width)
                let source = outputGradient + (start + image) * outputSize
                for channel in 0..<outputChannels {
                    (gathered + channel * width + image * positions).update(from: source + channel * positions, count: positions)
                }
            }
            for channel in 0..<outputChannels {
                let values = gathered + channel * width
                var sum: Float = 0
                for index in 0..<width { sum += values[index] }
                biasGradient[channel] += sum
            }
            BLAS.gemm(transposeA: false, transposeB: true, m: outputChannels, n: patchSize, k: width, a: gathered, lda: width, b: col, ldb: width,
                      beta: 1, c: g + weightRange.lowerBound, ldc: patchSize)
            guard let inputGradient else { continue }
            BLAS.gemm(transposeA: true, transposeB: false, m: patchSize, n: width, k: outputChannels, a: p + weightRange.lowerBound, lda: patchSize,
                      b: gathered, ldb: width, beta: 0, c: columnGradient, ldc: width)
            ThreadShares.forEach(count) { image in
                col2im(columnGradient + image * positions, into: inputGradient + (start + image) * inputSize, pitch: width)
            }
        }
    }
}
