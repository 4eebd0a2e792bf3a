/// A learnable vector that belongs to no network: PPO's state-independent log-std, SAC's
/// log α. Its gradient is filled by the loss code that uses it.
///
/// Not thread-safe and not `Sendable`, like `MLP`: one owner.
public final class ParameterVector: Trainable {
    public var parameters: [Float]
    public var gradients: [Float]

    public init(_ initialValues: [Float]) {
        parameters = initialValues
        gradients = Array(repeating: 0, count: initialValues.count)
    }
}
