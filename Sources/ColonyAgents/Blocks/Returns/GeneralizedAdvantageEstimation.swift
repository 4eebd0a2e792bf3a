/// Generalized advantage estimation (Schulman et al., 2016) over a time-major T × N rollout.
///
/// δ_t = r_t + γ·(1 − terminated_t)·V(s_{t+1}) − V(s_t);  A_t = δ_t + γλ·(1 − ended_t)·A_{t+1}
///
/// `nextValues[t]` is V(s_{t+1}) for the same episode: the next row's value inside an episode, the value
/// of the final observation where an episode was truncated, and anything where it terminated (ignored).
/// `ended` (terminated or truncated) stops the recursion at episode boundaries. Returns the advantages and
/// the λ-returns A_t + V(s_t) that the critic regresses on. O(T·N).
public func generalizedAdvantages(
    rewards: [Float], values: [Float], nextValues: [Float], terminated: [Bool], ended: [Bool],
    steps: Int, environments: Int, gamma: Float, lambda: Float
) -> (advantages: [Float], returns: [Float]) {
    let count = steps * environments
    precondition(rewards.count == count && values.count == count && nextValues.count == count && terminated.count == count && ended.count == count)
    var advantages = [Float](repeating: 0, count: count)
    for env in 0..<environments {
        var next: Float = 0
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let i = t * environments + env
            let bootstrap = terminated[i] ? 0 : gamma * nextValues[i]
            let delta = rewards[i] + bootstrap - values[i]
            next = delta + (ended[i] ? 0 : gamma * lambda * next)
            advantages[i] = next
        }
    }
    var returns = advantages
    for i in 0..<count { returns[i] += values[i] }
    return (advantages, returns)
}
