import ColonyEnvironments
import ColonyNumerics

/// Maps actions between the networks' squashed space [−1, 1]ᵈ and a bounded Box action space:
/// a_env = scale ⊙ a + bias with scale = (high − low)/2 and bias = (high + low)/2
/// (SB3's `scale_action`/`unscale_action`, CleanRL's `action_scale`/`action_bias`).
///
/// Actors, critics and the replay buffer all work in the squashed space, so one set of
/// hyperparameters (exploration noise 0.1, target noise 0.2) means the same on every Box.
public struct BoxActionScaling: Sendable, Equatable {
    public let scale: [Float]
    public let bias: [Float]
    public let low: [Float]
    public let high: [Float]

    /// Action dimension d.
    public var dimension: Int { scale.count }

    /// Throws one line naming `algorithm` when the space is discrete or unbounded.
    public init(actionSpace: Space, algorithm: String) throws {
        guard case .box(let box) = actionSpace else {
            throw AgentError(
                "\(algorithm) needs a continuous (Box) action space, got \(actionSpace); use a discrete-action agent such as dqn or ppo")
        }
        let (low, high) = (box.low, box.high)
        guard low.allSatisfy(\.isFinite) && high.allSatisfy(\.isFinite) else {
            throw AgentError("\(algorithm) squashes actions into the action bounds, which must be finite; got \(actionSpace)")
        }
        self.low = low
        self.high = high
        scale = zip(low, high).map { ($1 - $0) / 2 }
        bias = zip(low, high).map { ($1 + $0) / 2 }
    }

    /// One `.continuous` action per row of `squashed` (`count × d`, row-major), kept inside the bounds.
    public func environmentActions(_ squashed: [Float], count: Int) -> [Action] {
        let d = dimension
        precondition(squashed.count == count * d, "expected \(count) × \(d) squashed actions, got \(squashed.count)")
        return (0..<count).map { row in
            .continuous((0..<d).map { j in
                Swift.min(Swift.max(scale[j] * squashed[row * d + j] + bias[j], low[j]), high[j])
            })
        }
    }

    /// `count` uniformly random squashed actions in [−1, 1)ᵈ: the warm-up before learning starts
    /// (uniform over the Box once scaled, as SB3's and CleanRL's `action_space.sample()`).
    public func randomSquashedActions(count: Int, rng: inout RandomSource) -> [Float] {
        (0..<(count * dimension)).map { _ in rng.uniform(-1, 1) }
    }
}
