/// The IMPALA ResNet encoder (Espeholt et al., 2018) with fully connected layers after it: sections of a 3×3
/// convolution, a 3×3 max-pool of stride 2 (padding 1) and residual blocks `x + conv(relu(conv(relu(x))))`, then
/// ReLU, flatten (PyTorch's order) and linear layers (ReLU between, `output` after the last). The layout follows
/// CleanRL's and Sample Factory's `ConvSequence`: convolutions 3×3 with padding 1 and a bias, no ReLU between sections.
///
/// All parameters in one flat buffer in PyTorch's layouts, section by section (the entry convolution, then each block's
/// two convolutions, weight before bias), then the linear layers: checkpoints, parameter messages and A3C's gradients
/// carry it as they carry an MLP's. Images come as Floats or as uint8 pixels read ÷255 by the first im2col. The forward
/// caches what backward needs; like every network it is used by one owner at a time.
public final class ResidualNetwork: Network {
    /// A section's output channels and the residual blocks after its max-pool.
    public struct Section: Sendable, Equatable {
        public var channels: Int, blocks: Int
        public init(channels: Int, blocks: Int) { (self.channels, self.blocks) = (channels, blocks) }
    }

    /// One residual block: `x + second(relu(first(relu(x))))`.
    public struct Block: Sendable, Equatable {
        public let first: Convolution2D, second: Convolution2D
    }

    /// A section's layers in order.
    public struct Stage: Sendable, Equatable {
        public let entry: Convolution2D
        public let pool: MaxPool2D
        public let blocks: [Block]
        /// Floats of the section's output (its pool's and its blocks').
        public var outputSize: Int { pool.outputSize }
    }

    /// One input image's shape as the network is given it: `imageShape` in `layout`.
    public let inputShape: [Int]
    /// One image channel first, [C, H, W], as the convolutions read it.
    public let imageShape: [Int]
    public let layout: ImageLayout
    /// What the Float forward multiplies each input by as its first layer reads it: 1/255 for a network that reads
    /// frames stored as Floats 0…255, so both forwards agree (`forward(pixels:)` always reads a byte ÷255).
    public let inputScale: Float
    public let stages: [Stage]
    public let dense: [LinearLayer]
    public let parameterCount: Int
    public var parameters: [Float]
    public var gradients: [Float]
    public var outputShape: [Int] { [dense[dense.count - 1].outputSize] }

    private var cachedInput: CachedImages?
    private var cachedBatch = 0
    /// The training forward's activations (backward reads them) and the acting path's, kept apart.
    private let training: Activations
    private let acting: Activations
    /// Gradients flowing down (two batch buffers, alternating), two more for a block's inner gradients, and the
    /// convolutions' backward scratch.
    private let gradientBuffers = (Scratch<Float>(), Scratch<Float>())
    private let batchScratch = (Scratch<Float>(), Scratch<Float>())
    private let workspace = ConvolutionWorkspace()

    /// The network of IMPALA's paper and CleanRL's `ppo_atari_envpool_async_jax_scan_impalanet`: sections of 16, 32
    /// and 32 channels with two blocks each, 256 units, `outputs` outputs (4×84×84 → 32×11×11 = 3872 features).
    public static func impala(inputShape: [Int] = [4, 84, 84], outputs: Int, initialization: LayerInitialization,
                              outputInitialization: LayerInitialization? = nil, inputScale: Float = 1, layout: ImageLayout = .channelsFirst,
                              rng: inout RandomSource) -> ResidualNetwork {
        ResidualNetwork(inputShape: inputShape, sections: [16, 32, 32].map { Section(channels: $0, blocks: 2) }, hiddenSizes: [256],
                        outputs: outputs, initialization: initialization, outputInitialization: outputInitialization, inputScale: inputScale,
                        layout: layout, rng: &rng)
    }

    /// Draws every layer's weight then bias from `rng`, in parameter order: `initialization` for all but the last
    /// linear layer.
    public init(inputShape: [Int], sections: [Section], hiddenSizes: [Int], outputs: Int, output: Activation = .identity,
                initialization: LayerInitialization, outputInitialization: LayerInitialization? = nil, inputScale: Float = 1,
                layout: ImageLayout = .channelsFirst, rng: inout RandomSource) {
        precondition(inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 }, "ResidualNetwork takes C × H × W images, got \(inputShape)")
        precondition(!sections.isEmpty && sections.allSatisfy { $0.channels > 0 && $0.blocks >= 0 } && outputs > 0,
                     "ResidualNetwork needs sections with channels and an output")
        (imageShape, self.layout) = (inputShape, layout)
        self.inputShape = layout.inputShape(channelsFirst: inputShape)
        self.inputScale = inputScale
        var offset = 0
        var (channels, height, width) = (inputShape[0], inputShape[1], inputShape[2])
        func convolution(_ inputChannels: Int, _ outputChannels: Int) -> Convolution2D {
            let layer = Convolution2D(inputChannels: inputChannels, outputChannels: outputChannels, kernel: 3, stride: 1, padding: 1,
                                      inputHeight: height, inputWidth: width, offset: offset)
            offset = layer.biasRange.upperBound
            return layer
        }
        var stages: [Stage] = []
        for section in sections {
            let entry = convolution(channels, section.channels)
            let pool = MaxPool2D(channels: section.channels, window: 3, stride: 2, padding: 1, inputHeight: height, inputWidth: width)
            (channels, height, width) = (section.channels, pool.outputHeight, pool.outputWidth)
            let blocks = (0..<section.blocks).map { _ in Block(first: convolution(channels, channels), second: convolution(channels, channels)) }
            stages.append(Stage(entry: entry, pool: pool, blocks: blocks))
        }
        let dense = LinearLayer.stack(sizes: [channels * height * width] + hiddenSizes + [outputs], output: output, offset: &offset)
        (self.stages, self.dense, parameterCount) = (stages, dense, offset)
        parameters = [Float](repeating: 0, count: offset)
        gradients = [Float](repeating: 0, count: offset)
        (training, acting) = (Activations(stages: stages, dense: dense), Activations(stages: stages, dense: dense))
        let convolutions = stages.flatMap { [$0.entry] + $0.blocks.flatMap { [$0.first, $0.second] } }
        LayerSlot.initialize(convolutions.map(LayerSlot.init) + dense.map(LayerSlot.init), in: &parameters, initialization: initialization,
                             outputInitialization: outputInitialization, rng: &rng)
    }

    private init(copying source: ResidualNetwork) {
        (inputShape, imageShape, layout, inputScale, stages, dense, parameterCount) = (source.inputShape, source.imageShape, source.layout, source.inputScale, source.stages, source.dense, source.parameterCount)
        parameters = source.parameters
        gradients = [Float](repeating: 0, count: source.parameterCount)
        (training, acting) = (Activations(stages: stages, dense: dense), Activations(stages: stages, dense: dense))
    }

    public func copy() -> ResidualNetwork { ResidualNetwork(copying: self) }

    /// Outputs for a batch of Float images (`inputShape` each).
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputSize, "ResidualNetwork.forward: expected batch × \(inputSize), got \(input.shape)")
        let channelsFirst = layout.channelsFirst(input.scalars, shape: imageShape)
        cachedInput = .floats(channelsFirst)
        cachedBatch = input.shape[0]
        let scale = inputScale
        channelsFirst.withUnsafeBufferPointer { run(training, batch: input.shape[0], images: $0.baseAddress!, value: { $0 * scale }) }
        return training.result(batch: input.shape[0])
    }

    /// Outputs for `batch` uint8 images (`inputShape` bytes each), read as pixel ÷ 255.
    public func forward(pixels: [UInt8], batch: Int) -> Tensor {
        precondition(pixels.count == batch * inputSize, "ResidualNetwork.forward: \(pixels.count) bytes for \(batch) images of \(inputSize)")
        let channelsFirst = layout.channelsFirst(pixels, shape: imageShape)
        cachedInput = .pixels(channelsFirst)
        cachedBatch = batch
        channelsFirst.withUnsafeBufferPointer { run(training, batch: batch, images: $0.baseAddress!, value: { Float($0) * (1 / 255) }) }
        return training.result(batch: batch)
    }

    public func forwardSingle(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count == inputSize && output.count == outputSize, "ResidualNetwork.forwardSingle: sizes")
        let scale = inputScale
        if layout == .channelsFirst {
            run(acting, batch: 1, images: input.baseAddress!, value: { $0 * scale })
        } else {
            layout.channelsFirst(Array(input), shape: imageShape).withUnsafeBufferPointer { run(acting, batch: 1, images: $0.baseAddress!, value: { $0 * scale }) }
        }
        output.baseAddress!.update(from: acting.dense[dense.count - 1].pointer, count: outputSize)
    }

    /// The forward of `batch` images into `activations`; `value` converts an input element to a Float.
    private func run<Element>(_ activations: Activations, batch: Int, images: UnsafePointer<Element>, value: (Element) -> Float) {
        precondition(parameters.count == parameterCount && gradients.count == parameterCount, "ResidualNetwork: parameter buffers resized")
        activations.reserve(batch: batch)
        parameters.withUnsafeBufferPointer { p in
            let p = p.baseAddress!
            for (index, stage) in stages.enumerated() {
                let output = activations.stages[index]
                if index == 0 {
                    convolve(stage.entry, batch: batch, output: output.entry.pointer, parameters: p, activations: activations) { image, target, pitch in
                        stage.entry.im2col(images + image * self.inputSize, into: target, pitch: pitch, value: value)
                    }
                } else {
                    let below = UnsafePointer(activations.stageOutput(index - 1))
                    let size = stages[index - 1].outputSize
                    convolve(stage.entry, batch: batch, output: output.entry.pointer, parameters: p, activations: activations) { image, target, pitch in
                        stage.entry.im2col(below + image * size, into: target, pitch: pitch) { $0 }
                    }
                }
                ThreadShares.forEach(batch) { image in
                    stage.pool.forward(output.entry.pointer + image * stage.entry.outputSize, into: output.pooled.pointer + image * stage.outputSize,
                                       source: output.poolSource.pointer + image * stage.outputSize)
                }
                var blockInput = UnsafePointer(output.pooled.pointer)
                for (blockIndex, block) in stage.blocks.enumerated() {
                    let (hidden, result) = (output.hidden[blockIndex].pointer, output.outputs[blockIndex].pointer)
                    let size = stage.outputSize
                    let input = blockInput
                    convolve(block.first, batch: batch, output: hidden, parameters: p, activations: activations) { image, target, pitch in
                        block.first.im2col(input + image * size, into: target, pitch: pitch) { max(0, $0) }
                    }
                    convolve(block.second, batch: batch, output: result, parameters: p, activations: activations) { image, target, pitch in
                        block.second.im2col(UnsafePointer(hidden) + image * size, into: target, pitch: pitch) { max(0, $0) }
                    }
                    for index in 0..<(batch * size) { result[index] += input[index] }
                    blockInput = UnsafePointer(result)
                }
            }
            let features = activations.features.pointer
            let last = activations.stageOutput(stages.count - 1)
            for index in 0..<(batch * dense[0].inputSize) { features[index] = max(0, last[index]) }
            var input = UnsafePointer(features)
            for (index, layer) in dense.enumerated() {
                layer.forward(input: input, output: activations.dense[index].pointer, rows: batch, parameters: p)
                input = UnsafePointer(activations.dense[index].pointer)
            }
        }
    }

    /// One convolution (no activation) of `batch` images; `columns(image, target, pitch)` fills one image's columns.
    private func convolve(_ convolution: Convolution2D, batch: Int, output: UnsafeMutablePointer<Float>, parameters: UnsafePointer<Float>,
                          activations: Activations, columns: (Int, UnsafeMutablePointer<Float>, Int) -> Void) {
        convolution.forward(batch: batch, columns: columns, output: output, parameters: parameters, rectifies: false, workspace: activations.workspace)
    }

    /// Adds the parameter gradient of the last forward into `gradients` and returns the gradient with respect to its
    /// Float input (zeros after a forward of pixels, whose gradient nothing uses).
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let batch = cachedBatch
        precondition(cachedInput != nil && outputGradient.shape == [batch, outputSize],
                     "ResidualNetwork.backward: expected a gradient of shape [\(batch), \(outputSize)] after a forward, got \(outputGradient.shape)")
        let activations = training
        let widest = (stages.map(\.entry.outputSize) + dense.map(\.outputSize) + dense.map(\.inputSize)).max()!
        gradientBuffers.0.reserve(batch * widest)
        gradientBuffers.1.reserve(batch * widest)
        var (upstream, downstream) = (gradientBuffers.0.pointer, gradientBuffers.1.pointer)
        outputGradient.scalars.withUnsafeBufferPointer { upstream.update(from: $0.baseAddress!, count: $0.count) }
        var inputGradient = [Float](repeating: 0, count: batch * inputSize)
        let floatInput = cachedInput!.isFloats
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                let (p, g) = (p.baseAddress!, g.baseAddress!)
                for index in dense.indices.reversed() {
                    let input = UnsafePointer(index == 0 ? activations.features.pointer : activations.dense[index - 1].pointer)
                    dense[index].backward(input: input, output: activations.dense[index].pointer, upstream: upstream, downstream: downstream,
                                          rows: batch, parameters: p, gradients: g)
                    swap(&upstream, &downstream)
                }
                // Through the ReLU before flatten: its output is `features`.
                Activation.relu.backpropagate(output: activations.features.pointer, upstream: upstream, into: upstream, count: batch * dense[0].inputSize)
                inputGradient.withUnsafeMutableBufferPointer { dInput in
                    for index in stages.indices.reversed() {
                        let stage = stages[index], stored = activations.stages[index]
                        let size = stage.outputSize
                        for blockIndex in stage.blocks.indices.reversed() {
                            let block = stage.blocks[blockIndex]
                            let input = UnsafePointer(blockIndex == 0 ? stored.pooled.pointer : stored.outputs[blockIndex - 1].pointer)
                            blockBackward(block, batch: batch, input: input, hidden: UnsafePointer(stored.hidden[blockIndex].pointer),
                                          outputGradient: upstream, inputGradient: downstream, parameters: p, gradients: g)
                            swap(&upstream, &downstream)
                        }
                        let entry = stage.entry
                        let needsInput = index > 0 || floatInput
                        let below = index > 0 ? downstream : dInput.baseAddress!
                        batchScratch.0.reserve(batch * entry.outputSize)
                        let poolGradient = batchScratch.0.pointer
                        poolGradient.update(repeating: 0, count: batch * entry.outputSize)
                        ThreadShares.forEach(batch) { image in
                            stage.pool.backward(upstream + image * size, source: stored.poolSource.pointer + image * size,
                                                into: poolGradient + image * entry.outputSize)
                        }
                        if needsInput { below.update(repeating: 0, count: batch * entry.inputSize) }
                        withEntryColumns(index) { columns in
                            entry.backward(batch: batch, columns: columns, outputGradient: poolGradient, inputGradient: needsInput ? below : nil,
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

    /// A batch through one block backward: `out = x + second(relu(h))`, `h = first(relu(x))`, so
    /// dx = d_out + relu′(x) ⊙ first-backward(relu′(h) ⊙ second-backward(d_out)).
    private func blockBackward(_ block: Block, batch: Int, input: UnsafePointer<Float>, hidden: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                               inputGradient: UnsafeMutablePointer<Float>, parameters p: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>) {
        let size = block.first.outputSize, count = batch * size
        batchScratch.0.reserve(count)
        batchScratch.1.reserve(count)
        let (hiddenGradient, residualGradient) = (batchScratch.0.pointer, batchScratch.1.pointer)
        hiddenGradient.update(repeating: 0, count: count)
        block.second.backward(batch: batch, columns: { image, target, pitch in block.second.im2col(hidden + image * size, into: target, pitch: pitch) { max(0, $0) } },
                              outputGradient: outputGradient, inputGradient: hiddenGradient, parameters: p, gradients: g, workspace: workspace)
        for index in 0..<count where hidden[index] <= 0 { hiddenGradient[index] = 0 }
        residualGradient.update(repeating: 0, count: count)
        block.first.backward(batch: batch, columns: { image, target, pitch in block.first.im2col(input + image * size, into: target, pitch: pitch) { max(0, $0) } },
                             outputGradient: hiddenGradient, inputGradient: residualGradient, parameters: p, gradients: g, workspace: workspace)
        for index in 0..<count { inputGradient[index] = outputGradient[index] + (input[index] > 0 ? residualGradient[index] : 0) }
    }

    /// Calls `body` with what fills section `index`'s entry-convolution columns of one image of the cached forward.
    private func withEntryColumns(_ index: Int, _ body: ((Int, UnsafeMutablePointer<Float>, Int) -> Void) -> Void) {
        let entry = stages[index].entry, size = inputSize
        guard index == 0 else {
            let below = UnsafePointer(training.stageOutput(index - 1)), width = stages[index - 1].outputSize
            return body { image, target, pitch in entry.im2col(below + image * width, into: target, pitch: pitch) { $0 } }
        }
        cachedInput!.withColumns(of: entry, imageSize: size, inputScale: inputScale, body)
    }
}

/// Everything one forward of a `ResidualNetwork` keeps, per batch: each section's entry output, pooled output with
/// where each maximum came from, each block's hidden and output, the rectified features and the linear outputs.
private final class Activations {
    final class Stage {
        let entry = Scratch<Float>(), pooled = Scratch<Float>(), poolSource = Scratch<Int32>()
        let hidden: [Scratch<Float>], outputs: [Scratch<Float>]
        init(blocks: Int) { (hidden, outputs) = ((0..<blocks).map { _ in Scratch<Float>() }, (0..<blocks).map { _ in Scratch<Float>() }) }
    }

    let shapes: [ResidualNetwork.Stage]
    let layers: [LinearLayer]
    let stages: [Stage]
    let features = Scratch<Float>()
    let dense: [Scratch<Float>]
    /// The convolutions' grouped columns and products.
    let workspace = ConvolutionWorkspace()

    init(stages shapes: [ResidualNetwork.Stage], dense layers: [LinearLayer]) {
        (self.shapes, self.layers) = (shapes, layers)
        stages = shapes.map { Stage(blocks: $0.blocks.count) }
        dense = layers.map { _ in Scratch<Float>() }
    }

    func reserve(batch: Int) {
        for (shape, stage) in zip(shapes, stages) {
            stage.entry.reserve(batch * shape.entry.outputSize)
            stage.pooled.reserve(batch * shape.outputSize)
            stage.poolSource.reserve(batch * shape.outputSize)
            for block in stage.hidden + stage.outputs { block.reserve(batch * shape.outputSize) }
        }
        features.reserve(batch * layers[0].inputSize)
        for (layer, output) in zip(layers, dense) { output.reserve(batch * layer.outputSize) }
    }

    /// Section `index`'s output: its last block's, or its pooled output when it has no blocks.
    func stageOutput(_ index: Int) -> UnsafeMutablePointer<Float> {
        stages[index].outputs.last?.pointer ?? stages[index].pooled.pointer
    }

    func result(batch: Int) -> Tensor {
        let size = layers[layers.count - 1].outputSize
        return Tensor(shape: [batch, size], scalars: Array(UnsafeBufferPointer(start: dense[dense.count - 1].pointer, count: batch * size)))
    }
}
