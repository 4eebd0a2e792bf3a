import ColonyEnvironments

/// An agent that acts on N environments at once: the form that rollout workers and the trainer drive.
///
/// The loop that drives it (auto-reset vector environments):
/// ```
/// var actions = agent.reset(observations: env.reset(seed: s))
/// while running {
///     let result = env.step(actions)              // finished episodes are reset in the same call
///     actions = agent.step(observations: result.observations, rewards: result.rewards,
///                          terminated: result.terminated, truncated: result.truncated,
///                          finalObservations: result.finalObservations).actions
/// }
/// ```
/// `observations` are row-major N × obsDim. For an environment whose episode ended on this step,
/// `observations` already holds the first observation of its next episode and `finalObservations[i]`
/// holds the last observation of the finished one, so a truncated episode can be bootstrapped.
/// When and how the agent trains inside `step` is its own business.
public protocol ParallelAgent: AnyObject, Checkpointable {
    /// The registry id ("ppo", "dqn", ...).
    var id: String { get }
    var configuration: Configuration { get }
    var environmentCount: Int { get }
    var observationSpace: Space { get }
    var actionSpace: Space { get }
    var mode: AgentMode { get set }
    /// Environment steps taken in train mode, summed over the N environments (frames).
    var frames: Int { get }

    func reset(observations: [Float]) -> [Action]
    func step(observations: [Float], rewards: [Double], terminated: [Bool], truncated: [Bool], finalObservations: [[Float]?]) -> ParallelAgentStep
}

extension ParallelAgent {
    public var observationSize: Int { observationSpace.elementCount }
}
