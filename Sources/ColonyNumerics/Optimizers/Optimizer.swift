/// A first-order update rule on flat buffers, with PyTorch's semantics so hyperparameters from
/// papers and reference code carry over unchanged.
///
/// Value types: the per-parameter state (moments, momentum) is sized on the first step and
/// can be exported and restored exactly for checkpoints. One optimizer per parameter buffer;
/// because these rules are elementwise, separate optimizers on an actor and a critic behave
/// exactly like one PyTorch optimizer over both.
public protocol Optimizer: Sendable {
    /// One update of `parameters` from `gradients` (read, not cleared). O(parameters.count).
    mutating func step(parameters: inout [Float], gradients: [Float], learningRate: Float)

    /// Updates taken so far (PyTorch's `step`).
    var stepCount: Int { get }

    /// Everything needed to continue bit-for-bit: the step count and named buffers.
    var state: OptimizerState { get }

    /// Continues from a saved `state`; throws when it does not fit this optimizer's configuration.
    mutating func restore(_ state: OptimizerState) throws
}

extension Optimizer {
    /// One update of a network or parameter vector from its accumulated gradients.
    public mutating func step(_ model: some Trainable, learningRate: Float) {
        step(parameters: &model.parameters, gradients: model.gradients, learningRate: learningRate)
    }
}
