/// One transition as a replay item of floats: observation | action | reward | next observation | discount.
public struct TransitionLayout: Sendable, Equatable {
    public var observationSize: Int
    public var actionSize: Int

    public init(observationSize: Int, actionSize: Int) {
        self.observationSize = observationSize
        self.actionSize = actionSize
    }

    public var itemSize: Int { 2 * observationSize + actionSize + 2 }

    /// Appends one transition to `items`.
    public func append(observation: ArraySlice<Float>, action: ArraySlice<Float>, reward: Float, next: ArraySlice<Float>,
                       discount: Float, to items: inout [Float]) {
        items.append(contentsOf: observation)
        items.append(contentsOf: action)
        items.append(reward)
        items.append(contentsOf: next)
        items.append(discount)
    }

    /// Items (`count × itemSize`, row-major) as a batch, with their importance weights.
    public func batch(_ items: [Float], weights: [Float]) -> TransitionBatch {
        let count = weights.count, (o, a) = (observationSize, actionSize)
        precondition(items.count == count * itemSize)
        var batch = TransitionBatch(count: count, observationSize: o, actionSize: a)
        items.withUnsafeBufferPointer { items in
            for row in 0..<count {
                var at = row * itemSize
                for j in 0..<o { batch.observations[row * o + j] = items[at + j] }
                at += o
                for j in 0..<a { batch.actions[row * a + j] = items[at + j] }
                at += a
                batch.rewards[row] = items[at]
                at += 1
                for j in 0..<o { batch.nextObservations[row * o + j] = items[at + j] }
                at += o
                batch.discounts[row] = items[at]
            }
        }
        batch.weights = weights
        return batch
    }
}
