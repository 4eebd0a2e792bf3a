/// Max pooling over channel-first (C × H × W) images with a square window, stride and padding: PyTorch's
/// `nn.MaxPool2d` (padding counts as −∞, so a window's maximum is always one of the image's values). Forward records
/// where each maximum came from; backward sends each output's gradient to that input.
public struct MaxPool2D: Sendable, Equatable {
    public let channels: Int
    public let window: Int
    public let stride: Int
    public let padding: Int
    public let inputHeight: Int
    public let inputWidth: Int
    public let outputHeight: Int
    public let outputWidth: Int

    public init(channels: Int, window: Int, stride: Int, padding: Int = 0, inputHeight: Int, inputWidth: Int) {
        precondition(channels > 0 && window > 0 && stride > 0 && padding >= 0 && 2 * padding <= window, "MaxPool2D: bad geometry")
        (self.channels, self.window, self.stride, self.padding) = (channels, window, stride, padding)
        (self.inputHeight, self.inputWidth) = (inputHeight, inputWidth)
        outputHeight = (inputHeight + 2 * padding - window) / stride + 1
        outputWidth = (inputWidth + 2 * padding - window) / stride + 1
        precondition(outputHeight > 0 && outputWidth > 0, "MaxPool2D: a \(window)×\(window) window does not fit \(inputHeight)×\(inputWidth)")
    }

    public var inputSize: Int { channels * inputHeight * inputWidth }
    public var outputSize: Int { channels * outputHeight * outputWidth }

    /// One image's maxima into `output`, and in `source` the index (within the image) each came from.
    func forward(_ image: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, source: UnsafeMutablePointer<Int32>) {
        var index = 0
        for channel in 0..<channels {
            let planeStart = channel * inputHeight * inputWidth
            for oy in 0..<outputHeight {
                let top = max(0, oy * stride - padding), bottom = min(inputHeight, oy * stride - padding + window)
                for ox in 0..<outputWidth {
                    let left = max(0, ox * stride - padding), right = min(inputWidth, ox * stride - padding + window)
                    var best = planeStart + top * inputWidth + left
                    var maximum = image[best]
                    for y in top..<bottom {
                        let row = planeStart + y * inputWidth
                        for x in left..<right where image[row + x] > maximum {
                            maximum = image[row + x]
                            best = row + x
                        }
                    }
                    output[index] = maximum
                    source[index] = Int32(best)
                    index += 1
                }
            }
        }
    }

    /// Adds each output's gradient into the input it came from (`inputGradient` must start at zero).
    func backward(_ outputGradient: UnsafePointer<Float>, source: UnsafePointer<Int32>, into inputGradient: UnsafeMutablePointer<Float>) {
        for index in 0..<outputSize { inputGradient[Int(source[index])] += outputGradient[index] }
    }
}
