/// A batch of transitions, row-major: `count` rows of each field.
///
/// `rewards` are n-step discounted sums r_t + γ r_{t+1} + … and `discounts` are γ^k for a bootstrapped
/// transition or 0 where the episode terminated, so every TD target is `reward + discount · V(next)`.
public struct TransitionBatch: Sendable {
    public var count: Int
    public var observations: [Float]
    public var actions: [Float]
    public var rewards: [Float]
    public var nextObservations: [Float]
    public var discounts: [Float]
    /// Buffer slots, for priority updates.
    public var indices: [Int]
    /// Importance-sampling weights, normalised so the largest possible is 1 (all 1 for uniform replay).
    public var weights: [Float]

    public init(count: Int, observationSize: Int, actionSize: Int) {
        self.count = count
        observations = [Float](repeating: 0, count: count * observationSize)
        actions = [Float](repeating: 0, count: count * actionSize)
        rewards = [Float](repeating: 0, count: count)
        nextObservations = [Float](repeating: 0, count: count * observationSize)
        discounts = [Float](repeating: 0, count: count)
        indices = [Int](repeating: 0, count: count)
        weights = [Float](repeating: 1, count: count)
    }

    /// Discrete actions (stored as floats) as integers.
    public var discreteActions: [Int] { actions.map { Int($0) } }
}
