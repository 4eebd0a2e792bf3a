import ColonyEnvironments
import ColonyNumerics

/// The acting half of a distributed on-policy algorithm (IMPALA, A3C): it collects rollouts exactly
/// as the single-process agents do (same encoder, reward scaling, truncation bootstrap observations,
/// behaviour log-probabilities) and hands each full rollout to `ship` instead of learning from it.
/// A worker process sends the rollout (IMPALA) or its A2C gradient (A3C) to the learner in `ship`.
public final class RemoteRolloutAgent: RolloutAgent {
    public let id: String
    public let configuration: Configuration
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public let networks: ActorCritic
    public let rollout: Rollout
    public let encoder: ObservationEncoder
    /// Called with every full rollout; returns what the step reports.
    public var ship: (TrajectoryBatch, ActorCritic) -> AgentInfo = { _, _ in AgentInfo() }

    /// - Parameter configuration: an `impala` or `a2c` configuration; its rollout length is
    ///   `unroll_length` or `n_steps`.
    public init(configuration: Configuration, context: AgentContext) throws {
        self.configuration = configuration
        id = configuration.agent
        actionSpace = context.actionSpace
        let steps = configuration.schema.key("unroll_length") != nil ? configuration.int("unroll_length") : configuration.int("n_steps")
        let makeOptimizer = id == "impala" ? IMPALALearner.optimizerFactory(configuration) : A2C.optimizerFactory(configuration)
        let components = try OnPolicyComponents(
            agent: id, configuration: configuration, context: context, steps: steps, updatesPerRollout: 1, makeOptimizer: makeOptimizer)
        (networks, rollout, encoder) = (components.networks, components.rollout, components.encoder)
    }

    public func update() -> AgentInfo { ship(rollout.batch, networks) }

    public func save(to writer: CheckpointWriter) throws { try saveRolloutAgent(to: writer) }
    public func restore(from reader: CheckpointReader) throws { try restoreRolloutAgent(from: reader) }
}

extension ActorCritic {
    /// Every parameter (policy, value, log-std) in one flat vector, the order `setParameters` reads.
    public var flatParameters: [Float] { trainables.flatMap(\.parameters) }
    /// Every accumulated gradient, in the order of `flatParameters`.
    public var flatGradients: [Float] { trainables.flatMap(\.gradients) }
    public var parameterCount: Int { trainables.reduce(0) { $0 + $1.parameters.count } }

    /// Replaces every parameter from a flat vector of `parameterCount` values.
    public func setParameters(_ flat: [Float]) {
        precondition(flat.count == parameterCount, "expected \(parameterCount) parameters, got \(flat.count)")
        var offset = 0
        for trainable in trainables {
            let count = trainable.parameters.count
            trainable.parameters = Array(flat[offset..<(offset + count)])
            offset += count
        }
    }

    /// Replaces every accumulated gradient from a flat vector (a remote worker's), ready for `step()`.
    public func setGradients(_ flat: [Float]) {
        precondition(flat.count == parameterCount, "expected \(parameterCount) gradients, got \(flat.count)")
        var offset = 0
        for trainable in trainables {
            let count = trainable.gradients.count
            trainable.gradients = Array(flat[offset..<(offset + count)])
            offset += count
        }
    }
}
