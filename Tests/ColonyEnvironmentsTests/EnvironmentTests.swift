import ColonyNumerics
import XCTest
@testable import ColonyEnvironments

final class EnvironmentTests: XCTestCase {
    func testInvalidActionsThrowAnErrorNamingEnvironmentActionAndSpace() throws {
        let invalid: [String: [Action]] = [
            "CartPole-v1": [.discrete(2), .discrete(-1), .continuous([1])],
            "Acrobot-v1": [.discrete(3), .continuous([0])],
            "MountainCar-v0": [.discrete(3)],
            "MountainCarContinuous-v0": [.discrete(0), .continuous([]), .continuous([0, 0]), .continuous([.nan]), .continuous([.infinity])],
            "Pendulum-v1": [.discrete(1), .continuous([0.5, 0.5]), .continuous([.nan])],
            "CliffWalking-v1": [.discrete(4), .continuous([1])],
        ]
        for (id, actions) in invalid {
            let env = try makeSnapshottable(id, seed: 0)
            env.reset()
            for action in actions {
                XCTAssertThrowsError(try env.step(action), "\(id) accepted \(action)") { error in
                    XCTAssertEqual(error as? EnvironmentError, .invalidAction(environment: id, action: action, space: env.actionSpace))
                    let message = String(describing: error)
                    XCTAssertTrue(message.contains(id) && message.contains(String(describing: action)) && message.contains(env.actionSpace.description), message)
                }
            }
        }
    }

    func testBoxActionsBeyondTheBoundsAreClippedWhereGymnasiumClips() throws {
        // Pendulum: the torque is clipped before both the dynamics and the cost.
        let a = Pendulum(seed: 1), b = Pendulum(seed: 1)
        a.reset(seed: 4)
        b.reset(seed: 4)
        XCTAssertEqual(try a.step(.continuous([7])), try b.step(.continuous([2])))
        // MountainCarContinuous: the force is clipped, the action cost uses the raw action (as Gymnasium).
        let c = MountainCarContinuous(seed: 1), d = MountainCarContinuous(seed: 1)
        c.reset(seed: 4)
        d.reset(seed: 4)
        let raw = try c.step(.continuous([3])), clipped = try d.step(.continuous([1]))
        XCTAssertEqual(raw.observation, clipped.observation)
        XCTAssertEqual(raw.reward, -0.1 * 9, accuracy: 1e-12)
        XCTAssertEqual(clipped.reward, -0.1, accuracy: 1e-12)
    }

    func testStepBeforeResetThrows() throws {
        for id in builtInIDs {
            let env = try makeSnapshottable(id, seed: 0)
            XCTAssertThrowsError(try env.step(env.actionSpace.sample(rng: &env.randomSource))) {
                XCTAssertEqual($0 as? EnvironmentError, .resetNeeded(environment: env.id))
            }
        }
    }

    func testSameSeedGivesTheSameTrajectory() throws {
        for id in builtInIDs {
            let first = try rollout(id, seed: 42, steps: 300)
            XCTAssertEqual(first, try rollout(id, seed: 42, steps: 300), id)
            if !id.hasPrefix("CliffWalking-") {  // its reset is deterministic and its dynamics too
                XCTAssertNotEqual(first, try rollout(id, seed: 43, steps: 300), id)
            }
        }
    }

    func testSeedingSemantics() throws {
        let made = try makeSnapshottable("CartPole-v1", seed: 9)
        let other = try makeSnapshottable("CartPole-v1", seed: 1)
        // make(seed:) followed by reset() equals reset(seed:) on any instance.
        XCTAssertEqual(made.reset(), other.reset(seed: 9))
        // nil continues the stream: the next episode starts elsewhere, identically for both.
        let second = made.reset()
        XCTAssertNotEqual(second, other.reset(seed: 9))
        XCTAssertEqual(second, { other.reset(seed: 9); return other.reset() }())
    }

    func testResetDistributionsFollowGymnasium() throws {
        var observations: [String: [[Float]]] = [:]
        for id in ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"] {
            let env = try makeSnapshottable(id, seed: 5)
            observations[id] = (0..<200).map { _ in env.reset() }
            for _ in 0..<200 {
                env.reset()
                let state = env.state
                switch id {
                case "CartPole-v1": XCTAssertTrue(state.allSatisfy { $0 >= -0.05 && $0 < 0.05 })
                case "Acrobot-v1":  // uniform(−0.1, 0.1) stored as float32
                    XCTAssertTrue(state.allSatisfy { $0 >= -0.1 && $0 <= 0.1 && Double(Float($0)) == $0 })
                case "MountainCar-v0", "MountainCarContinuous-v0":
                    XCTAssertTrue(state[0] >= -0.6 && state[0] < -0.4 && state[1] == 0)
                default:
                    XCTAssertTrue(abs(state[0]) <= Double.pi && abs(state[1]) <= 1)
                }
            }
        }
        XCTAssertEqual(Set(observations["CartPole-v1"]!.map { $0[0] }).count, 200)
        let cliff = try makeSnapshottable("CliffWalking-v1", seed: 5)
        XCTAssertEqual(cliff.reset(), [36])
    }

    func testObservationsStayInTheirSpace() throws {
        var rng = RandomSource(seed: 3)
        for id in builtInIDs {
            let env = try makeSnapshottable(id, seed: 3)
            var observation = env.reset()
            for _ in 0..<2_000 {
                XCTAssertTrue(env.observationSpace.contains(observation), "\(id): \(observation)")
                let result = try env.step(env.actionSpace.sample(rng: &rng))
                observation = result.isDone ? env.reset() : result.observation
            }
        }
    }

    func testBufferPathMatchesArrayPath() throws {
        var rng = RandomSource(seed: 8)
        for id in builtInIDs {
            let a = try makeSnapshottable(id, seed: 2), b = try makeSnapshottable(id, seed: 2)
            var buffer = [Float](repeating: .nan, count: a.observationCount)
            buffer.withUnsafeMutableBufferPointer { a.reset(seed: nil, observation: $0) }
            XCTAssertEqual(buffer, b.reset())
            for _ in 0..<100 {
                let action = a.actionSpace.sample(rng: &rng)
                let outcome = try buffer.withUnsafeMutableBufferPointer { try a.step(action, observation: $0) }
                let result = try b.step(action)
                XCTAssertEqual(buffer, result.observation)
                XCTAssertEqual(outcome, StepOutcome(reward: result.reward, terminated: result.terminated, truncated: result.truncated))
                if outcome.isDone {
                    buffer.withUnsafeMutableBufferPointer { a.reset(seed: nil, observation: $0) }
                    b.reset()
                }
            }
        }
    }

    func testTimeLimitTruncatesAtTheRegisteredStep() throws {
        let env = try makeSnapshottable("Pendulum-v1", seed: 0)
        env.reset()
        for step in 1...200 {
            let result = try env.step(.continuous([0]))
            XCTAssertFalse(result.terminated)
            XCTAssertEqual(result.truncated, step == 200, "step \(step)")
            XCTAssertEqual(env.elapsedSteps, step)
        }
        // Like Gymnasium's TimeLimit, stepping on keeps reporting truncation until a reset.
        XCTAssertTrue(try env.step(.continuous([0])).truncated)
        env.reset()
        XCTAssertEqual(env.elapsedSteps, 0)
        // Unwrapped, as constructed directly, there is no limit.
        let unwrapped = Pendulum(seed: 0)
        unwrapped.reset()
        for _ in 0..<1_000 { XCTAssertFalse(try unwrapped.step(.continuous([0])).truncated) }
    }

    func testCartPoleAfterTerminationPaysZeroLikeGymnasium() throws {
        let env = CartPole(seed: 0)
        env.reset()
        env.state = [0, 0, 0.2, 2]
        let fall = try env.step(.discrete(1))
        XCTAssertTrue(fall.terminated)
        XCTAssertEqual(fall.reward, 1)
        for _ in 0..<3 {
            let after = try env.step(.discrete(1))
            XCTAssertTrue(after.terminated)
            XCTAssertEqual(after.reward, 0)
        }
        env.reset()
        env.state = [0, 0, 0.2, 2]
        XCTAssertEqual(try env.step(.discrete(1)).reward, 1)

        let suttonBarto = CartPole(seed: 0, suttonBartoReward: true)
        suttonBarto.reset()
        XCTAssertEqual(try suttonBarto.step(.discrete(0)).reward, 0)
        suttonBarto.state = [0, 0, 0.2, 2]
        XCTAssertEqual(try suttonBarto.step(.discrete(0)).reward, -1)
    }

    func testCliffWalkingRules() throws {
        let env = try makeSnapshottable("CliffWalking-v1", seed: 0)
        XCTAssertEqual(env.reset(), [36])
        let cliff = try env.step(.discrete(1))  // right from the start: into the cliff
        XCTAssertEqual(cliff, StepResult(observation: [36], reward: -100, terminated: false, truncated: false))
        XCTAssertEqual(try env.step(.discrete(3)).observation, [36])  // left wall
        env.state = [35]
        XCTAssertEqual(try env.step(.discrete(2)), StepResult(observation: [47], reward: -1, terminated: true, truncated: false))
    }

    func testSlipperyCliffWalkingMovesPerpendicularAThirdOfTheTimeEach() throws {
        let env = try makeSnapshottable("CliffWalkingSlippery-v1", seed: 21)
        env.reset()
        var counts: [Float: Int] = [:]
        let trials = 6_000
        for _ in 0..<trials {
            env.state = [13]  // row 1, column 1; trying to move right
            counts[try env.step(.discrete(1)).observation[0], default: 0] += 1
        }
        XCTAssertEqual(Set(counts.keys), [1, 14, 25])  // up, right, down
        for (_, count) in counts { XCTAssertEqual(Double(count) / Double(trials), 1.0 / 3.0, accuracy: 0.03) }
    }

    func testRenderDrawsAFrame() throws {
        for id in builtInIDs {
            let env = try makeSnapshottable(id, seed: 0)
            env.reset()
            var rng = RandomSource(seed: 1)
            for _ in 0..<5 { _ = try env.step(env.actionSpace.sample(rng: &rng)) }
            let frame = env.render()
            XCTAssertFalse(frame.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, id)
            if id == "Catch-v0" {
                XCTAssertEqual(frame.split(separator: "\n").map(\.count), Array(repeating: 5, count: 10), "Catch draws its 10 × 5 board")
            } else if !id.hasPrefix("CliffWalking") {
                let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
                XCTAssertEqual(lines.count, 15, id)
                XCTAssertTrue(lines.allSatisfy { $0.count == 60 }, id)
            }
        }
        let cartPole = CartPole(seed: 0)
        cartPole.reset()
        let frame = cartPole.render()
        XCTAssertTrue(frame.contains("[###]") && frame.contains("*"), frame)
        let cliff = CliffWalking(seed: 0)
        cliff.reset()
        XCTAssertEqual(cliff.render().split(separator: "\n").last, "x  C  C  C  C  C  C  C  C  C  C  T")
    }

    /// Observations and rewards of a seeded random-action run with resets.
    private func rollout(_ id: String, seed: UInt64, steps: Int) throws -> [[Float]] {
        let env = try makeSnapshottable(id, seed: seed)
        var rng = RandomSource(seed: seed &+ 1)
        var trace = [env.reset()]
        for _ in 0..<steps {
            let result = try env.step(env.actionSpace.sample(rng: &rng))
            trace.append(result.observation + [Float(result.reward)])
            if result.isDone { trace.append(env.reset()) }
        }
        return trace
    }
}

/// The environments this module implements (other test targets register opaque ones in the same
/// process, which these tests are not about).
private let builtInIDs = Environments.builtIn.map(\.id)
