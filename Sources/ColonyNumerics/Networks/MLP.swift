/// A fully connected network `f_L(… f_1(x · W_1ᵀ + b_1) …)` with exact backward passes.
///
/// All parameters live in one contiguous `parameters` buffer and all gradients in one
/// `gradients` buffer of the same length; `layers` gives each weight's and bias's offsets.
/// Sending, averaging, checkpointing or copying a whole network is therefore one `[Float]`.
/// Weights are out×in, PyTorch's layout.
///
/// Use: `forward` a batch (it caches what `backward` needs), `backward` the loss gradient with
/// respect to the output (it *adds* into `gradients` and returns the gradient with respect to
/// the input), step an optimizer on `parameters`/`gradients`, `zeroGradients`. Do not change
/// `parameters` between a forward and its backward. `forwardSingle` acts on one observation
/// without allocating and without touching the backward cache.
///
/// Not thread-safe, and deliberately not `Sendable`: forward caches activations and the network
/// owns scratch memory, so one owner (an actor, a thread) uses it at a time. What crosses
/// isolation boundaries is `parameters`, a plain `[Float]`.
public final class MLP: Network {
    /// Widths from input to output, e.g. [4, 64, 64, 2].
    public let layerSizes: [Int]
    public let layers: [LinearLayer]
    public let parameterCount: Int
    /// Keep `parameterCount` scalars; every pass checks.
    public var parameters: [Float]
    /// Same layout as `parameters`; accumulated by `backward`, cleared by `zeroGradients`.
    public var gradients: [Float]

    public var inputSize: Int { layerSizes[0] }
    public var outputSize: Int { layerSizes[layerSizes.count - 1] }
    public var inputShape: [Int] { [inputSize] }
    public var outputShape: [Int] { [outputSize] }

    // Batch workspace, sized for `batchCapacity` rows: layer l's output at
    // batchCapacity · activationOffsets[l], followed by three batchCapacity × widest regions for
    // backward (the pre-activation gradient and two alternating input gradients). It grows to
    // the largest batch seen and is reused, so steady-state training does not allocate in it.
    private let activationOffsets: [Int]
    private let activationWidth: Int
    private let widest: Int
    private var workspace: UnsafeMutablePointer<Float>
    private var batchCapacity = 0
    /// The last forward's input (shared storage, not a copy) and batch size; nil before any forward.
    private var cachedInput: [Float] = []
    private var cachedBatch: Int?
    /// Two widest-layer vectors that `forwardSingle` alternates between.
    private let singleScratch: UnsafeMutablePointer<Float>
    /// Backward through a ReLU layer: per-column Σ|∂L/∂y| and the indices of the nonzero columns.
    private let columnMagnitudes: UnsafeMutablePointer<Float>
    private let liveColumns: UnsafeMutablePointer<Int>
    /// Live rows of a weight (or their weight gradient), allocated at the first sparse backward.
    private var rowScratch: UnsafeMutablePointer<Float>?

    /// A network with initialized parameters: `initialization` for every layer but the last,
    /// `outputInitialization` (default: the same) for the last. Layers draw from `rng` in order,
    /// weight before bias, so a seed reproduces the network exactly.
    public convenience init(
        sizes: [Int], hidden: Activation = .tanh, output: Activation = .identity,
        initialization: LayerInitialization, outputInitialization: LayerInitialization? = nil,
        rng: inout RandomSource
    ) {
        self.init(sizes: sizes, hidden: hidden, output: output)
        let layers = self.layers
        parameters.withUnsafeMutableBufferPointer { buffer in
            for (index, layer) in layers.enumerated() {
                let scheme = index == layers.count - 1 ? (outputInitialization ?? initialization) : initialization
                scheme.initialize(
                    weight: UnsafeMutableBufferPointer(rebasing: buffer[layer.weightRange]),
                    bias: UnsafeMutableBufferPointer(rebasing: buffer[layer.biasRange]),
                    fanIn: layer.inputSize, fanOut: layer.outputSize, rng: &rng)
            }
        }
    }

    /// The structure with all parameters zero.
    private init(sizes: [Int], hidden: Activation, output: Activation) {
        precondition(sizes.count >= 2 && sizes.allSatisfy { $0 > 0 }, "MLP needs at least two positive layer sizes, got \(sizes)")
        layerSizes = sizes
        var layers: [LinearLayer] = []
        var offset = 0
        for index in 0..<(sizes.count - 1) {
            let layer = LinearLayer(
                inputSize: sizes[index], outputSize: sizes[index + 1],
                activation: index == sizes.count - 2 ? output : hidden, offset: offset)
            layers.append(layer)
            offset = layer.biasRange.upperBound
        }
        self.layers = layers
        parameterCount = offset
        parameters = Array(repeating: 0, count: offset)
        gradients = Array(repeating: 0, count: offset)
        var offsets: [Int] = []
        var width = 0
        for layer in layers {
            offsets.append(width)
            width += layer.outputSize
        }
        activationOffsets = offsets
        activationWidth = width
        widest = sizes.max()!
        workspace = UnsafeMutablePointer.allocate(capacity: 1)
        singleScratch = UnsafeMutablePointer.allocate(capacity: 2 * widest)
        columnMagnitudes = UnsafeMutablePointer.allocate(capacity: widest)
        liveColumns = UnsafeMutablePointer.allocate(capacity: widest)
    }

    deinit {
        workspace.deallocate()
        singleScratch.deallocate()
        columnMagnitudes.deallocate()
        liveColumns.deallocate()
        rowScratch?.deallocate()
    }

    /// A network with the same structure and parameters and zero gradients: a target network.
    public func copy() -> MLP {
        let clone = MLP(sizes: layerSizes, hidden: layers[0].activation, output: layers[layers.count - 1].activation)
        clone.copyParameters(from: self)
        return clone
    }

    /// Outputs for a batch × inputSize matrix; keeps the activations for `backward`.
    /// O(batch · parameterCount), one sgemm per layer.
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inputSize, "MLP.forward: expected batch × \(inputSize), got \(input.shape)")
        checkBuffers()
        let batch = input.shape[0]
        reserveWorkspace(batch: batch)
        cachedInput = input.scalars
        cachedBatch = batch
        if batch == 0 { return Tensor(zeros: [0, outputSize]) }
        parameters.withUnsafeBufferPointer { p in
            input.scalars.withUnsafeBufferPointer { x in
                var layerInput = x.baseAddress!
                for (index, layer) in layers.enumerated() {
                    let y = activations(of: index)
                    let bias = p.baseAddress! + layer.biasRange.lowerBound
                    for row in 0..<batch { (y + row * layer.outputSize).update(from: bias, count: layer.outputSize) }
                    BLAS.gemm(
                        transposeA: false, transposeB: true, m: batch, n: layer.outputSize, k: layer.inputSize,
                        a: layerInput, lda: layer.inputSize, b: p.baseAddress! + layer.weightRange.lowerBound, ldb: layer.inputSize,
                        beta: 1, c: y, ldc: layer.outputSize)
                    layer.activation.apply(y, count: batch * layer.outputSize)
                    layerInput = UnsafePointer(y)
                }
            }
        }
        let output = UnsafeBufferPointer(start: activations(of: layers.count - 1), count: batch * outputSize)
        return Tensor(shape: [batch, outputSize], scalars: Array(output))
    }

    /// Given dL/doutput for the last `forward`, adds dL/dparameters into `gradients` and returns
    /// dL/dinput (what SAC's actor needs from its critic). May be called more than once per
    /// forward; each call adds. O(batch · parameterCount), two sgemm per layer.
    ///
    /// Through a ReLU layer, units whose output is zero for every row of the batch pass no
    /// gradient: their rows of ∂L/∂W get nothing and they add nothing to ∂L/∂x. Trained ReLU
    /// networks have many (70% of the second 256-unit layer of DQN's CartPole Q-network in a
    /// 64-row batch), so both products run over the live units only. The terms skipped are exact
    /// zeros, and OpenBLAS sums each element in the same order either way, so the result is the
    /// same to the bit (tests compare both paths). One exception, found by comparing the two on
    /// many shapes: for ∂L/∂x, OpenBLAS's kernels for an input width that is not a multiple of 16
    /// (an observation of 3 or 17 floats) sum in an order that depends on the unit count, so
    /// there ∂L/∂x stays the product over all units.
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let batch = cachedBatch else { preconditionFailure("MLP.backward needs a forward pass first") }
        precondition(
            outputGradient.shape == [batch, outputSize],
            "MLP.backward: expected a gradient of shape [\(batch), \(outputSize)], got \(outputGradient.shape)")
        checkBuffers()
        var inputGradient = [Float](repeating: 0, count: batch * inputSize)
        if batch == 0 { return Tensor(shape: [0, inputSize], scalars: inputGradient) }
        let preActivationGradient = backwardScratch(0)
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                cachedInput.withUnsafeBufferPointer { x in
                    outputGradient.scalars.withUnsafeBufferPointer { dOutput in
                        inputGradient.withUnsafeMutableBufferPointer { dInput in
                            var upstream = dOutput.baseAddress!
                            for index in layers.indices.reversed() {
                                let layer = layers[index]
                                let (inputSize, outputSize) = (layer.inputSize, layer.outputSize)
                                layer.activation.backpropagate(
                                    output: activations(of: index), upstream: upstream, into: preActivationGradient, count: batch * outputSize)
                                let layerInput = index == 0 ? x.baseAddress! : UnsafePointer(activations(of: index - 1))
                                // db += Σ_rows dY
                                let biasGradient = g.baseAddress! + layer.biasRange.lowerBound
                                for row in 0..<batch {
                                    let rowGradient = preActivationGradient + row * outputSize
                                    for column in 0..<outputSize { biasGradient[column] += rowGradient[column] }
                                }
                                // dX = dY · W goes into the buffer the next (lower) layer does not read from.
                                let downstream = index == 0 ? dInput.baseAddress! : backwardScratch(1 + index % 2)
                                let weight = p.baseAddress! + layer.weightRange.lowerBound
                                let weightGradient = g.baseAddress! + layer.weightRange.lowerBound
                                // Worth it where the products are large next to packing the live columns of dY:
                                // not for a first layer fed a handful of observation features.
                                let live = layer.activation == .relu && inputSize >= 32
                                    ? liveColumnCount(of: preActivationGradient, rows: batch, columns: outputSize) : outputSize
                                if live * 8 <= outputSize * 7 {
                                    // The live columns of dY, packed into the buffer that held this layer's upstream.
                                    backpropagateLiveUnits(
                                        live, of: layer, gradient: preActivationGradient, packed: backwardScratch(1 + (index + 1) % 2), batch: batch,
                                        input: layerInput, weight: weight, weightGradient: weightGradient, inputGradient: downstream)
                                } else {
                                    // dW += dYᵀ · X
                                    BLAS.gemm(
                                        transposeA: true, transposeB: false, m: outputSize, n: inputSize, k: batch,
                                        a: preActivationGradient, lda: outputSize, b: layerInput, ldb: inputSize,
                                        beta: 1, c: weightGradient, ldc: inputSize)
                                    BLAS.gemm(
                                        transposeA: false, transposeB: false, m: batch, n: inputSize, k: outputSize,
                                        a: preActivationGradient, lda: outputSize, b: weight,
                                        ldb: inputSize, beta: 0, c: downstream, ldc: inputSize)
                                }
                                upstream = UnsafePointer(downstream)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, inputSize], scalars: inputGradient)
    }

    /// How many columns of a rows × columns gradient hold a nonzero (or NaN); their indices go to
    /// `liveColumns` in increasing order. O(rows · columns).
    private func liveColumnCount(of gradient: UnsafePointer<Float>, rows: Int, columns: Int) -> Int {
        // Σ|g| per column is zero exactly when every entry is (a NaN stays NaN, so counts as live).
        let magnitudes = columnMagnitudes
        magnitudes.update(repeating: 0, count: columns)
        for row in 0..<rows {
            let values = gradient + row * columns
            for column in 0..<columns { magnitudes[column] += abs(values[column]) }
        }
        var live = 0
        for column in 0..<columns where magnitudes[column] != 0 {
            liveColumns[live] = column
            live += 1
        }
        return live
    }

    /// The backward products of one layer over its `live` units (`liveColumns`): dW[live] += dY_liveᵀ · X
    /// and dX = dY_live · W[live] (over all units when the input width is not a multiple of 16). Same
    /// per-element sums as the dense products, minus exact zeros.
    private func backpropagateLiveUnits(
        _ live: Int, of layer: LinearLayer, gradient: UnsafePointer<Float>, packed: UnsafeMutablePointer<Float>, batch: Int,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        let (inputSize, outputSize) = (layer.inputSize, layer.outputSize)
        guard live > 0 else {
            // dY is all zeros: nothing to add, and dX = 0 (a dense product would give ±0 alike).
            inputGradient.update(repeating: 0, count: batch * inputSize)
            return
        }
        if rowScratch == nil {
            rowScratch = UnsafeMutablePointer.allocate(capacity: layers.map { $0.inputSize * $0.outputSize }.max()!)
        }
        let rows = rowScratch!
        for row in 0..<batch {
            let source = gradient + row * outputSize, target = packed + row * live
            for index in 0..<live { target[index] = source[liveColumns[index]] }
        }
        // dW rows of the live units: (dY_liveᵀ · X) computed apart, then added, as beta = 1 would.
        BLAS.gemm(
            transposeA: true, transposeB: false, m: live, n: inputSize, k: batch,
            a: packed, lda: live, b: input, ldb: inputSize, beta: 0, c: rows, ldc: inputSize)
        for index in 0..<live {
            let target = weightGradient + liveColumns[index] * inputSize, source = rows + index * inputSize
            for column in 0..<inputSize { target[column] += source[column] }
        }
        guard inputSize % 16 == 0 else {
            BLAS.gemm(
                transposeA: false, transposeB: false, m: batch, n: inputSize, k: outputSize,
                a: gradient, lda: outputSize, b: weight, ldb: inputSize, beta: 0, c: inputGradient, ldc: inputSize)
            return
        }
        // dX = dY_live · W[live rows].
        for index in 0..<live {
            (rows + index * inputSize).update(from: weight + liveColumns[index] * inputSize, count: inputSize)
        }
        BLAS.gemm(
            transposeA: false, transposeB: false, m: batch, n: inputSize, k: live,
            a: packed, lda: live, b: rows, ldb: inputSize, beta: 0, c: inputGradient, ldc: inputSize)
    }

    /// Output for one observation into `output`, allocation-free: the acting path of a worker.
    /// Same arithmetic as `forward` up to summation order; leaves the backward cache alone.
    /// `input` and `output` must not overlap. O(parameterCount).
    public func forwardSingle(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count == inputSize && output.count == outputSize, "MLP.forwardSingle: expected \(inputSize) in, \(outputSize) out")
        precondition(parameters.count == parameterCount, "MLP.parameters must hold \(parameterCount) scalars, has \(parameters.count)")
        parameters.withUnsafeBufferPointer { p in
            var layerInput = input.baseAddress!
            for (index, layer) in layers.enumerated() {
                let y = index == layers.count - 1 ? output.baseAddress! : singleScratch + (index % 2) * widest
                MLP.affine(
                    weight: p.baseAddress! + layer.weightRange.lowerBound, bias: p.baseAddress! + layer.biasRange.lowerBound,
                    input: layerInput, output: y, inputSize: layer.inputSize, outputSize: layer.outputSize)
                layer.activation.apply(y, count: layer.outputSize)
                layerInput = UnsafePointer(y)
            }
        }
    }

    /// `output = W · input + bias` for one vector, W out×in row-major. Four rows at a time with
    /// eight-lane accumulators: the four independent sums hide add latency, and each input chunk
    /// is loaded once per four rows. Faster than sgemv at these sizes, whose call overhead
    /// dominates a 64×64 product.
    @inline(__always)
    private static func affine(
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, inputSize: Int, outputSize: Int
    ) {
        let vectorEnd = inputSize & ~7
        var row = 0
        while row + 4 <= outputSize {
            let w0 = weight + row * inputSize, w1 = w0 + inputSize, w2 = w1 + inputSize, w3 = w2 + inputSize
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var column = 0
            while column < vectorEnd {
                let x = load8(input + column)
                a0 += load8(w0 + column) * x
                a1 += load8(w1 + column) * x
                a2 += load8(w2 + column) * x
                a3 += load8(w3 + column) * x
                column += 8
            }
            var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
            while column < inputSize {
                let x = input[column]
                s0 += w0[column] * x
                s1 += w1[column] * x
                s2 += w2[column] * x
                s3 += w3[column] * x
                column += 1
            }
            output[row] = s0 + bias[row]
            output[row + 1] = s1 + bias[row + 1]
            output[row + 2] = s2 + bias[row + 2]
            output[row + 3] = s3 + bias[row + 3]
            row += 4
        }
        while row < outputSize {
            let w = weight + row * inputSize
            var accumulator = SIMD8<Float>()
            var column = 0
            while column < vectorEnd {
                accumulator += load8(w + column) * load8(input + column)
                column += 8
            }
            var sum = accumulator.sum()
            while column < inputSize {
                sum += w[column] * input[column]
                column += 1
            }
            output[row] = sum + bias[row]
            row += 1
        }
    }

    @inline(__always)
    private static func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    private func activations(of layer: Int) -> UnsafeMutablePointer<Float> {
        workspace + batchCapacity * activationOffsets[layer]
    }

    private func backwardScratch(_ index: Int) -> UnsafeMutablePointer<Float> {
        workspace + batchCapacity * (activationWidth + index * widest)
    }

    private func reserveWorkspace(batch: Int) {
        guard batch > batchCapacity else { return }
        workspace.deallocate()
        workspace = UnsafeMutablePointer.allocate(capacity: batch * (activationWidth + 3 * widest))
        batchCapacity = batch
    }

    private func checkBuffers() {
        precondition(
            parameters.count == parameterCount && gradients.count == parameterCount,
            "MLP.parameters and .gradients must hold \(parameterCount) scalars, have \(parameters.count) and \(gradients.count)")
    }
}
