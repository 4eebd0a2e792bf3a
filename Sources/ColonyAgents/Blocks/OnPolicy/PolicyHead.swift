import ColonyEnvironments
import ColonyNumerics

/// How a policy network's outputs become a distribution over an action space: the logits of a
/// `Categorical` for `Discrete(n)`, the means of a `DiagonalGaussian` with a learned
/// state-independent log-std (CleanRL's `actor_logstd`) for a `Box`.
///
/// Actions are stored encoded, `actionSize` floats per row: the index of a discrete action, or the
/// d elements of a Box action as sampled (unclipped, so that their log-probabilities stay exact);
/// `environmentActions` clips Box actions to the bounds only when they are sent to the environment.
public enum PolicyHead: Sendable, Equatable {
    case categorical(actionCount: Int)
    case gaussian(low: [Float], high: [Float])

    /// The head for `actionSpace`; throws a one-line `AgentError` naming `agent` where none fits.
    public init(actionSpace: Space, agent: String) throws {
        switch actionSpace {
        case .discrete(let count):
            guard count >= 1 else { throw AgentError("\(agent) needs at least one discrete action, got \(actionSpace)") }
            self = .categorical(actionCount: count)
        case .box(let box):
            guard !box.low.isEmpty else { throw AgentError("\(agent) needs a Box action space with at least one dimension, got \(actionSpace)") }
            self = .gaussian(low: box.low, high: box.high)
        case .multiDiscrete:
            throw AgentError("\(agent) has no policy head for a MultiDiscrete action space, got \(actionSpace)")
        }
    }

    /// Network outputs per row: one logit per action, or one mean per dimension.
    public var outputSize: Int {
        switch self {
        case .categorical(let count): count
        case .gaussian(let low, _): low.count
        }
    }

    /// Floats per encoded action: 1 (the index) or the dimension.
    public var actionSize: Int {
        switch self {
        case .categorical: 1
        case .gaussian(let low, _): low.count
        }
    }

    /// The learned log-std's length: the action dimension for a Gaussian head, none for a categorical one.
    var logStdSize: Int {
        switch self {
        case .categorical: 0
        case .gaussian(let low, _): low.count
        }
    }

    /// Environment actions for `count` encoded rows; Box actions are clipped to the space's bounds.
    public func environmentActions(_ encoded: [Float], count: Int) -> [Action] {
        precondition(encoded.count == count * actionSize, "PolicyHead: \(encoded.count) action values for \(count) rows of \(actionSize)")
        switch self {
        case .categorical:
            return encoded.map { .discrete(Int($0)) }
        case .gaussian(let low, let high):
            let dimension = low.count
            return (0..<count).map { row in
                .continuous((0..<dimension).map { j in Swift.min(Swift.max(encoded[row * dimension + j], low[j]), high[j]) })
            }
        }
    }
}
