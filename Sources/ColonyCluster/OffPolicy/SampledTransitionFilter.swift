import ColonyAgents

/// Keeps the items of a sampled batch that fit the run (`ReceivedValueBounds.transitionProblem`, a
/// weight in [0, 1]) and names the rest. The replay server checks inserts, but a table restored from
/// an older checkpoint, or a server of another run found through the coordinator, may still hand out
/// an action of 7 for a 2-action space: the learner must never index its networks with it.
struct SampledTransitionFilter {
    let bounds: ReceivedValueBounds
    let layout: TransitionLayout

    struct Result {
        var payloads: [Float] = []
        var keys: [UInt64] = []
        var weights: [Float] = []
        /// Items refused (all of them when the batch's shape is wrong).
        var rejected = 0
        /// Keys of refused items, to set their priority to 0 (empty when the shape was wrong).
        var rejectedKeys: [UInt64] = []
        /// The first refusal's reason.
        var problem: String?
    }

    func filter(_ sample: ReplaySample) -> Result {
        var result = Result()
        let size = layout.itemSize
        guard sample.weights.count == sample.keys.count, sample.payloads.count == sample.keys.count * size else {
            result.rejected = max(1, sample.keys.count)
            result.problem = "a batch of \(sample.keys.count) keys, \(sample.weights.count) weights and \(sample.payloads.count) floats (items of \(size))"
            return result
        }
        result.payloads.reserveCapacity(sample.payloads.count)
        sample.payloads.withUnsafeBufferPointer { payloads in
            for (row, key) in sample.keys.enumerated() {
                let item = UnsafeBufferPointer(rebasing: payloads[row * size..<(row + 1) * size])
                let weight = sample.weights[row]
                let problem = bounds.transitionProblem(item, layout: layout)
                    ?? ((weight >= 0 && weight <= 1.001) ? nil : "importance weight \(weight) is outside [0, 1]")
                if let problem {
                    result.rejected += 1
                    result.rejectedKeys.append(key)
                    result.problem = result.problem ?? problem
                } else {
                    result.payloads.append(contentsOf: item)
                    result.keys.append(key)
                    result.weights.append(weight)
                }
            }
        }
        return result
    }
}
