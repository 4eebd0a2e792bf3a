import ColonyEnvironments
import ColonyNumerics

/// An on-policy agent (PPO, A2C, IMPALA): it acts on N environments with a stochastic policy,
/// collects T steps into a `Rollout`, learns from the full rollout, and starts the next one.
/// Conformers provide the policies and the update; this extension provides `reset`/`step`:
///
/// ```
/// reset(x):  encode x; sample a ~ μ(·|x); open step 0 with (x, a, log μ(a|x))
/// step(x′, r, terminated, truncated, final):      (train mode)
///     encode x′; close the open step with r, the episode ends, the truncated episodes' last
///     observations and x′; if T steps are in: info = update(), clear the rollout
///     sample a′ ~ μ(·|x′); open the next step
/// step(x′, …) in eval mode: the mode of networks.policy on x′; nothing stored, no RNG draw
/// ```
public protocol RolloutAgent: ParameterPerturbing {
    /// The rollout in progress, with the frame counter and the acting RNG.
    var rollout: Rollout { get }
    /// Observations → network inputs (one-hot, running normalisation).
    var encoder: ObservationEncoder { get }
    /// The networks the updates train; eval mode plays the mode of `networks.policy`.
    var networks: ActorCritic { get }
    /// The policy that collects data: by default `networks.policy`; IMPALA's lags behind it.
    var behaviourPolicy: StochasticPolicy { get }
    /// Learns from `rollout.batch`, which holds T complete steps and the bootstrap observations;
    /// returns the update's scalars.
    func update() -> AgentInfo
}

extension RolloutAgent {
    public var behaviourPolicy: StochasticPolicy { networks.policy }

    public func perturbActingParameters(standardDeviation: Float, random: inout RandomSource) {
        networks.perturbPolicy(standardDeviation: standardDeviation, random: &random)
    }
    public var environmentCount: Int { rollout.batch.environments }
    public var frames: Int { rollout.frames }
    public var observationSpace: Space { encoder.space }

    public func reset(observations: [Float]) -> [Action] {
        guard mode == .train else { return evaluationActions(observations) }
        rollout.restart()
        return act(on: encoder.encode(observations, rows: environmentCount, updateStatistics: true))
    }

    public func step(
        observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]
    ) -> ParallelAgentStep {
        guard mode == .train else { return ParallelAgentStep(actions: evaluationActions(observations)) }
        // Switched to training without a reset: the frames count, these observations start the rollout.
        guard rollout.isStepOpen else {
            rollout.countUnrecordedStep()
            return ParallelAgentStep(actions: reset(observations: observations))
        }
        let next = encoder.encode(observations, rows: environmentCount, updateStatistics: true)
        rollout.completeStep(
            rewards: rewards, terminated: terminated, truncated: truncated, finalObservations: finalObservations,
            nextObservations: next
        ) { encoder.encode($0, rows: 1, updateStatistics: false) }
        var info = AgentInfo()
        if rollout.isFull {
            info = update()
            rollout.clear()
        }
        return ParallelAgentStep(actions: act(on: next), info: info)
    }

    /// Samples from the behaviour policy and opens the next step of the rollout.
    private func act(on encoded: [Float]) -> [Action] {
        let (actions, logProbs) = behaviourPolicy.sample(observations: encoded, count: environmentCount, rng: &rollout.rng)
        rollout.beginStep(observations: encoded, actions: actions, logProbs: logProbs)
        return behaviourPolicy.head.environmentActions(actions, count: environmentCount)
    }

    private func evaluationActions(_ observations: [Float]) -> [Action] {
        let encoded = encoder.encode(observations, rows: environmentCount, updateStatistics: false)
        let actions = networks.policy.mode(observations: encoded, count: environmentCount)
        return networks.policy.head.environmentActions(actions, count: environmentCount)
    }

    /// Saves what every rollout agent has: the networks with their optimizer states, the rollout in
    /// flight (with the open step, frame counter, acting RNG and reward statistics) and the
    /// observation statistics.
    func saveRolloutAgent(to writer: CheckpointWriter) throws {
        try networks.save(to: writer.group("networks"))
        try rollout.save(to: writer.group("rollout"))
        try encoder.save(to: writer.group("observation_encoder"))
    }

    func restoreRolloutAgent(from reader: CheckpointReader) throws {
        try networks.restore(from: reader.group("networks"))
        try rollout.restore(from: reader.group("rollout"))
        if case .discrete(let actionCount) = actionSpace {
            let batch = reader.group("rollout").group("batch")
            try batch.checkDiscreteActions(rollout.batch.actions, actionCount: actionCount, entry: "actions")
        }
        try encoder.restore(from: reader.group("observation_encoder"))
    }
}
