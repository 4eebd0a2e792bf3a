import ColonyNumerics

/// A single-agent environment with Gymnasium 1.x semantics (`reset`, then `step` until
/// `terminated` or `truncated`).
///
/// An instance has one owner and is not thread-safe: stepping mutates it in place, so it is a class
/// and deliberately not `Sendable`. To use several threads, give each its own instances (one
/// `VectorEnvironment` per actor thread, say). Environments whose exact state can be read and
/// written also conform to `SnapshottableEnvironment`.
///
/// The core methods write observations into a caller-owned buffer and allocate nothing, which is
/// what rollout loops and `VectorEnvironment` use; the array-returning `reset(seed:)` and
/// `step(_:)` in the extension are for convenience. The loop that drives an environment:
///
/// ```swift
/// let env = try Environments.make("CartPole-v1", seed: 42)
/// var observation = env.reset()
/// for _ in 0..<1_000 {
///     let result = try env.step(policy(observation))
///     observation = result.isDone ? env.reset() : result.observation
/// }
/// ```
///
/// Stepping after `terminated` or `truncated` without a reset follows Gymnasium rather than
/// throwing: the dynamics keep running and the time limit keeps reporting `truncated`; CartPole,
/// like Gymnasium's, pays reward 0 after its terminating step (Gymnasium also logs a warning,
/// which this library does not print).
public protocol Environment: AnyObject {
    /// The registered id, e.g. `"CartPole-v1"`; error messages name the environment by it.
    var id: String { get }
    var observationSpace: Space { get }
    var actionSpace: Space { get }

    /// Gymnasium's `TimeLimit`: `truncated` becomes true once `elapsedSteps >= maxEpisodeSteps`.
    /// `Environments.make` sets the registered limit; directly constructed environments have none,
    /// like Gymnasium's unwrapped classes.
    var maxEpisodeSteps: Int? { get set }
    /// Steps since the last reset; settable to replay a recorded episode from its middle.
    var elapsedSteps: Int { get set }

    /// Starts an episode. A seed re-seeds the environment's random stream first (`RandomSource(seed:)`); nil
    /// continues the current stream, so consecutive resets differ. Writes the first observation.
    /// Precondition: `observation.count == observationCount`.
    func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>)

    /// Advances one step, writing the next observation into `observation`.
    /// Throws `EnvironmentError.invalidAction` for an action of the wrong kind or shape, out of
    /// range for a discrete space, or not finite; box actions beyond their bounds are clipped
    /// exactly where Gymnasium clips them (Pendulum torque, MountainCarContinuous force).
    /// Throws `EnvironmentError.resetNeeded` before the first reset.
    /// Precondition: `observation.count == observationCount`.
    func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome

    /// Writes the observation of the current state, e.g. after setting a `SnapshottableEnvironment`'s `state`.
    func observe(into observation: UnsafeMutableBufferPointer<Float>)

    /// A small ASCII drawing of the current state, for logs and terminals.
    func render() -> String
}

extension Environment {
    /// Floats in one observation (`observationSpace.elementCount`).
    public var observationCount: Int { observationSpace.elementCount }

    /// Starts an episode and returns its first observation; see `reset(seed:observation:)`.
    @discardableResult
    public func reset(seed: UInt64? = nil) -> [Float] {
        let count = observationCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: 0)
            reset(seed: seed, observation: buffer)
            initialized = count
        }
    }

    /// Advances one step and returns Gymnasium's tuple; see `step(_:observation:)`.
    public func step(_ action: Action) throws -> StepResult {
        var outcome = StepOutcome(reward: 0, terminated: false, truncated: false)
        let count = observationCount
        let observation = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: 0)
            initialized = count
            outcome = try step(action, observation: buffer)
        }
        return StepResult(
            observation: observation, reward: outcome.reward,
            terminated: outcome.terminated, truncated: outcome.truncated)
    }

    /// The observation of the current state.
    public var observation: [Float] {
        let count = observationCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.initialize(repeating: 0)
            observe(into: buffer)
            initialized = count
        }
    }
}

/// Gymnasium's `TimeLimit` test after a step has been counted.
@inline(__always)
func timeLimitReached(_ elapsedSteps: Int, _ maxEpisodeSteps: Int?) -> Bool {
    guard let limit = maxEpisodeSteps else { return false }
    return elapsedSteps >= limit
}
