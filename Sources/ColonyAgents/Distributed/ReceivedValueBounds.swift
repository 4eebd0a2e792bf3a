import ColonyEnvironments

/// What numbers received from another process must satisfy before they reach training state, beyond
/// being finite (the wire checks that): actions inside the run's action space, rewards, returns,
/// log-probabilities, gradients and priorities within fixed magnitudes. A finite but absurd value is
/// as harmful as a NaN: one reward of 3e38 turns every parameter NaN at the next update, one return
/// of 1e308 makes the mean of returns100.csv infinite. docs/wire.md ("Meaning") lists the bounds.
///
/// The bounds are far outside what any environment Colony runs produces (classic control, Atari and
/// MuJoCo rewards are below 1e4 per step), so a message outside them is forged or broken, never data.
public struct ReceivedValueBounds: Sendable {
    /// |reward| per step.
    public static let maximumReward: Float = 1e6
    /// |observation element| (pixels are at most 255, physics states far below; an element of 1e30
    /// would overflow the first layer's activations).
    public static let maximumObservation: Float = 1e6
    /// |episode return|.
    public static let maximumReturn: Double = 1e9
    /// |log π(a|s)| of a behaviour policy (densities of continuous actions may be above 1, so positive
    /// values are allowed).
    public static let maximumLogProbability: Float = 1e6
    /// |gradient element| (A3C): squares of a hundred million of them still sum to a finite Float.
    public static let maximumGradient: Float = 1e9
    /// Replay priorities (|TD error|^α with bounded rewards stays far below).
    public static let maximumPriority: Float = 1e10

    public let actionSpace: Space
    public let observationSize: Int

    public init(actionSpace: Space, observationSize: Int) {
        self.actionSpace = actionSpace
        self.observationSize = observationSize
    }

    /// Floats per action as they travel (1 for a discrete action).
    public var actionSize: Int { actionSpace.elementCount }

    /// A problem with one action's values, nil when fine. Discrete and multi-discrete actions must be
    /// integral indices of the space; box actions finite and, when `withinBox`, of a magnitude the
    /// agent can have stored: at most max(1, |low|, |high|) per element (SAC stores squashed actions in
    /// [−1, 1], others the environment's; an unbounded element at most `maximumReward`), so a forged
    /// 1e30 never reaches a critic's input.
    public func actionProblem(_ values: UnsafeBufferPointer<Float>, withinBox: Bool) -> String? {
        switch actionSpace {
        case .discrete(let n):
            guard values.count == 1, let index = Int(exactly: values[0]), index >= 0, index < n else {
                return "action \(values.first.map { "\($0)" } ?? "of \(values.count) floats") is not one of the \(n) discrete actions"
            }
        case .multiDiscrete(let counts):
            guard values.count == counts.count else { return "action of \(values.count) floats, the space has \(counts.count) components" }
            for (value, n) in zip(values, counts) {
                guard let index = Int(exactly: value), index >= 0, index < n else { return "action component \(value) is not an index below \(n)" }
            }
        case .box(let box):
            guard values.count == box.elementCount else { return "action of \(values.count) floats, the box has \(box.elementCount)" }
            for (index, value) in values.enumerated() {
                guard value.isFinite else { return "action element \(index) is \(value)" }
                if withinBox {
                    let reach = max(1, abs(box.low[index]), abs(box.high[index]))
                    let limit = reach.isFinite ? reach : Self.maximumReward
                    guard abs(value) <= limit else { return "action element \(index) = \(value) is beyond ±\(limit)" }
                }
            }
        }
        return nil
    }

    /// A problem with every action of a `[count, actionSize]` row-major buffer.
    public func actionsProblem(_ values: UnsafeBufferPointer<Float>, withinBox: Bool) -> String? {
        let size = actionSize
        guard size > 0, values.count % size == 0 else { return "\(values.count) action floats are not whole actions of \(size)" }
        for row in 0..<(values.count / size) {
            if let problem = actionProblem(UnsafeBufferPointer(rebasing: values[row * size..<(row + 1) * size]), withinBox: withinBox) {
                return "step \(row): \(problem)"
            }
        }
        return nil
    }

    /// A problem with values that must be finite and within ±`limit` (rewards, log-probabilities, gradients).
    public static func magnitudeProblem(_ values: UnsafeBufferPointer<Float>, limit: Float, what: String) -> String? {
        // NaN fails `<=` too, so a NaN never passes.
        guard let index = values.firstIndex(where: { !(abs($0) <= limit) }) else { return nil }
        return "\(what) \(index) is \(values[index]), beyond ±\(limit)"
    }

    /// A problem with one replay item laid out as `layout` (observation | action | reward | next
    /// observation | discount): observations finite, the action in the space (within the box), the
    /// reward bounded, the discount in [0, 1].
    public func transitionProblem(_ item: UnsafeBufferPointer<Float>, layout: TransitionLayout) -> String? {
        guard item.count == layout.itemSize else { return "item of \(item.count) floats, the layout has \(layout.itemSize)" }
        let (o, a) = (layout.observationSize, layout.actionSize)
        if let index = item.firstIndex(where: { !$0.isFinite }) { return "element \(index) is \(item[index])" }
        let limit = Self.maximumObservation
        if let index = item[0..<o].firstIndex(where: { !(abs($0) <= limit) }) ?? item[(o + a + 1)..<(2 * o + a + 1)].firstIndex(where: { !(abs($0) <= limit) }) {
            return "observation element \(index) is \(item[index]), beyond ±\(limit)"
        }
        if let problem = actionProblem(UnsafeBufferPointer(rebasing: item[o..<o + a]), withinBox: true) { return problem }
        let reward = item[o + a]
        guard abs(reward) <= Self.maximumReward else { return "reward \(reward) is beyond ±\(Self.maximumReward)" }
        let discount = item[2 * o + a + 1]
        guard discount >= 0 && discount <= 1 else { return "discount \(discount) is outside [0, 1]" }
        return nil
    }
}
