/// The nonlinearity after a linear layer. Raw values are the names configs and checkpoints use.
public enum Activation: String, Sendable, CaseIterable, Codable {
    case identity, tanh, relu

    /// Applies the activation in place. O(count).
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: break
        case .tanh: VectorMath.tanh(values, count: count)
        case .relu: VectorMath.relu(values, count: count)
        }
    }

    /// `gradient[i] = upstream[i] · f′` written with the activation's *output* (tanh′ = 1 − y²,
    /// relu′ = [y > 0]), so backward needs no pre-activation cache. Identity copies.
    func backpropagate(
        output: UnsafePointer<Float>, upstream: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch self {
        case .identity: gradient.update(from: upstream, count: count)
        case .tanh: for index in 0..<count { gradient[index] = upstream[index] * (1 - output[index] * output[index]) }
        case .relu:
            // Multiply by the 0/1 mask instead of branching, so the loop vectorises.
            for index in 0..<count {
                let mask: Float = output[index] > 0 ? 1 : 0
                gradient[index] = upstream[index] * mask
            }
        }
    }
}
