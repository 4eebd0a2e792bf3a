import ColonyEnvironments
import ColonyNumerics

/// The acting half of a distributed on-policy algorithm (IMPALA, A3C): it collects rollouts exactly
/// as the single-process agents do (same encoder, reward scaling, truncation bootstrap observations,
/// behaviour log-probabilities) and, instead of learning from each full rollout, puts what the
/// learner needs (the rollout itself, or its A2C gradient) into `outputs`, which the worker drains.
public final class RemoteRolloutAgent: RolloutAgent, DistributedActor {
    public let id: String
    public let configuration: Configuration
    public let actionSpace: Space
    public var mode: AgentMode = .train
    public let networks: ActorCritic
    public let rollout: Rollout
    public let encoder: ObservationEncoder
    /// Every full rollout's output, in order; drained by the worker after each step.
    public let outputs = ActorSink<ActorOutput>()
    private let output: (TrajectoryBatch, ActorCritic) -> (ActorOutput, AgentInfo)

    /// - Parameters:
    ///   - configuration: an `impala` or `a2c` configuration; its rollout length is `unroll_length` or `n_steps`.
    ///   - makeOptimizer: the optimizer of the algorithm's learner (the networks are built as its learner's).
    ///   - output: what the learner gets from a full rollout, and what the step reports.
    public init(
        configuration: Configuration, context: AgentContext, makeOptimizer: @escaping () -> any Optimizer,
        output: @escaping (TrajectoryBatch, ActorCritic) -> (ActorOutput, AgentInfo)
    ) throws {
        self.configuration = configuration
        id = configuration.agent
        actionSpace = context.actionSpace
        self.output = output
        let steps = configuration.schema.key("unroll_length") != nil ? configuration.int("unroll_length") : configuration.int("n_steps")
        let components = try OnPolicyComponents(
            agent: id, configuration: configuration, context: context, steps: steps, updatesPerRollout: 1, makeOptimizer: makeOptimizer)
        (networks, rollout, encoder) = (components.networks, components.rollout, components.encoder)
    }

    public func update() -> AgentInfo {
        let (item, info) = output(rollout.batch, networks)
        outputs.put(item)
        return info
    }

    public var parameterCount: Int { networks.parameterCount }
    public func setParameters(_ parameters: [Float], version: Int) { networks.setParameters(parameters) }

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
