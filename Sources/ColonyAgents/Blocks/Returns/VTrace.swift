/// V-trace targets (Espeholt et al., 2018, IMPALA §4.1) over a time-major T × N trajectory.
///
/// ρ_t = min(ρ̄, π(a_t|x_t)/μ(a_t|x_t)),  c_t = λ·min(c̄, π/μ)
/// δ_t = ρ_t·(r_t + γ_t·V(x_{t+1}) − V(x_t))
/// v_t = V(x_t) + δ_t + γ_t·c_t·(v_{t+1} − V(x_{t+1}))
/// policy-gradient advantage: ρ^pg_t·(r_t + γ_t·v_{t+1} − V(x_t)),  ρ^pg_t = min(ρ̄_pg, π/μ)
///
/// `discounts[t]` is γ, or 0 where the episode terminated. `nextValues[t]` is V(x_{t+1}) of the same
/// episode (the final observation's value where it was truncated; the bootstrap value at t = T − 1).
/// `ended[t]` cuts the recursion at episode boundaries, and v_{t+1} there is `nextValues[t]`.
public struct VTraceTargets: Sendable {
    public var values: [Float]
    public var policyAdvantages: [Float]
}

public func vtrace(
    logRhos: [Float], rewards: [Float], values: [Float], nextValues: [Float], discounts: [Float], ended: [Bool],
    steps: Int, environments: Int, rhoBar: Float = 1, cBar: Float = 1, policyRhoBar: Float = 1, lambda: Float = 1
) -> VTraceTargets {
    let count = steps * environments
    precondition(logRhos.count == count && rewards.count == count && values.count == count && nextValues.count == count && discounts.count == count && ended.count == count)
    var targets = [Float](repeating: 0, count: count)
    var advantages = [Float](repeating: 0, count: count)
    for env in 0..<environments {
        var correction: Float = 0  // v_{t+1} − V(x_{t+1})
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let i = t * environments + env
            let ratio = expf(logRhos[i])
            let rho = min(rhoBar, ratio)
            let c = lambda * min(cBar, ratio)
            if ended[i] || t == steps - 1 { correction = 0 }
            let delta = rho * (rewards[i] + discounts[i] * nextValues[i] - values[i])
            let target = values[i] + delta + discounts[i] * c * correction
            // v_{t+1}: the target of the next step inside the episode, the bootstrap value at a boundary.
            let nextTarget = nextValues[i] + correction
            advantages[i] = min(policyRhoBar, ratio) * (rewards[i] + discounts[i] * nextTarget - values[i])
            targets[i] = target
            correction = target - values[i]
        }
    }
    return VTraceTargets(values: targets, policyAdvantages: advantages)
}

#if canImport(Glibc)
import Glibc
#endif
