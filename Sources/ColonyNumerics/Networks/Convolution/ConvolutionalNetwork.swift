/// Convolutions (each followed by ReLU) over channel-first images, flattened (PyTorch's `nn.Flatten` order: channel,
/// row, column), then fully connected layers (ReLU between, `output` after the last): the Nature-DQN network
/// (Mnih et al., 2015) and CleanRL's Atari agents. All parameters in one flat buffer, convolutions first (weight,
/// bias), then the linear layers, each in PyTorch's layout; checkpoints, parameter messages and A3C's gradients
/// carry it as they carry an MLP's.
///
/// Images come as Floats (`forward`) or as uint8 pixels (`forward(pixels:batch:)`), which the first layer's im2col
/// converts ÷255 as it reads them, so a batch of frames is never widened to Floats as a whole. The forward caches
/// what backward needs (its input, every layer's output); like `MLP` it is used by one owner at a time.
public final class ConvolutionalNetwork: Network {
    /// A convolution of the stack: output channels, square kernel, stride and zero padding.
    public struct Layer: Sendable, Equatable {
        public var channels: Int, kernel: Int, stride: Int, padding: Int
        public init(channels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) {
            (self.channels, self.kernel, self.stride, self.padding) = (channels, kernel, stride, padding)
        }
    }

    /// One input image's shape as the network is given it: `imageShape` in `layout`.
    public let inputShape: [Int]
    /// One image channel first, [C, H, W], as the convolutions read it.
    public let imageShape: [Int]
    public let layout: ImageLayout
    /// What the Float forward multiplies each input by as its first layer reads it: 1/255 for a network that reads
    /// frames stored as Floats 0…255, so both forwards agree (`forward(pixels:)` always reads a byte ÷255).
    public let inputScale: Float
    public let convolutions: [Convolution2D]
    public let dense: [LinearLayer]
    public let parameterCount: Int
    public var parameters: [Float]
    public var gradients: [Float]
    public var outputShape: [Int] { [dense[dense.count - 1].outputSize] }

    private var cachedInput: CachedImages?
    private var cachedBatch = 0
    /// Each layer's output (after its activation), batch rows each, convolutions then linear layers.
    private var layerOutputs: [Scratch<Float>]
    /// Gradients flowing down: two buffers of the widest layer output, alternating.
    private var flowing: (Scratch<Float>, Scratch<Float>)
    /// One image's columns for `forwardSingle`, and the batch passes' scratch.
    private let col: Scratch<Float>
    private let workspace = ConvolutionWorkspace()
    /// One image's layer outputs for `forwardSingle`.
    private let single: [Scratch<Float>]

    /// The Nature-DQN network: 32 8×8/4, 64 4×4/2, 64 3×3/1 convolutions, 512 units, `outputs` outputs.
    public static func natureDQN(inputShape: [Int] = [4, 84, 84], outputs: Int, initialization: LayerInitialization,
                                 outputInitialization: LayerInitialization? = nil, inputScale: Float = 1, layout: ImageLayout = .channelsFirst,
                                 rng: inout RandomSource) -> ConvolutionalNetwork {
        ConvolutionalNetwork(
            inputShape: inputShape,
            layers: [Layer(channels: 32, kernel: 8, stride: 4), Layer(channels: 64, kernel: 4, stride: 2), Layer(channels: 64, kernel: 3, stride: 1)],
            hiddenSizes: [512], outputs: outputs, initialization: initialization, outputInitialization: outputInitialization, inputScale: inputScale,
            layout: layout, rng: &rng)
    }

    /// Draws every layer's weight then bias from `rng`, in order: `initialization` for all but the last linear layer.
    public init(inputShape: [Int], layers: [Layer], hiddenSizes: [Int], outputs: Int, output: Activation = .identity,
                initialization: LayerInitialization, outputInitialization: LayerInitialization? = nil, inputScale: Float = 1,
                layout: ImageLayout = .channelsFirst, rng: inout RandomSource) {
        precondition(inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 }, "ConvolutionalNetwork takes C × H × W images, got \(inputShape)")
        precondition(!layers.isEmpty && outputs > 0, "ConvolutionalNetwork needs a convolution and an output")
        (imageShape, self.layout) = (inputShape, layout)
        self.inputShape = layout.inputShape(channelsFirst: inputShape)
        self.inputScale = inputScale
        var offset = 0
        var (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        var convolutions: [Convolution2D] = []
        for layer in layers {
            let convolution = Convolution2D(inputChannels: channels, outputChannels: layer.channels, kernel: layer.kernel, stride: layer.stride,
                                            padding: layer.padding, inputHeight: height, inputWidth: width, offset: offset)
            convolutions.append(convolution)
            offset = convolution.biasRange.upperBound
            (channels, height, width) = (layer.channels, convolution.outputHeight, convolution.outputWidth)
        }
        let dense = LinearLayer.stack(sizes: [channels * height * width] + hiddenSizes + [outputs], output: output, offset: &offset)
        (self.convolutions, self.dense, parameterCount) = (convolutions, dense, offset)
        parameters = [Float](repeating: 0, count: offset)
        gradients = [Float](repeating: 0, count: offset)
        let widths = convolutions.map(\.outputSize) + dense.map(\.outputSize)
        layerOutputs = widths.map { _ in Scratch<Float>() }
        flowing = (Scratch<Float>(), Scratch<Float>())
        let columns = convolutions.map { $0.patchSize * $0.outputPositions }.max()!
        col = Scratch<Float>(capacity: columns)
        single = widths.map { Scratch<Float>(capacity: $0) }
        LayerSlot.initialize(convolutions.map(LayerSlot.init) + dense.map(LayerSlot.init), in: &parameters, initialization: initialization,
                             outputInitialization: outputInitialization, rng: &rng)
    }

    private init(copying source: ConvolutionalNetwork) {
        (inputShape, imageShape, layout, inputScale, convolutions, dense, parameterCount) = (source.inputShape, source.imageShape, source.layout, source.inputScale, source.convolutions, source.dense, source.parameterCount)
        parameters = source.parameters
        gradients = [Float](repeating: 0, count: source.parameterCount)
        layerOutputs = source.layerOutputs.map { _ in Scratch<Float>() }
        flowing = (Scratch<Float>(), Scratch<Float>())
        col = Scratch<Float>(capacity: source.col.capacity)
        single = source.single.map { Scratch<Float>(capacity: $0.capacity) }
    }

    public func copy() -> ConvolutionalNetwork { ConvolutionalNetwork(copying: self) }

    /// Outputs for a batch of Float images (`inputShape` each).
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputSize, "ConvolutionalNetwork.forward: expected batch × \(inputSize), got \(input.shape)")
        let channelsFirst = layout.channelsFirst(input.scalars, shape: imageShape)
        cachedInput = .floats(channelsFirst)
        let scale = inputScale
        return channelsFirst.withUnsafeBufferPointer { images in
            forwardBatch(input.shape[0]) { $0.im2col(images.baseAddress! + $1 * inputSize, into: $2, pitch: $3) { $0 * scale } }
        }
    }

    /// Outputs for `batch` uint8 images (`inputShape` bytes each), read as pixel ÷ 255.
    public func forward(pixels: [UInt8], batch: Int) -> Tensor {
        precondition(pixels.count == batch * inputSize, "ConvolutionalNetwork.forward: \(pixels.count) bytes for \(batch) images of \(inputSize)")
        let channelsFirst = layout.channelsFirst(pixels, shape: imageShape)
        cachedInput = .pixels(channelsFirst)
        return channelsFirst.withUnsafeBufferPointer { images in
            forwardBatch(batch) { $0.im2col(images.baseAddress! + $1 * inputSize, into: $2, pitch: $3) { Float($0) * (1 / 255) } }
        }
    }

    /// The batch forward: `firstColumns(convolution, image, col, pitch)` fills the first layer's columns of one image.
    private func forwardBatch(_ batch: Int, firstColumns: (Convolution2D, Int, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        precondition(parameters.count == parameterCount && gradients.count == parameterCount, "ConvolutionalNetwork: parameter buffers resized")
        cachedBatch = batch
        for (index, width) in (convolutions.map(\.outputSize) + dense.map(\.outputSize)).enumerated() { layerOutputs[index].reserve(batch * width) }
        parameters.withUnsafeBufferPointer { p in
            for (index, convolution) in convolutions.enumerated() {
                let below = index > 0 ? UnsafePointer(layerOutputs[index - 1].pointer) : nil, width = index > 0 ? convolutions[index - 1].outputSize : 0
                convolution.forward(batch: batch, columns: { image, target, pitch in
                    if let below { convolution.im2col(below + image * width, into: target, pitch: pitch) { $0 } } else { firstColumns(convolution, image, target, pitch) }
                }, output: layerOutputs[index].pointer, parameters: p.baseAddress!, rectifies: true, workspace: workspace)
            }
            var input = UnsafePointer(layerOutputs[convolutions.count - 1].pointer)
            for (index, layer) in dense.enumerated() {
                let output = layerOutputs[convolutions.count + index].pointer
                layer.forward(input: input, output: output, rows: batch, parameters: p.baseAddress!)
                input = UnsafePointer(output)
            }
        }
        let last = layerOutputs[layerOutputs.count - 1].pointer
        return Tensor(shape: [batch, outputSize], scalars: Array(UnsafeBufferPointer(start: last, count: batch * outputSize)))
    }

    /// Adds the parameter gradient of the last forward into `gradients` and returns the gradient with respect to its
    /// Float input (zeros after a forward of pixels, whose gradient nothing uses).
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let batch = cachedBatch
        precondition(cachedInput != nil && outputGradient.shape == [batch, outputSize],
                     "ConvolutionalNetwork.backward: expected a gradient of shape [\(batch), \(outputSize)] after a forward, got \(outputGradient.shape)")
        var inputGradient = [Float](repeating: 0, count: batch * inputSize)
        let widest = (convolutions.map(\.outputSize) + dense.map(\.outputSize) + [inputSize]).max()!
        flowing.0.reserve(batch * widest)
        flowing.1.reserve(batch * widest)
        var (upstream, downstream) = (flowing.0.pointer, flowing.1.pointer)
        outputGradient.scalars.withUnsafeBufferPointer { upstream.update(from: $0.baseAddress!, count: $0.count) }
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                let (p, g) = (p.baseAddress!, g.baseAddress!)
                for index in dense.indices.reversed() {
                    let layer = dense[index]
                    let output = layerOutputs[convolutions.count + index].pointer
                    let input = UnsafePointer(layerOutputs[convolutions.count + index - 1].pointer)
                    layer.backward(input: input, output: output, upstream: upstream, downstream: downstream, rows: batch, parameters: p, gradients: g)
                    swap(&upstream, &downstream)
                }
                inputGradient.withUnsafeMutableBufferPointer { dInput in
                    for index in convolutions.indices.reversed() {
                        let convolution = convolutions[index]
                        let output = layerOutputs[index].pointer
                        Activation.relu.backpropagate(output: output, upstream: upstream, into: upstream, count: batch * convolution.outputSize)
                        let needsInput = index > 0 || cachedInput!.isFloats
                        let below = index > 0 ? downstream : dInput.baseAddress!
                        if needsInput { below.update(repeating: 0, count: batch * convolution.inputSize) }
                        let gradient = UnsafePointer(upstream)
                        withColumns(of: index) { columns in
                            convolution.backward(batch: batch, columns: columns, outputGradient: gradient, inputGradient: needsInput ? below : nil,
                                                 parameters: p, gradients: g, workspace: workspace)
                        }
                        swap(&upstream, &downstream)
                    }
                }
            }
        }
        if inputScale != 1 { for index in inputGradient.indices { inputGradient[index] *= inputScale } }
        return Tensor(shape: [batch, inputSize], scalars: layout.restoring(inputGradient, shape: imageShape))
    }

    /// Calls `body` with what fills layer `index`'s columns of one image of the cached forward: (image, target, pitch).
    private func withColumns(of index: Int, _ body: ((Int, UnsafeMutablePointer<Float>, Int) -> Void) -> Void) {
        let convolution = convolutions[index], size = inputSize
        guard index == 0 else {
            let below = UnsafePointer(layerOutputs[index - 1].pointer), width = convolutions[index - 1].outputSize
            return body { image, target, pitch in convolution.im2col(below + image * width, into: target, pitch: pitch) { $0 } }
        }
        cachedInput!.withColumns(of: convolution, imageSize: size, inputScale: inputScale, body)
    }

    public func forwardSingle(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count == inputSize && output.count == outputSize, "ConvolutionalNetwork.forwardSingle: sizes")
        guard layout == .channelsFirst else {
            return layout.channelsFirst(Array(input), shape: imageShape).withUnsafeBufferPointer { forwardSingleChannelsFirst($0, into: output) }
        }
        forwardSingleChannelsFirst(input, into: output)
    }

    private func forwardSingleChannelsFirst(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        parameters.withUnsafeBufferPointer { p in
            for (index, convolution) in convolutions.enumerated() {
                let scale = index == 0 ? inputScale : 1
                convolution.im2col(index == 0 ? input.baseAddress! : UnsafePointer(single[index - 1].pointer), into: col.pointer) { $0 * scale }
                convolution.forward(col: col.pointer, parameters: p.baseAddress!, output: single[index].pointer)
                Activation.relu.apply(single[index].pointer, count: convolution.outputSize)
            }
            for (index, layer) in dense.enumerated() {
                layer.forward(input: UnsafePointer(single[convolutions.count + index - 1].pointer), output: single[convolutions.count + index].pointer,
                              rows: 1, parameters: p.baseAddress!)
            }
        }
        output.baseAddress!.update(from: single[single.count - 1].pointer, count: outputSize)
    }
}
