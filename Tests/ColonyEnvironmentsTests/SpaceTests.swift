import ColonyNumerics
import XCTest
@testable import ColonyEnvironments

final class SpaceTests: XCTestCase {
    func testSpacesContainTheirSamples() throws {
        var rng = RandomSource(seed: 11)
        let spaces: [Space] = [
            .discrete(1), .discrete(7),
            .box(low: [-1], high: [1]),
            .box(low: -2, high: 3, count: 5),
            .box(low: [-.infinity, 0, -.infinity, 4], high: [.infinity, .infinity, 0, 4]),
        ]
        var environmentSpaces: [Space] = []
        for id in Environments.ids {
            let env = try Environments.make(id, seed: 0)
            environmentSpaces += [env.observationSpace, env.actionSpace]
        }
        for space in spaces + environmentSpaces {
            for _ in 0..<500 {
                let sample = space.sample(rng: &rng)
                XCTAssertTrue(space.contains(sample), "\(space) does not contain its sample \(sample)")
                XCTAssertTrue(space.contains(sample.encoded), "\(space) does not contain \(sample.encoded)")
                XCTAssertEqual(sample.encoded.count, space.elementCount)
            }
        }
    }

    func testContainment() {
        let box = Space.box(low: [-1, 0], high: [1, 2])
        XCTAssertTrue(box.contains([1, 0]))
        XCTAssertFalse(box.contains([1.01, 0]))
        XCTAssertFalse(box.contains([0]))
        XCTAssertFalse(box.contains([.nan, 1]))
        XCTAssertFalse(box.contains(.discrete(0)))
        let discrete = Space.discrete(3)
        XCTAssertTrue(discrete.contains(.discrete(2)))
        XCTAssertFalse(discrete.contains(.discrete(3)))
        XCTAssertFalse(discrete.contains(.discrete(-1)))
        XCTAssertFalse(discrete.contains(.continuous([1])))
        XCTAssertTrue(discrete.contains([2]))
        XCTAssertFalse(discrete.contains([1.5]))
    }

    func testDimensionsAndDescription() throws {
        let cartPole = try Environments.make("CartPole-v1", seed: 0)
        XCTAssertEqual(cartPole.observationSpace.shape, [4])
        XCTAssertEqual(cartPole.observationSpace.elementCount, 4)
        XCTAssertEqual(cartPole.observationSpace.flatDimension, 4)
        XCTAssertEqual(cartPole.actionSpace, .discrete(2))
        XCTAssertEqual(cartPole.actionSpace.shape, [])
        XCTAssertEqual(cartPole.actionSpace.discreteCount, 2)
        XCTAssertEqual(cartPole.actionSpace.description, "Discrete(2)")
        XCTAssertEqual(
            cartPole.observationSpace.description,
            "Box(low: [-4.8, -inf, -0.41887903, -inf], high: [4.8, inf, 0.41887903, inf], shape: [4])")

        let cliff = try Environments.make("CliffWalking-v1", seed: 0)
        XCTAssertEqual(cliff.observationSpace.elementCount, 1)
        XCTAssertEqual(cliff.observationSpace.flatDimension, 48)
        XCTAssertFalse(cliff.actionSpace.contains(.discrete(4)))
    }
}
