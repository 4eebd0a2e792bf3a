/// Stochastic gradient descent as torch.optim.SGD computes it (no weight decay):
///
///     momentum μ > 0: b ← g on the first step, else b ← μ·b + (1 − dampening)·g
///                     d = g + μ·b (Nesterov) or d = b
///     θ ← θ − lr·d
public struct SGD: Optimizer {
    public var momentum: Float
    public var dampening: Float
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private var momentumBuffer: [Float] = []

    public init(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0, "SGD: momentum must be ≥ 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum requires momentum > 0 and zero dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    public mutating func step(parameters: inout [Float], gradients: [Float], learningRate: Float) {
        precondition(parameters.count == gradients.count, "SGD.step: \(parameters.count) parameters, \(gradients.count) gradients")
        stepCount += 1
        let (momentum, dampening, nesterov) = (momentum, dampening, nesterov)
        guard momentum > 0 else {
            parameters.withUnsafeMutableBufferPointer { theta in
                gradients.withUnsafeBufferPointer { g in
                    for i in 0..<theta.count { theta[i] -= learningRate * g[i] }
                }
            }
            return
        }
        let firstUse = momentumBuffer.isEmpty
        if firstUse { momentumBuffer = gradients }
        precondition(momentumBuffer.count == parameters.count, "SGD.step: state holds \(momentumBuffer.count) parameters, got \(parameters.count)")
        momentumBuffer.withUnsafeMutableBufferPointer { b in
            parameters.withUnsafeMutableBufferPointer { theta in
                gradients.withUnsafeBufferPointer { g in
                    for i in 0..<theta.count {
                        if !firstUse { b[i] = momentum * b[i] + (1 - dampening) * g[i] }
                        theta[i] -= learningRate * (nesterov ? g[i] + momentum * b[i] : b[i])
                    }
                }
            }
        }
    }

    public var state: OptimizerState {
        OptimizerState(stepCount: stepCount, buffers: momentumBuffer.isEmpty ? [:] : ["momentum_buffer": momentumBuffer])
    }

    public mutating func restore(_ state: OptimizerState) throws {
        let buffers = try state.validatedBuffers(momentum > 0 ? ["momentum_buffer"] : [])
        stepCount = state.stepCount
        momentumBuffer = buffers.first ?? []
    }
}
