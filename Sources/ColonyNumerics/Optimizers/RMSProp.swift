/// RMSProp as torch.optim.RMSprop computes it (no weight decay):
///
///     v ← α·v + (1 − α)·g²
///     centered: ḡ ← α·ḡ + (1 − α)·g,  d = √(v − ḡ²) + ε      otherwise: d = √v + ε
///     momentum μ > 0: b ← μ·b + g/d,  θ ← θ − lr·b          otherwise: θ ← θ − lr·g/d
///
/// ε is added outside the square root (TensorFlow adds it inside, so its ε values differ);
/// A3C/IMPALA-style settings therefore need converting, not copying.
public struct RMSProp: Optimizer {
    public var alpha: Float
    public var epsilon: Float
    public var momentum: Float
    public let centered: Bool
    public private(set) var stepCount = 0
    private var squareAverage: [Float] = []
    private var gradientAverage: [Float] = []
    private var momentumBuffer: [Float] = []

    public init(alpha: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0, centered: Bool = false) {
        precondition((0...1).contains(alpha) && epsilon >= 0 && momentum >= 0, "RMSProp: alpha in [0, 1], epsilon ≥ 0, momentum ≥ 0")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
    }

    public mutating func step(parameters: inout [Float], gradients: [Float], learningRate: Float) {
        precondition(parameters.count == gradients.count, "RMSProp.step: \(parameters.count) parameters, \(gradients.count) gradients")
        if squareAverage.isEmpty {
            squareAverage = Array(repeating: 0, count: parameters.count)
            if centered { gradientAverage = squareAverage }
            if momentum > 0 { momentumBuffer = squareAverage }
        }
        precondition(squareAverage.count == parameters.count, "RMSProp.step: state holds \(squareAverage.count) parameters, got \(parameters.count)")
        // Momentum switched on after a restore or mid-run starts from a zero buffer, as in PyTorch.
        if momentum > 0 && momentumBuffer.isEmpty { momentumBuffer = Array(repeating: 0, count: parameters.count) }
        stepCount += 1
        let (alpha, epsilon, momentum, centered) = (alpha, epsilon, momentum, centered)
        squareAverage.withUnsafeMutableBufferPointer { v in
            gradientAverage.withUnsafeMutableBufferPointer { gAverage in
                momentumBuffer.withUnsafeMutableBufferPointer { b in
                    parameters.withUnsafeMutableBufferPointer { theta in
                        gradients.withUnsafeBufferPointer { g in
                            for i in 0..<theta.count {
                                v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i]
                                var denominator: Float
                                if centered {
                                    gAverage[i] += (1 - alpha) * (g[i] - gAverage[i])
                                    denominator = (v[i] - gAverage[i] * gAverage[i]).squareRoot()
                                } else {
                                    denominator = v[i].squareRoot()
                                }
                                denominator += epsilon
                                if momentum > 0 {
                                    b[i] = momentum * b[i] + g[i] / denominator
                                    theta[i] -= learningRate * b[i]
                                } else {
                                    theta[i] -= learningRate * g[i] / denominator
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public var state: OptimizerState {
        var buffers: [String: [Float]] = [:]
        if !squareAverage.isEmpty { buffers["square_avg"] = squareAverage }
        if !gradientAverage.isEmpty { buffers["grad_avg"] = gradientAverage }
        if !momentumBuffer.isEmpty { buffers["momentum_buffer"] = momentumBuffer }
        return OptimizerState(stepCount: stepCount, buffers: buffers)
    }

    public mutating func restore(_ state: OptimizerState) throws {
        let names = ["square_avg"] + (centered ? ["grad_avg"] : []) + (momentum > 0 ? ["momentum_buffer"] : [])
        let buffers = try state.validatedBuffers(names)
        stepCount = state.stepCount
        squareAverage = buffers[0]
        gradientAverage = centered ? buffers[1] : []
        momentumBuffer = momentum > 0 ? buffers[names.count - 1] : []
    }
}
