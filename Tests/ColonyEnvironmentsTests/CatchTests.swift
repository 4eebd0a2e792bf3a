import ColonyNumerics
import XCTest
@testable import ColonyEnvironments

/// Catch's rules, as bsuite's `catch.py` defines them: the ball falls a row a step, the paddle moves within the board,
/// the episode ends on the bottom row after 9 steps with +1 under the ball and −1 elsewhere; the image shows both.
final class CatchTests: XCTestCase {
    private func lit(_ observation: [Float]) -> [Int] { observation.indices.filter { observation[$0] != 0 } }

    func testBallFallsPaddleMovesAndTheLandingPaysOneOrMinusOne() throws {
        let env = try Environments.make("Catch-v0", seed: 3)
        XCTAssertEqual(env.observationSpace, .box(shape: [1, 10, 5], low: 0, high: 255, elementType: .uint8))
        XCTAssertEqual(env.actionSpace, .discrete(3))
        var columns = Set<Int>()
        for episode in 0..<40 {
            let first = env.reset(seed: episode == 0 ? 5 : nil)
            XCTAssertTrue(env.observationSpace.contains(first))
            let ball = lit(first).filter { $0 < 5 }
            XCTAssertEqual(ball.count, 1, "one ball on the top row")
            XCTAssertTrue(lit(first).contains(45 + 2), "the paddle starts in the middle of the bottom row")
            let column = ball[0]
            columns.insert(column)
            // Walk the paddle to the ball's column on odd episodes, away from it on even ones.
            var paddle = 2
            for step in 1...9 {
                let target = episode % 2 == 1 ? column : (column < 3 ? 4 : 0)
                let action = target > paddle ? 2 : (target < paddle ? 0 : 1)
                paddle = min(max(paddle + action - 1, 0), 4)
                let result = try env.step(.discrete(action))
                XCTAssertEqual(result.terminated, step == 9, "episode \(episode) step \(step)")
                XCTAssertFalse(result.truncated)
                XCTAssertTrue(lit(result.observation).contains(step * 5 + column), "the ball is on row \(step)")
                XCTAssertTrue(lit(result.observation).contains(45 + paddle), "the paddle is at \(paddle)")
                XCTAssertEqual(result.reward, step < 9 ? 0 : (episode % 2 == 1 ? 1 : -1))
            }
        }
        XCTAssertEqual(columns, Set(0..<5), "the ball starts in every column")
        XCTAssertThrowsError(try env.step(.discrete(3)))
    }

    func testPaddleStopsAtTheEdgesAndStateRoundTrips() throws {
        let env = Catch(seed: 1)
        env.reset(seed: 1)
        for _ in 0..<4 { _ = try env.step(.discrete(0)) }
        XCTAssertEqual(env.state[2], 0, "left edge")
        env.state = [3, 1, 4]
        _ = try env.step(.discrete(2))
        XCTAssertEqual(env.state, [4, 1, 4], "right edge")
        XCTAssertNotNil(env.stateProblem([3, 1, 5]))
        XCTAssertNotNil(env.stateProblem([3.5, 1, 1]))
        XCTAssertNil(env.stateProblem([9, 0, 0]))
    }
}
