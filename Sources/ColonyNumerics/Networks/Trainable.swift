/// Anything an optimizer updates: one flat parameter buffer and a gradient buffer of equal
/// length. Networks and loose learnable vectors (a log-std, SAC's log α) share the same
/// optimizer, clipping and checkpoint code through it.
///
/// Class-bound so that `&model.parameters` is updated in place, never copied.
public protocol Trainable: AnyObject {
    var parameters: [Float] { get set }
    var gradients: [Float] { get set }
}

extension Trainable {
    /// Call before each backward pass that starts a new gradient: backward passes accumulate.
    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Overwrites the parameters with `source`'s in place (no allocation): a hard target update.
    public func copyParameters(from source: some Trainable) {
        if source === self { return }
        precondition(source.parameters.count == parameters.count, "copyParameters: \(source.parameters.count) parameters, expected \(parameters.count)")
        parameters.withUnsafeMutableBufferPointer { target in
            source.parameters.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// Polyak averaging toward `source`: θ ← θ + τ·(θ_source − θ); τ ≥ 1 is a hard copy. The one
    /// soft target update of every agent (DQN, SAC, TD3). O(parameters.count).
    public func softUpdate(from source: some Trainable, tau: Float) {
        precondition(tau >= 0, "softUpdate: tau \(tau) is negative")
        if tau >= 1 { return copyParameters(from: source) }
        if source === self { return }
        precondition(source.parameters.count == parameters.count, "softUpdate: \(source.parameters.count) parameters, expected \(parameters.count)")
        parameters.withUnsafeMutableBufferPointer { target in
            source.parameters.withUnsafeBufferPointer { online in
                for index in target.indices { target[index] += tau * (online[index] - target[index]) }
            }
        }
    }
}
