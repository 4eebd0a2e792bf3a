import ColonyEnvironments

/// A single-environment agent (the autonomous-learning-library's and Athlete's API).
///
/// ```
/// var action = agent.reset(observation: env.reset(seed: 1))
/// while true {
///     let result = try env.step(action)
///     if result.terminated || result.truncated {
///         _ = agent.step(observation: result.observation, reward: result.reward,
///                        terminated: result.terminated, truncated: result.truncated)
///         action = agent.reset(observation: env.reset(seed: nil))
///     } else {
///         action = agent.step(observation: result.observation, reward: result.reward,
///                             terminated: false, truncated: false).action
///     }
/// }
/// ```
/// The action returned by the step that ends an episode is not used.
public protocol Agent: AnyObject, Checkpointable {
    var id: String { get }
    var configuration: Configuration { get }
    var mode: AgentMode { get set }
    var frames: Int { get }
    func reset(observation: [Float]) -> Action
    func step(observation: [Float], reward: Double, terminated: Bool, truncated: Bool) -> AgentStep
}
