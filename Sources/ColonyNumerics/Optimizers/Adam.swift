/// Adam (Kingma & Ba), computed as torch.optim.Adam does (no weight decay, no amsgrad):
///
///     m ← m + (1 − β1)(g − m)            v ← β2·v + (1 − β2)·g²
///     θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// ε sits outside the square root and is scaled like PyTorch's, which matters for RL defaults
/// such as CleanRL's PPO ε = 1e-5.
///
/// The step runs with subnormals flushed to zero. A parameter that stops receiving gradient (the
/// weights of a dead ReLU unit) has its m decay until (1 − β1)·m rounds to zero, a few subnormal
/// ulps above it, where m then stays for good; in DQN's CartPole Q-network that is over half of all
/// moments, and each subnormal operand is a microcode assist (half of Adam's time). Flushed, such
/// moments are 0 instead of below 1.2e-38, and the parameters come out the same to the bit: the
/// update a subnormal moment makes, at most lr/(1 − β1) · 1.2e-38 / ε, is below half an ulp of any
/// parameter larger than about 1e-20 (tests compare with an unflushed reference). Such moments (they
/// stop decaying at the smallest normals, where (1 − β1)·m flushes) also let the step skip the
/// parameter's update, which then provably rounds back to the parameter.
public struct Adam: Optimizer {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public private(set) var stepCount = 0
    private var firstMoment: [Float] = []
    private var secondMoment: [Float] = []

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon >= 0, "Adam: betas must lie in [0, 1), epsilon ≥ 0")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public mutating func step(parameters: inout [Float], gradients: [Float], learningRate: Float) {
        precondition(parameters.count == gradients.count, "Adam.step: \(parameters.count) parameters, \(gradients.count) gradients")
        if firstMoment.isEmpty {
            firstMoment = Array(repeating: 0, count: parameters.count)
            secondMoment = firstMoment
        }
        precondition(firstMoment.count == parameters.count, "Adam.step: state holds \(firstMoment.count) parameters, got \(parameters.count)")
        stepCount += 1
        // The scalar factors in Double, as PyTorch computes them in Python floats.
        let step = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - VectorMath.power(Double(beta1), step)))
        let correction2Root = Float((1 - VectorMath.power(Double(beta2), step)).squareRoot())
        let (beta1, beta2, epsilon) = (beta1, beta2, epsilon)
        let skipsNegligibleUpdates = epsilon > 0 && 0x1p-100 / epsilon < .infinity && stepSize > 0 && stepSize.isFinite
        VectorMath.withSubnormalsFlushedToZero {
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    parameters.withUnsafeMutableBufferPointer { theta in
                        gradients.withUnsafeBufferPointer { g in
                            // Eight lanes at a time (sqrt and divide vectorise: see VectorMath.squareRoot);
                            // the same per-element arithmetic as the scalar tail, so results do not depend
                            // on the split.
                            let lanes = theta.count & ~7
                            let (b1, b2) = (SIMD8<Float>(repeating: beta1), SIMD8<Float>(repeating: beta2))
                            let (one, size) = (SIMD8<Float>(repeating: 1), SIMD8<Float>(repeating: stepSize))
                            let (root, eps) = (SIMD8<Float>(repeating: correction2Root), SIMD8<Float>(repeating: epsilon))
                            var i = 0
                            // Lanes whose update cannot move θ skip the square root and both divisions: with
                            // |m| < `negligible`, |stepSize·m| ≤ 2⁻¹²⁶ and the quotient is at most 2⁻¹²⁶/ε,
                            // under half an ulp of any |θ| > `significant`, so θ − quotient rounds to θ.
                            // That is the moment of a dead unit's weight (see the type's comment).
                            let negligible = SIMD8<Float>(repeating: skipsNegligibleUpdates ? 0x1p-126 / stepSize * (1 - 0x1p-20) : 0)
                            let significant = SIMD8<Float>(repeating: skipsNegligibleUpdates ? 0x1p-100 / epsilon : .infinity)
                            while i < lanes {
                                let gi = UnsafeRawPointer(g.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                                var mi = UnsafeRawPointer(m.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                                var vi = UnsafeRawPointer(v.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                                let ti = UnsafeRawPointer(theta.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self)
                                mi += (one - b1) * (gi - mi)
                                vi = b2 * vi + (one - b2) * gi * gi
                                UnsafeMutableRawPointer(m.baseAddress! + i).storeBytes(of: mi, as: SIMD8<Float>.self)
                                UnsafeMutableRawPointer(v.baseAddress! + i).storeBytes(of: vi, as: SIMD8<Float>.self)
                                if all((mi .< negligible) .& (mi .> -negligible) .& ((ti .> significant) .| (ti .< -significant))) {
                                    i += 8
                                    continue
                                }
                                let updated = ti - size * mi / (VectorMath.squareRoot(vi) / root + eps)
                                UnsafeMutableRawPointer(theta.baseAddress! + i).storeBytes(of: updated, as: SIMD8<Float>.self)
                                i += 8
                            }
                            while i < theta.count {
                                m[i] += (1 - beta1) * (g[i] - m[i])
                                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                theta[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }

    public var state: OptimizerState {
        OptimizerState(stepCount: stepCount, buffers: firstMoment.isEmpty ? [:] : ["exp_avg": firstMoment, "exp_avg_sq": secondMoment])
    }

    public mutating func restore(_ state: OptimizerState) throws {
        let buffers = try state.validatedBuffers(["exp_avg", "exp_avg_sq"])
        stepCount = state.stepCount
        (firstMoment, secondMoment) = (buffers[0], buffers[1])
    }
}
