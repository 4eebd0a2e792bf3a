import ColonyNumerics
import XCTest

final class GradientClippingTests: XCTestCase {
    private func norm(_ values: [Float]) -> Float { values.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    func testClipsToMaxNormAndReturnsTheNormBefore() {
        var gradients: [Float] = [3, 4]  // norm 5
        let before = clipGlobalNorm(&gradients, maxNorm: 1)
        XCTAssertEqual(before, 5)
        // PyTorch's factor maxNorm / (norm + 1e-6).
        assertApproximatelyEqual(gradients, [3, 4].map { $0 * 1 / (5 + 1e-6) })
        XCTAssertEqual(norm(gradients), 1, accuracy: 1e-5)
    }

    func testLeavesSmallGradientsUnchanged() {
        var gradients: [Float] = [0.3, -0.4]
        XCTAssertEqual(clipGlobalNorm(&gradients, maxNorm: 0.6), 0.5, accuracy: 1e-7)
        XCTAssertEqual(gradients, [0.3, -0.4])
        // At exactly maxNorm PyTorch still scales, by maxNorm / (norm + 1e-6).
        var boundary: [Float] = [0.5]
        clipGlobalNorm(&boundary, maxNorm: 0.5)
        XCTAssertEqual(boundary, [0.5 * 0.5 / (0.5 + 1e-6)])
        var zeros: [Float] = [0, 0]
        XCTAssertEqual(clipGlobalNorm(&zeros, maxNorm: 1), 0)
        XCTAssertEqual(zeros, [0, 0])
    }

    func testSeveralModelsClipAsOneVector() {
        var rng = RandomSource(seed: 1)
        let actor = MLP(sizes: [3, 4, 2], initialization: .xavierUniform, rng: &rng)
        let critic = MLP(sizes: [3, 4, 1], initialization: .xavierUniform, rng: &rng)
        let logStd = ParameterVector([0, 0])
        actor.gradients = rng.normals(actor.parameterCount)
        critic.gradients = rng.normals(critic.parameterCount)
        logStd.gradients = [5, -5]
        var concatenated = actor.gradients + critic.gradients + logStd.gradients
        let expectedNorm = clipGlobalNorm(&concatenated, maxNorm: 0.5)

        let returnedNorm = clipGlobalNorm([actor, critic, logStd], maxNorm: 0.5)
        XCTAssertEqual(returnedNorm, expectedNorm)
        XCTAssertGreaterThan(returnedNorm, 0.5)
        XCTAssertEqual(actor.gradients + critic.gradients + logStd.gradients, concatenated)
        XCTAssertEqual(norm(concatenated), 0.5, accuracy: 1e-5)
    }

    func testNonFiniteNormIsReportedAndGradientsKept() {
        var gradients: [Float] = [.nan, 1]
        XCTAssertTrue(clipGlobalNorm(&gradients, maxNorm: 1).isNaN)
        XCTAssertEqual(gradients[1], 1)
        var infinite: [Float] = [.infinity, 1]
        XCTAssertEqual(clipGlobalNorm(&infinite, maxNorm: 1), .infinity)
        XCTAssertEqual(infinite[1], 1)
    }
}
