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
}
