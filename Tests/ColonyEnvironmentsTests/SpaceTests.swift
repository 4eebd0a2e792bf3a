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

    func testImageAndIntegerBoxes() {
        let image = Space.box(shape: [4, 3, 2], low: 0, high: 255, elementType: .uint8)
        XCTAssertEqual(image.shape, [4, 3, 2])
        XCTAssertEqual(image.elementCount, 24)
        XCTAssertEqual(image.flatDimension, 24)
        XCTAssertEqual(image.description, "Box(low: 0.0, high: 255.0, shape: [4, 3, 2], dtype: uint8)")
        var pixels = [Float](repeating: 255, count: 24)
        XCTAssertTrue(image.contains(pixels))
        pixels[5] = 12.5
        XCTAssertFalse(image.contains(pixels), "uint8 elements must be integral")
        pixels[5] = 256
        XCTAssertFalse(image.contains(pixels))
        pixels[5] = .nan
        XCTAssertFalse(image.contains(pixels))
        XCTAssertFalse(image.contains([Float](repeating: 0, count: 23)))

        let counts = Space.box(BoxSpace(low: [-3, 0], high: [3, .infinity], shape: [2], elementType: .int64))
        XCTAssertEqual(counts.description, "Box(low: [-3.0, 0.0], high: [3.0, inf], shape: [2], dtype: int64)")
        XCTAssertTrue(counts.contains([-3, 1_000]))
        XCTAssertFalse(counts.contains([0.5, 1]))

        var rng = RandomSource(seed: 5)
        var seen = Set<Float>()
        for space in [image, counts, Space.box(shape: [2, 2], low: -1, high: 1)] {
            for _ in 0..<300 {
                let sample = space.sample(rng: &rng)
                XCTAssertTrue(space.contains(sample), "\(space) does not contain its sample \(sample)")
                if space == image { seen.formUnion(sample.encoded) }
            }
        }
        // Both integral bounds are reachable.
        XCTAssertTrue(seen.contains(0) && seen.contains(255))
    }

    func testMultiDiscrete() {
        let space = Space.multiDiscrete([3, 1, 5])
        XCTAssertEqual(space.shape, [3])
        XCTAssertEqual(space.elementCount, 3)
        XCTAssertEqual(space.flatDimension, 9)
        XCTAssertNil(space.discreteCount)
        XCTAssertEqual(space.description, "MultiDiscrete([3, 1, 5])")
        XCTAssertTrue(space.contains([2, 0, 4]))
        XCTAssertFalse(space.contains([3, 0, 4]))
        XCTAssertFalse(space.contains([0, 0, -1]))
        XCTAssertFalse(space.contains([0.5, 0, 0]))
        XCTAssertFalse(space.contains([.nan, 0, 0]))
        XCTAssertFalse(space.contains([0, 0]))
        XCTAssertFalse(space.contains(.discrete(0)))
        var rng = RandomSource(seed: 9)
        var maxima: [Float] = [0, 0, 0]
        for _ in 0..<300 {
            let sample = space.sample(rng: &rng)
            XCTAssertTrue(space.contains(sample), "\(space) does not contain its sample \(sample)")
            maxima = zip(maxima, sample.encoded).map { max($0, $1) }
        }
        XCTAssertEqual(maxima, [2, 0, 4])
    }

    func testOneDimensionalFloatBoxesDescribeThemselvesAsBefore() {
        // Checkpoints store this text and compare it on load.
        XCTAssertEqual(Space.box(low: -2, high: 2, count: 1).description, "Box(low: [-2.0], high: [2.0], shape: [1])")
        XCTAssertEqual(Space.box(shape: [2], low: 0, high: 1), .box(low: [0, 0], high: [1, 1]))
    }
}
