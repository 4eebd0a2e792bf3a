import XCTest

final class ContinuousControlDDPGTests: XCTestCase {
    func testSolvesPendulum() throws {
        try ContinuousControlFixtures.assertSolvesPendulum("ddpg", frames: 15_000, seed: 1)
    }
}
