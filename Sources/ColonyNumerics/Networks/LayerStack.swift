/// Something whose flat parameter buffer may be a stack of linear layers (an `MLP`, a `QNetwork` built on one), so
/// that a buffer of one width and depth can be carried into a network of another (AgileRL's architecture mutation).
public protocol LayerStackShaped: AnyObject {
    /// The layers, input to output, with their offsets into `parameters`; nil when the buffer is laid out otherwise.
    var layerStack: [LinearLayer]? { get }
}

extension MLP: LayerStackShaped {
    public var layerStack: [LinearLayer]? { layers }
}

/// Carries the values of a flat layer-stack buffer (parameters, a target copy, an optimizer's moments) into a
/// buffer of another width and depth. Layers pair up as AgileRL's `preserve_parameters` pairs them by name:
/// hidden layer i with hidden layer i (while both stacks have one), the output layer with the output layer.
/// Within a pair the overlapping block is copied: weight rows and bias entries below both output sizes, weight
/// columns below both input sizes. Everything else of `target` (new units, a new layer) keeps its value: a fresh
/// initialization for parameters, zero for moments.
public enum LayerStackCarry {
    public static func carry(_ source: [Float], layers sourceLayers: [LinearLayer], into target: inout [Float], layers targetLayers: [LinearLayer]) {
        precondition(source.count == (sourceLayers.last?.biasRange.upperBound ?? 0), "carry: \(source.count) values for layers of \(sourceLayers.last?.biasRange.upperBound ?? 0)")
        precondition(target.count == (targetLayers.last?.biasRange.upperBound ?? 0), "carry: \(target.count) values for layers of \(targetLayers.last?.biasRange.upperBound ?? 0)")
        guard let sourceOutput = sourceLayers.last, let targetOutput = targetLayers.last else { return }
        var pairs = (0..<min(sourceLayers.count, targetLayers.count) - 1).map { (sourceLayers[$0], targetLayers[$0]) }
        pairs.append((sourceOutput, targetOutput))
        for (from, to) in pairs {
            let rows = min(from.outputSize, to.outputSize), columns = min(from.inputSize, to.inputSize)
            for row in 0..<rows {
                let fromRow = from.weightRange.lowerBound + row * from.inputSize
                let toRow = to.weightRange.lowerBound + row * to.inputSize
                for column in 0..<columns { target[toRow + column] = source[fromRow + column] }
                target[to.biasRange.lowerBound + row] = source[from.biasRange.lowerBound + row]
            }
        }
    }
}
