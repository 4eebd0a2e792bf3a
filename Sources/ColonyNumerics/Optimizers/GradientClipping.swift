// Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_ (L2 norm): PPO, A2C and
// IMPALA clip the norm over all of an agent's parameters together, so the multi-buffer form
// takes every network and loose vector that one loss trains.

/// Scales `gradients` so their L2 norm is at most `maxNorm`; returns the norm before clipping.
/// O(count).
@discardableResult
public func clipGlobalNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
    let norm = globalNorm([gradients])
    scale(&gradients, by: clipCoefficient(norm: norm, maxNorm: maxNorm))
    return norm
}

/// Clips the gradients of several models as one vector; returns the norm before clipping.
@discardableResult
public func clipGlobalNorm(_ models: [any Trainable], maxNorm: Float) -> Float {
    let norm = globalNorm(models.map(\.gradients))
    let coefficient = clipCoefficient(norm: norm, maxNorm: maxNorm)
    for model in models { scale(&model.gradients, by: coefficient) }
    return norm
}

/// √(Σ g²) over all buffers, accumulated in Double.
private func globalNorm(_ buffers: [[Float]]) -> Float {
    var sum = 0.0
    for buffer in buffers {
        sum += buffer.withUnsafeBufferPointer { VectorMath.sumOfSquares($0) }
    }
    return Float(sum.squareRoot())
}

/// PyTorch's factor min(1, maxNorm / (norm + 1e-6)). A non-finite norm leaves gradients as they
/// are and is returned, so the caller sees it and can skip the step.
private func clipCoefficient(norm: Float, maxNorm: Float) -> Float {
    precondition(maxNorm >= 0, "clipGlobalNorm: maxNorm \(maxNorm) is negative")
    guard norm.isFinite else { return 1 }
    return Swift.min(1, maxNorm / (norm + 1e-6))
}

private func scale(_ values: inout [Float], by coefficient: Float) {
    guard coefficient < 1 else { return }
    values.withUnsafeMutableBufferPointer { buffer in
        for index in buffer.indices { buffer[index] *= coefficient }
    }
}
