import XCTest
import ColonyNumerics
@testable import ColonyAgents

/// GAE and V-trace against deliberately naive implementations written straight from the papers' sums.
final class ReturnsTests: XCTestCase {
    private struct Rollout {
        var rewards: [Float], values: [Float], nextValues: [Float], terminated: [Bool], ended: [Bool], logRhos: [Float]
    }

    /// A random T × N rollout with terminations and truncations; nextValues are consistent with values.
    private func randomRollout(steps: Int, environments: Int, seed: UInt64) -> Rollout {
        var rng = RandomSource(seed: seed)
        let count = steps * environments
        var r = Rollout(rewards: [], values: [], nextValues: [], terminated: [], ended: [], logRhos: [])
        for _ in 0..<count {
            r.rewards.append(rng.uniform(-1, 1))
            r.values.append(rng.uniform(-2, 2))
            r.logRhos.append(rng.uniform(-1.5, 1.5))
            let u = rng.nextFloat()
            r.terminated.append(u < 0.1)
            r.ended.append(u < 0.2)
        }
        for t in 0..<steps {
            for e in 0..<environments {
                let i = t * environments + e
                // Inside an episode V(s_{t+1}) is the next row's value; at a truncation or at the end, a fresh value.
                let inside = t + 1 < steps && !r.ended[i]
                r.nextValues.append(inside ? r.values[i + environments] : rng.uniform(-2, 2))
            }
        }
        return r
    }

    func testGAEMatchesTheExplicitSumOfDiscountedDeltas() {
        let (steps, envs, gamma, lambda): (Int, Int, Float, Float) = (37, 3, 0.98, 0.8)
        let r = randomRollout(steps: steps, environments: envs, seed: 7)
        let (advantages, returns) = generalizedAdvantages(
            rewards: r.rewards, values: r.values, nextValues: r.nextValues, terminated: r.terminated, ended: r.ended,
            steps: steps, environments: envs, gamma: gamma, lambda: lambda)
        for e in 0..<envs {
            for t in 0..<steps {
                // A_t = Σ_{l≥0} (γλ)^l δ_{t+l}, summed until the episode ends.
                var expected: Double = 0
                var weight: Double = 1
                var k = t
                while k < steps {
                    let i = k * envs + e
                    let bootstrap = r.terminated[i] ? 0 : Double(gamma) * Double(r.nextValues[i])
                    expected += weight * (Double(r.rewards[i]) + bootstrap - Double(r.values[i]))
                    if r.ended[i] { break }
                    weight *= Double(gamma * lambda)
                    k += 1
                }
                let i = t * envs + e
                XCTAssertEqual(Double(advantages[i]), expected, accuracy: 1e-4)
                XCTAssertEqual(returns[i], advantages[i] + r.values[i], accuracy: 1e-6)
            }
        }
    }

    func testGAEWithLambdaOneIsTheDiscountedReturnMinusValue() {
        // One episode that terminates at the last step: A_0 = Σ γ^k r_k − V(s_0).
        let rewards: [Float] = [1, 2, 3, 4]
        let values: [Float] = [0.5, 0, 0, 0]
        let (advantages, _) = generalizedAdvantages(
            rewards: rewards, values: values, nextValues: [0, 0, 0, 0], terminated: [false, false, false, true],
            ended: [false, false, false, true], steps: 4, environments: 1, gamma: 0.5, lambda: 1)
        XCTAssertEqual(advantages[0], 1 + 0.5 * 2 + 0.25 * 3 + 0.125 * 4 - 0.5, accuracy: 1e-6)
    }

    func testVTraceMatchesTheNaiveDefinition() {
        let (steps, envs, gamma): (Int, Int, Float) = (29, 2, 0.99)
        let r = randomRollout(steps: steps, environments: envs, seed: 11)
        let discounts = r.terminated.map { $0 ? Float(0) : gamma }
        let (rhoBar, cBar, pgBar, lambda): (Float, Float, Float, Float) = (1.0, 0.9, 1.2, 0.95)
        let result = vtrace(
            logRhos: r.logRhos, rewards: r.rewards, values: r.values, nextValues: r.nextValues, discounts: discounts,
            ended: r.ended, steps: steps, environments: envs, rhoBar: rhoBar, cBar: cBar, policyRhoBar: pgBar, lambda: lambda)
        for e in 0..<envs {
            // Naive: v_s = V(x_s) + Σ_{t≥s} (Π_{i<t, i≥s} γ_i c_i) δ_t, within the episode.
            var naive = [Double](repeating: 0, count: steps)
            for s in 0..<steps {
                var total = Double(r.values[s * envs + e])
                var product: Double = 1
                var t = s
                while t < steps {
                    let i = t * envs + e
                    let ratio = exp(Double(r.logRhos[i]))
                    let delta = min(Double(rhoBar), ratio) * (Double(r.rewards[i]) + Double(discounts[i]) * Double(r.nextValues[i]) - Double(r.values[i]))
                    total += product * delta
                    if r.ended[i] { break }
                    product *= Double(discounts[i]) * Double(lambda) * min(Double(cBar), ratio)
                    t += 1
                }
                naive[s] = total
            }
            for s in 0..<steps {
                let i = s * envs + e
                XCTAssertEqual(Double(result.values[i]), naive[s], accuracy: 1e-3, "v_\(s)")
                let nextTarget = (s + 1 < steps && !r.ended[i]) ? naive[s + 1] : Double(r.nextValues[i])
                let ratio = exp(Double(r.logRhos[i]))
                let expected = min(Double(pgBar), ratio) * (Double(r.rewards[i]) + Double(discounts[i]) * nextTarget - Double(r.values[i]))
                XCTAssertEqual(Double(result.policyAdvantages[i]), expected, accuracy: 1e-3, "advantage_\(s)")
            }
        }
    }

    func testOnPolicyVTraceEqualsNStepBellmanTargets() {
        // With π = μ and λ = 1, v_s is the discounted return bootstrapped at the end (IMPALA, Remark 1).
        let rewards: [Float] = [1, 0, 2]
        let values: [Float] = [0.3, -0.2, 0.7]
        let result = vtrace(
            logRhos: [0, 0, 0], rewards: rewards, values: values, nextValues: [-0.2, 0.7, 5], discounts: [0.9, 0.9, 0.9],
            ended: [false, false, false], steps: 3, environments: 1)
        XCTAssertEqual(result.values[0], 1 + 0.9 * 0 + 0.81 * 2 + 0.729 * 5, accuracy: 1e-5)
        XCTAssertEqual(result.values[2], 2 + 0.9 * 5, accuracy: 1e-5)
    }
}
