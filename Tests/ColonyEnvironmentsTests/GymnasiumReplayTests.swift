import XCTest
@testable import ColonyEnvironments

/// Replays trajectories recorded from Gymnasium (`record_gymnasium.py`) and requires the same
/// observations and rewards (to 1e-5) and the same terminated/truncated flags, step by step.
final class GymnasiumReplayTests: XCTestCase {
    static let tolerance = 1e-5

    func testCartPoleMatchesGymnasium() throws { try replay("CartPole-v1") }
    func testAcrobotMatchesGymnasium() throws { try replay("Acrobot-v1") }
    func testMountainCarMatchesGymnasium() throws { try replay("MountainCar-v0") }
    func testMountainCarContinuousMatchesGymnasium() throws { try replay("MountainCarContinuous-v0") }
    func testPendulumMatchesGymnasium() throws { try replay("Pendulum-v1") }
    func testCliffWalkingMatchesGymnasium() throws { try replay("CliffWalking-v1") }

    func testCliffWalkingRenderMatchesGymnasiumAnsi() throws {
        let recording = try Recording.load("CliffWalking-v1")
        let render = try XCTUnwrap(recording.render)
        let env = try makeSnapshottable("CliffWalking-v1", seed: 0)
        env.reset()
        env.state = render.state
        XCTAssertEqual(env.render(), render.text)
    }

    private func replay(_ id: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let recording = try Recording.load(id)
        XCTAssertEqual(recording.id, id)
        let env = try makeSnapshottable(id, seed: 0)
        XCTAssertEqual(env.maxEpisodeSteps, recording.maxEpisodeSteps, "time limit of \(id)")
        XCTAssertGreaterThanOrEqual(recording.trajectories.count, 10)

        var steps = 0, doneFlags = 0, truncations = 0
        var worstObservation = 0.0, worstReward = 0.0, worstState = 0.0
        for (t, trajectory) in recording.trajectories.enumerated() {
            let trajectorySteps = trajectory.segments.reduce(0) { $0 + $1.actions.count }
            XCTAssertGreaterThanOrEqual(trajectorySteps, 200, "\(id) trajectory \(t)", file: file, line: line)
            segments: for (s, segment) in trajectory.segments.enumerated() {
                env.reset(seed: 0)  // clears per-episode flags, as Gymnasium's reset did
                env.state = segment.state
                env.elapsedSteps = segment.elapsedSteps
                let where0 = "\(id) trajectory \(t) segment \(s) start"
                worstObservation = max(worstObservation, try compare(env.observation, segment.observation, where0, file, line))
                for k in segment.actions.indices {
                    let place = "\(id) trajectory \(t) segment \(s) step \(k)"
                    let result = try env.step(segment.actions[k].action)
                    steps += 1
                    let terminated = segment.terminated[k] == 1, truncated = segment.truncated[k] == 1
                    if terminated || truncated { doneFlags += 1 }
                    if truncated { truncations += 1 }
                    guard result.terminated == terminated, result.truncated == truncated else {
                        XCTFail("\(place): flags (\(result.terminated), \(result.truncated)), Gymnasium (\(terminated), \(truncated))", file: file, line: line)
                        break segments
                    }
                    let rewardError = abs(result.reward - segment.rewards[k])
                    worstReward = max(worstReward, rewardError)
                    guard rewardError <= Self.tolerance else {
                        XCTFail("\(place): reward \(result.reward), Gymnasium \(segment.rewards[k])", file: file, line: line)
                        break segments
                    }
                    let error = try compare(result.observation, segment.observations[k], place, file, line)
                    worstObservation = max(worstObservation, error)
                    guard error <= Self.tolerance else { break segments }
                    worstState = max(worstState, zip(env.state, segment.states[k]).map { abs($0 - $1) }.max() ?? 0)
                }
            }
        }
        XCTAssertGreaterThan(doneFlags, 0, "\(id): the recording should include episode ends", file: file, line: line)
        if recording.maxEpisodeSteps != nil {
            XCTAssertGreaterThan(truncations, 0, "\(id): the recording should include truncation", file: file, line: line)
        }
        print("\(id): replayed \(steps) steps (\(doneFlags) done, \(truncations) truncated); max |Δ| observation \(worstObservation), reward \(worstReward), state \(worstState)")
    }

    /// The largest absolute difference; fails (once) beyond the tolerance.
    private func compare(_ actual: [Float], _ expected: [Double], _ place: String, _ file: StaticString, _ line: UInt) throws -> Double {
        guard actual.count == expected.count else {
            XCTFail("\(place): observation \(actual), Gymnasium \(expected)", file: file, line: line)
            return .infinity
        }
        let error = zip(actual, expected).map { abs(Double($0) - $1) }.max() ?? 0
        if error > Self.tolerance {
            XCTFail("\(place): observation \(actual), Gymnasium \(expected)", file: file, line: line)
        }
        return error
    }
}
