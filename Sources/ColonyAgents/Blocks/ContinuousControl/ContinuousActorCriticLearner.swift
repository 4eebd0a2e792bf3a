import ColonyNumerics

/// The learning half of an off-policy continuous-control algorithm (SAC, TD3, DDPG): a policy
/// that acts on a batch of observations and one gradient step from a batch of transitions. A
/// distributed learner drives it with batches from a remote replay server; an
/// `OffPolicyContinuousAgent` drives it from its own replay buffer.
///
/// Actions are squashed: each element in [−1, 1], mapped to the Box by `BoxActionScaling`.
public protocol ContinuousActorCriticLearner: AnyObject, Checkpointable {
    /// The policy network and its optimizer.
    var actor: Approximation<any Network> { get }
    /// The action-value critics (one for DDPG, twins for TD3 and SAC).
    var critics: QCritics { get }

    /// Squashed actions (`count × d`, row-major) for `count` observation rows: exploratory when
    /// `explore` (drawing from `rng`), otherwise the deterministic evaluation policy (no draws).
    func act(observations: [Float], count: Int, explore: Bool, rng: inout RandomSource) -> [Float]

    /// One gradient step on `batch` (squashed actions; `discounts` γᵏ, or 0 after a termination). Returns stable
    /// TensorBoard tags: "losses/qf_loss", "losses/q_values", and the actor's when it updated.
    func learn(from batch: TransitionBatch) -> AgentInfo
}
