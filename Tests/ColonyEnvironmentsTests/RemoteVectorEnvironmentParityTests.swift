import ColonyEnvironments
import ColonyNumerics
import ColonyTestSupport
import XCTest

/// Gymnasium's CartPole-v1 and Acrobot-v1 served by the environment host against Colony's native
/// ones, step for step, through same-step autoresets.
///
/// The two draw reset states from different generators, so the native copy takes the host's:
/// the `colony_testenvs:StateInInfo` wrapper reports the float64 state each step started from
/// (`start_*`, the reset state in an episode's first step) and ended in (`state_*`). Each native
/// copy is reset (clearing its step count) and set to the host's reset state, then both step with
/// the same actions; states must agree bit for bit, observations (float32) within 1e-6, and
/// rewards, terminated, truncated and final observations exactly.
final class RemoteVectorEnvironmentParityTests: XCTestCase {
    func testCartPoleThroughTheHostEqualsNativeStepForStep() throws {
        // Copy 0 balances, so its episodes reach the 500-step limit; the others push at random and fall.
        try assertParity("CartPole-v1", count: 4, seed: 7) { copy, observation, random in
            guard copy == 0 else { return random.nextInt(below: 2) }
            let (x, xDot, theta, thetaDot) = (observation[0], observation[1], observation[2], observation[3])
            return theta + 0.5 * thetaDot + 0.01 * x + 0.1 * xDot > 0 ? 1 : 0
        }
    }

    func testAcrobotThroughTheHostEqualsNativeStepForStep() throws {
        // Copies 0 and 2 pump energy (torque with θ̇2, against θ̇1) and swing up within a few hundred
        // steps; copy 1 acts at random and is truncated at 500 steps.
        try assertParity("Acrobot-v1", count: 3, seed: 9) { copy, observation, random in
            let (dTheta1, dTheta2) = (observation[4], observation[5])
            switch copy {
            case 0: return dTheta2 > 0 ? 2 : 0
            case 2: return dTheta1 > 0 ? 0 : 2
            default: return random.nextInt(below: 3)
            }
        }
    }

    private struct Mismatch: Error, CustomStringConvertible {
        var description: String
    }

    /// Steps `count` copies of `id` through two hosts and natively until every copy has finished
    /// `episodes` episodes, with the actions `policy` picks from the host's observation row; throws
    /// at the first difference. Both ends of an episode must occur: some termination and some truncation.
    private func assertParity(
        _ id: String, count: Int, seed: UInt64, episodes: Int = 3,
        policy: (_ copy: Int, _ observation: [Float], _ random: inout RandomSource) -> Int
    ) throws {
        guard var settings = EnvironmentHostTesting.settings("gym:" + id) else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        let stateCount = 4
        settings.wrappers = ["colony_testenvs:StateInInfo"]
        settings.infoKeys = (0..<stateCount).map { "start_\($0)" } + (0..<stateCount).map { "state_\($0)" }
        settings.hosts = 2
        let host = try RemoteVectorEnvironment(settings, count: count, seed: seed)
        let native = try (0..<count).map { _ in try XCTUnwrap(Environments.make(id, seed: 0) as? any SnapshottableEnvironment) }
        XCTAssertEqual(host.maxEpisodeSteps, native[0].maxEpisodeSteps)
        XCTAssertEqual(host.observationSpace, native[0].observationSpace)
        XCTAssertEqual(host.actionSpace, native[0].actionSpace)
        let width = host.observationCount, infoWidth = settings.infoKeys.count

        func expect(_ holds: Bool, _ what: @autoclosure () -> String) throws {
            if !holds { throw Mismatch(description: "\(id): \(what())") }
        }
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 }
        }

        var random = RandomSource(seed: seed)
        var startsEpisode = [Bool](repeating: true, count: count)
        var finished = [Int](repeating: 0, count: count)
        var terminations = 0, truncations = 0, steps = 0
        var rows = host.observations  // what the host showed before the step: reset observations included
        while finished.min()! < episodes {
            steps += 1
            try expect(steps <= 5_000, "copies finished \(finished) episodes in 5000 steps")
            let actions = (0..<count).map { policy($0, Array(rows[($0 * width)..<(($0 + 1) * width)]), &random) }
            try host.step(discrete: actions)
            let info = host.info, rewards = host.rewards, terminated = host.terminated, truncated = host.truncated
            let finals = host.finalObservations, observations = host.observations
            for i in 0..<count {
                let start = Array(info[(i * infoWidth)..<(i * infoWidth + stateCount)])
                let state = Array(info[(i * infoWidth + stateCount)..<((i + 1) * infoWidth)])
                let row = Array(rows[(i * width)..<((i + 1) * width)])
                let env = native[i]
                let at = "copy \(i), step \(steps) (episode \(finished[i]), step \(env.elapsedSteps + 1) of it)"
                if startsEpisode[i] {
                    env.reset(seed: nil)  // clears the step count (and CartPole's after-termination count)
                    env.state = start
                    try expect(close(env.observation, row), "\(at): reset observation \(row), native \(env.observation) from state \(start)")
                    startsEpisode[i] = false
                } else {
                    try expect(env.state == start, "\(at): started from \(start), native from \(env.state)")
                }
                let result = try env.step(.discrete(actions[i]))
                try expect(env.state == state, "\(at): host state \(state), native \(env.state)")
                try expect(rewards[i] == result.reward, "\(at): reward \(rewards[i]), native \(result.reward)")
                try expect(terminated[i] == result.terminated, "\(at): terminated \(terminated[i]), native \(result.terminated)")
                try expect(truncated[i] == result.truncated, "\(at): truncated \(truncated[i]), native \(result.truncated)")
                if result.terminated || result.truncated {
                    let final = finals[i] ?? []
                    try expect(close(final, result.observation), "\(at): final observation \(final), native \(result.observation)")
                    startsEpisode[i] = true
                    finished[i] += 1
                    if result.terminated { terminations += 1 } else { truncations += 1 }
                } else {
                    let next = Array(observations[(i * width)..<((i + 1) * width)])
                    try expect(finals[i] == nil, "\(at): a final observation for an unfinished episode")
                    try expect(close(next, result.observation), "\(at): observation \(next), native \(result.observation)")
                }
            }
            rows = observations
        }
        XCTAssertGreaterThan(terminations, 0, "\(id): some episode terminates")
        XCTAssertGreaterThan(truncations, 0, "\(id): some episode reaches the time limit")
    }
}
