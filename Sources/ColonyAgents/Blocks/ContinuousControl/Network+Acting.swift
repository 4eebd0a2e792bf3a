import ColonyNumerics

extension Network {
    /// Outputs for `count` input rows (`count × inputSize`, row-major) on the acting path:
    /// `forwardSingle` for one row (no batch workspace, no backward cache), one batched `forward`
    /// (one sgemm per layer) otherwise.
    func actingOutputs(_ inputs: [Float], count: Int) -> [Float] {
        guard count == 1 else { return forward(Tensor(shape: [count, inputSize], scalars: inputs)).scalars }
        return [Float](unsafeUninitializedCapacity: outputSize) { output, initialized in
            inputs.withUnsafeBufferPointer { forwardSingle($0, into: output) }
            initialized = outputSize
        }
    }
}
