import ColonyNumerics
import Foundation
import XCTest

final class DistributionDiagonalGaussianTests: XCTestCase {
    func testStandardNormalClosedForms() {
        for d in [1, 3, 8] {
            let dist = DiagonalGaussian(mean: [Float](repeating: 0, count: 2 * d), logStd: [Float](repeating: 0, count: d),
                                        batchSize: 2, dimension: d)
            for lp in dist.logProb(actions: [Float](repeating: 0, count: 2 * d)) {
                XCTAssertEqual(Double(lp), -0.5 * log(2 * Double.pi) * Double(d), accuracy: 1e-5)
            }
            for h in dist.entropy() { XCTAssertEqual(Double(h), 0.5 * (1 + log(2 * Double.pi)) * Double(d), accuracy: 1e-5) }
            XCTAssertEqual(dist.mode, dist.mean)
        }
    }

    func testLogProbAndEntropyMatchDoubleReference() {
        var rng = RandomSource(seed: 10)
        let (b, d) = (4, 3)
        let mean = DistributionReference.uniforms(b * d, -2, 2, rng: &rng)
        let logStd = DistributionReference.uniforms(b * d, -1.5, 1, rng: &rng)
        let actions = DistributionReference.uniforms(b * d, -3, 3, rng: &rng)
        let dist = DiagonalGaussian(mean: mean, logStd: logStd, batchSize: b, dimension: d)
        let logProb = (0..<b).map { i in
            (0..<d).reduce(0.0) { $0 + DistributionReference.logNormal(Double(actions[i * d + $1]), mean: Double(mean[i * d + $1]),
                                                                       logStd: Double(logStd[i * d + $1])) }
        }
        assertClose(dist.logProb(actions: actions), logProb, tolerance: 1e-5, "logProb")
        let entropy = (0..<b).map { i in (0..<d).reduce(0.0) { $0 + Double(logStd[i * d + $1]) + 0.5 * (1 + log(2 * Double.pi)) } }
        assertClose(dist.entropy(), entropy, tolerance: 1e-5, "entropy")
    }

    /// L = Σᵢ wᵢ log π(aᵢ) + c Σᵢ Hᵢ in Double, parameters packed as [mean…, logStd…].
    private func referenceLoss(_ parameters: [Double], actions: [Float], weights: [Float], entropyWeight c: Double,
                               batchSize b: Int, dimension d: Int, sharedLogStd: Bool) -> Double {
        var loss = 0.0
        for i in 0..<b {
            for j in 0..<d {
                let logStd = parameters[b * d + (sharedLogStd ? j : i * d + j)]
                loss += Double(weights[i]) * DistributionReference.logNormal(Double(actions[i * d + j]), mean: parameters[i * d + j], logStd: logStd)
                loss += c * (logStd + 0.5 * (1 + log(2 * Double.pi)))
            }
        }
        return loss
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = RandomSource(seed: 11)
        let (b, d) = (3, 4)
        let weights: [Float] = [1.2, -0.6, 0.3]
        for shared in [false, true] {
            let mean = DistributionReference.uniforms(b * d, -1, 1, rng: &rng)
            let logStd = DistributionReference.uniforms(shared ? d : b * d, -1, 0.7, rng: &rng)
            let actions = DistributionReference.uniforms(b * d, -2, 2, rng: &rng)
            let dist = DiagonalGaussian(mean: mean, logStd: logStd, batchSize: b, dimension: d)
            XCTAssertEqual(dist.sharesLogStd, shared)
            let packed = (mean + logStd).map(Double.init)
            for c in [0.0, 0.25] {
                let reference = DistributionReference.centralDifferences(at: packed) {
                    self.referenceLoss($0, actions: actions, weights: weights, entropyWeight: c, batchSize: b, dimension: d, sharedLogStd: shared)
                }
                let gradient = dist.gradients(actions: actions, logProbWeights: weights, entropyWeight: Float(c))
                assertClose(gradient.mean, Array(reference[..<(b * d)]), tolerance: 1e-4, "dL/dμ shared=\(shared) c=\(c)")
                assertClose(gradient.logStd, Array(reference[(b * d)...]), tolerance: 1e-4, "dL/dlogσ shared=\(shared) c=\(c)")
            }
            let ones = [Float](repeating: 1, count: b)
            let logProbReference = DistributionReference.centralDifferences(at: packed) {
                self.referenceLoss($0, actions: actions, weights: ones, entropyWeight: 0, batchSize: b, dimension: d, sharedLogStd: shared)
            }
            let logProbGradient = dist.logProbGradients(actions: actions)
            assertClose(logProbGradient.mean + logProbGradient.logStd, logProbReference, tolerance: 1e-4, "dlogπ shared=\(shared)")
            let entropyReference = DistributionReference.centralDifferences(at: packed) {
                self.referenceLoss($0, actions: actions, weights: [0, 0, 0], entropyWeight: 1, batchSize: b, dimension: d, sharedLogStd: shared)
            }
            assertClose(dist.entropyLogStdGradient(), Array(entropyReference[(b * d)...]), tolerance: 1e-6, "dH/dlogσ shared=\(shared)")
        }
    }

    func testSharedLogStdGradientIsSumOfPerRowGradients() {
        var rng = RandomSource(seed: 12)
        let (b, d) = (5, 2)
        let mean = DistributionReference.uniforms(b * d, -1, 1, rng: &rng)
        let logStd = DistributionReference.uniforms(d, -0.5, 0.5, rng: &rng)
        let actions = DistributionReference.uniforms(b * d, -2, 2, rng: &rng)
        let weights = DistributionReference.uniforms(b, -1, 1, rng: &rng)
        let shared = DiagonalGaussian(mean: mean, logStd: logStd, batchSize: b, dimension: d)
        let perRow = DiagonalGaussian(mean: mean, logStd: Array([[Float]](repeating: logStd, count: b).joined()), batchSize: b, dimension: d)
        XCTAssertEqual(shared.logProb(actions: actions), perRow.logProb(actions: actions))
        XCTAssertEqual(shared.entropy(), perRow.entropy())
        let g = shared.gradients(actions: actions, logProbWeights: weights, entropyWeight: 0.1)
        let h = perRow.gradients(actions: actions, logProbWeights: weights, entropyWeight: 0.1)
        XCTAssertEqual(g.mean, h.mean)
        let summed = (0..<d).map { j in (0..<b).reduce(0.0) { $0 + Double(h.logStd[$1 * d + j]) } }
        assertClose(g.logStd, summed, tolerance: 1e-6, "shared logσ gradient")
    }

    func testSampleMomentsMatchMeanAndStd() {
        let draws = 100_000
        let (mu, sigma): ([Float], [Float]) = ([1.5, -3], [0.5, 2])
        let dist = DiagonalGaussian(mean: Array([[Float]](repeating: mu, count: draws).joined()), logStd: sigma.map { logf($0) },
                                    batchSize: draws, dimension: 2)
        var rng = RandomSource(seed: 13)
        let samples = dist.sample(rng: &rng)
        for j in 0..<2 {
            let column = stride(from: j, to: samples.count, by: 2).map { Double(samples[$0]) }
            let sampleMean = column.reduce(0, +) / Double(draws)
            let sampleStd = (column.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / Double(draws - 1)).squareRoot()
            XCTAssertEqual(sampleMean, Double(mu[j]), accuracy: 5 * Double(sigma[j]) / Double(draws).squareRoot())
            XCTAssertEqual(sampleStd, Double(sigma[j]), accuracy: 5 * Double(sigma[j]) / Double(2 * draws).squareRoot())
        }
    }

    func testSampleFromNoiseIsMeanPlusStdTimesNoise() {
        let dist = DiagonalGaussian(mean: [1, 2, 3, 4], logStd: [0, logf(3), logf(0.5), logf(2)], batchSize: 2, dimension: 2)
        let actions = dist.sample(noise: [1, -1, 2, 0.5])
        assertClose(actions, [2, -1, 4, 5], tolerance: 1e-6, "μ + σε")
        var rng = RandomSource(seed: 14), copy = rng
        let drawn = dist.sample(rng: &rng)
        let noise = (0..<4).map { _ in copy.normal() }
        XCTAssertEqual(drawn, dist.sample(noise: noise))
    }
}
