import ColonyEnvironments
import ColonyNumerics

/// The acting-and-replay loop shared by SAC, TD3 and DDPG (SB3's `collect_rollouts` followed by
/// `train`): remembers the observations and squashed actions it acted on, turns each vector step
/// into N transitions in a `ReplayBuffer`, and runs the gradient steps its `OffPolicySchedule`
/// says are due on uniformly sampled batches.
///
/// Transitions use the vector environment's same-step auto-reset: for an environment whose
/// episode ended, the next observation is `finalObservations[i]` (the last one of the finished
/// episode), and the discount is 0 only when it `terminated`, so truncated episodes (Pendulum's
/// 200-step limit) bootstrap. In eval mode it acts deterministically and touches nothing else:
/// no stored data, no updates, no frames, no random draws, and its remembered training
/// observations survive an evaluation in between.
public final class OffPolicyDriver: Checkpointable {
    public let configuration: Configuration
    public let observationSpace: Space
    public let actionSpace: Space
    public let environmentCount: Int
    public let observationSize: Int
    public let actionScaling: BoxActionScaling
    public let schedule: OffPolicySchedule
    public let replay: ReplayBuffer
    /// γ, stored as each non-terminal transition's discount.
    public let gamma: Float
    public var mode: AgentMode = .train
    /// Train-mode frames, summed over the environments.
    public private(set) var frames = 0

    private var started = false
    private var lastObservations: [Float]
    /// Squashed actions taken in `lastObservations`.
    private var lastActions: [Float]
    /// Warm-up actions and exploration noise.
    private var explorationRNG: RandomSource
    /// Replay sampling.
    private var replayRNG: RandomSource

    /// Reads `gamma`, `buffer_size`, `batch_size`, `learning_starts`, `train_freq` and
    /// `gradient_steps` from `configuration`; throws when the action space is not a bounded Box.
    init(configuration: Configuration, context: AgentContext, algorithm: String, streams: OffPolicyRandomStreams) throws {
        self.configuration = configuration
        observationSpace = context.observationSpace
        actionSpace = context.actionSpace
        environmentCount = context.environmentCount
        observationSize = context.observationSpace.elementCount
        actionScaling = try BoxActionScaling(actionSpace: context.actionSpace, algorithm: algorithm)
        schedule = OffPolicySchedule(
            learningStarts: configuration.int("learning_starts"), trainFrequency: configuration.int("train_freq"),
            gradientSteps: configuration.int("gradient_steps"), batchSize: configuration.int("batch_size"))
        let storesBytes = context.observationSpace.storesAsBytes
        try ReplayBuffer.checkFitsMemory(
            capacity: configuration.int("buffer_size"), observationSize: observationSize, actionSize: actionScaling.dimension,
            storesBytes: storesBytes, chunkSize: context.observationSpace.replayChunkSize, agent: algorithm)
        replay = ReplayBuffer(
            capacity: configuration.int("buffer_size"), observationSize: observationSize, actionSize: actionScaling.dimension,
            storesBytes: storesBytes, chunkSize: context.observationSpace.replayChunkSize)
        gamma = configuration.float("gamma")
        lastObservations = [Float](repeating: 0, count: environmentCount * observationSize)
        lastActions = [Float](repeating: 0, count: environmentCount * actionScaling.dimension)
        explorationRNG = streams.exploration
        replayRNG = streams.replay
    }

    /// First actions for the N environments' first observations.
    public func reset(observations: [Float], learner: some ContinuousActorCriticLearner) -> [Action] {
        precondition(observations.count == environmentCount * observationSize, "expected \(environmentCount) × \(observationSize) observations")
        guard mode == .train else { return evaluationActions(observations, learner: learner) }
        started = true
        return act(on: observations, learner: learner)
    }

    /// Stores the N transitions that end in this step, trains as scheduled, and acts on `observations`.
    public func step(
        observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?],
        learner: some ContinuousActorCriticLearner
    ) -> ParallelAgentStep {
        let (n, o, d) = (environmentCount, observationSize, actionScaling.dimension)
        precondition(observations.count == n * o && rewards.count == n && terminated.count == n, "expected \(n) environments' results")
        guard mode == .train else { return ParallelAgentStep(actions: evaluationActions(observations, learner: learner)) }
        precondition(started, "call reset(observations:) in train mode before step")

        // Store (s, a, r, s', γ·(1 − terminated)); s' is the finished episode's last observation on a reset.
        for i in 0..<n {
            let final = i < finalObservations.count ? finalObservations[i] : nil
            let next = final.map { $0[...] } ?? observations[(i * o)..<((i + 1) * o)]
            replay.add(
                observation: lastObservations[(i * o)..<((i + 1) * o)], action: lastActions[(i * d)..<((i + 1) * d)],
                reward: Float(rewards[i]), nextObservation: next, discount: terminated[i] ? 0 : gamma)
        }
        let previous = frames
        frames += n

        // Train: the gradient steps due after these frames, each on a fresh uniform batch.
        var info = AgentInfo()
        for _ in 0..<schedule.gradientStepsDue(from: previous, to: frames) {
            info.merge(learner.learn(from: replay.sample(schedule.batchSize, rng: &replayRNG)))
        }
        return ParallelAgentStep(actions: act(on: observations, learner: learner), info: info)
    }

    /// Train-mode actions, remembered for the transitions of the next step: uniformly random
    /// during the warm-up, then the learner's exploratory policy.
    private func act(on observations: [Float], learner: some ContinuousActorCriticLearner) -> [Action] {
        let n = environmentCount
        lastObservations = observations
        if schedule.actsRandomly(afterFrames: frames) {
            lastActions = actionScaling.randomSquashedActions(count: n, rng: &explorationRNG)
        } else {
            lastActions = learner.act(observations: observations, count: n, explore: true, rng: &explorationRNG)
        }
        return actionScaling.environmentActions(lastActions, count: n)
    }

    private func evaluationActions(_ observations: [Float], learner: some ContinuousActorCriticLearner) -> [Action] {
        var unused = RandomSource(seed: 0)
        let squashed = learner.act(observations: observations, count: environmentCount, explore: false, rng: &unused)
        return actionScaling.environmentActions(squashed, count: environmentCount)
    }

    public func save(to writer: CheckpointWriter) throws {
        try replay.save(to: writer.group("replay"))
        try writer.write(frames, "frames")
        try writer.write(started ? 1 : 0, "started")
        try writer.write(lastObservations, "last_observations")
        try writer.write(lastActions, "last_actions")
        try writer.write(explorationRNG.state, "exploration_rng")
        try writer.write(replayRNG.state, "replay_rng")
    }

    public func restore(from reader: CheckpointReader) throws {
        try replay.restore(from: reader.group("replay"))
        frames = try reader.int("frames")
        started = try reader.int("started") != 0
        lastObservations = try reader.floats("last_observations", count: lastObservations.count)
        lastActions = try reader.floats("last_actions", count: lastActions.count)
        explorationRNG = try reader.randomSource("exploration_rng")
        replayRNG = try reader.randomSource("replay_rng")
    }
}
