/// An optimizer's resumable state. Buffer names follow PyTorch's `optimizer.state_dict()`
/// (`exp_avg`, `exp_avg_sq`, `square_avg`, `grad_avg`, `momentum_buffer`), so checkpoints read
/// the same in h5py as PyTorch's do. Before the first step the buffers are empty.
public struct OptimizerState: Sendable, Equatable {
    public var stepCount: Int
    public var buffers: [String: [Float]]

    public init(stepCount: Int, buffers: [String: [Float]]) {
        self.stepCount = stepCount
        self.buffers = buffers
    }

    /// The buffers named `expected`, checked to exist, to be alone and to share one length.
    /// A state that has not stepped may have no buffers; it yields empty ones.
    func validatedBuffers(_ expected: [String]) throws(OptimizerStateError) -> [[Float]] {
        guard stepCount >= 0 else { throw .negativeStepCount(stepCount) }
        if let unexpected = buffers.keys.sorted().first(where: { !expected.contains($0) }) { throw .unexpectedBuffer(unexpected) }
        if buffers.isEmpty && stepCount == 0 { return expected.map { _ in [] } }
        let found = try expected.map { name throws(OptimizerStateError) in
            guard let buffer = buffers[name] else { throw .missingBuffer(name) }
            return buffer
        }
        guard Set(found.map(\.count)).count <= 1 else { throw .mismatchedLengths }
        return found
    }
}
