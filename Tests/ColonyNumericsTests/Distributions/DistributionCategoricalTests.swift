import ColonyNumerics
import Foundation
import XCTest

final class DistributionCategoricalTests: XCTestCase {
    func testUniformLogitsGiveLogNEntropyAndLogProb() {
        for n in [1, 2, 6, 18] {
            let dist = Categorical(logits: [Float](repeating: 0.7, count: 3 * n), batchSize: 3, actionCount: n)
            for h in dist.entropy() { XCTAssertEqual(Double(h), log(Double(n)), accuracy: 1e-6) }
            for lp in dist.logProb(actions: [0, n - 1, n / 2]) { XCTAssertEqual(Double(lp), -log(Double(n)), accuracy: 1e-6) }
            for p in dist.probabilities { XCTAssertEqual(Double(p), 1 / Double(n), accuracy: 1e-7) }
        }
    }

    func testLogSoftmaxEntropyAndKLMatchDoubleReference() {
        var rng = RandomSource(seed: 1)
        let (b, n) = (5, 7)
        let z = DistributionReference.uniforms(b * n, -6, 6, rng: &rng)
        let y = DistributionReference.uniforms(b * n, -6, 6, rng: &rng)
        let p = Categorical(logits: z, batchSize: b, actionCount: n)
        let q = Categorical(logits: y, batchSize: b, actionCount: n)
        let logp = DistributionReference.logSoftmax(z.map(Double.init), batchSize: b, actionCount: n)
        let logq = DistributionReference.logSoftmax(y.map(Double.init), batchSize: b, actionCount: n)
        assertClose(p.logProbabilities, logp, tolerance: 1e-6, "log-softmax")
        assertClose(p.probabilities, logp.map(exp), tolerance: 1e-6, "softmax")
        let entropy = (0..<b).map { i in -(0..<n).reduce(0.0) { $0 + exp(logp[i * n + $1]) * logp[i * n + $1] } }
        assertClose(p.entropy(), entropy, tolerance: 1e-5, "entropy")
        let kl = (0..<b).map { i in (0..<n).reduce(0.0) { $0 + exp(logp[i * n + $1]) * (logp[i * n + $1] - logq[i * n + $1]) } }
        assertClose(p.klDivergence(to: q), kl, tolerance: 1e-5, "KL(p‖q)")
        for value in p.klDivergence(to: p) { XCTAssertEqual(value, 0, accuracy: 1e-6) }
        let actions = [0, 6, 3, 2, 5]
        assertClose(p.logProb(actions: actions), actions.enumerated().map { logp[$0 * n + $1] }, tolerance: 1e-6, "logProb")
    }

    func testLogitsGradientMatchesFiniteDifferences() {
        var rng = RandomSource(seed: 2)
        let (b, n) = (4, 5)
        let z = DistributionReference.uniforms(b * n, -3, 3, rng: &rng)
        let actions = [1, 0, 4, 2]
        let weights: [Float] = [0.7, -1.3, 2.1, -0.4]
        let dist = Categorical(logits: z, batchSize: b, actionCount: n)
        let zD = z.map(Double.init), wD = weights.map(Double.init)
        for c in [0.0, 0.37, -0.05] {
            let reference = DistributionReference.centralDifferences(at: zD) {
                DistributionReference.categoricalLoss($0, batchSize: b, actionCount: n, actions: actions, weights: wD, entropyWeight: c)
            }
            let gradient = dist.logitsGradient(actions: actions, logProbWeights: weights, entropyWeight: Float(c))
            assertClose(gradient, reference, tolerance: 1e-5, "dL/dz, c = \(c)")
            // The gradient of a softmax loss sums to 0 over each row.
            for i in 0..<b { XCTAssertEqual(gradient[i * n..<(i + 1) * n].reduce(0, +), 0, accuracy: 1e-5) }
        }
        let ones = [Double](repeating: 1, count: b)
        let logProbReference = DistributionReference.centralDifferences(at: zD) {
            DistributionReference.categoricalLoss($0, batchSize: b, actionCount: n, actions: actions, weights: ones, entropyWeight: 0)
        }
        assertClose(dist.logProbGradient(actions: actions), logProbReference, tolerance: 1e-5, "dlogπ/dz")
        let entropyReference = DistributionReference.centralDifferences(at: zD) {
            DistributionReference.categoricalLoss($0, batchSize: b, actionCount: n, actions: actions,
                                                  weights: [Double](repeating: 0, count: b), entropyWeight: 1)
        }
        assertClose(dist.entropyGradient(), entropyReference, tolerance: 1e-5, "dH/dz")
    }

    func testIntoVariantOverwritesOutput() {
        let dist = Categorical(logits: [1, 2, 3, 0, 0, 5], batchSize: 2, actionCount: 3)
        var out = [Float](repeating: .nan, count: 6)
        out.withUnsafeMutableBufferPointer {
            dist.logitsGradient(actions: [2, 0], logProbWeights: [1, -2], entropyWeight: 0.1, into: $0)
        }
        XCTAssertEqual(out, dist.logitsGradient(actions: [2, 0], logProbWeights: [1, -2], entropyWeight: 0.1))
    }

    func testSamplingFrequenciesMatchProbabilitiesWithinBinomialTolerance() {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.0, -0.5]
        let n = logits.count, draws = 200_000
        let dist = Categorical(logits: Array([[Float]](repeating: logits, count: draws).joined()), batchSize: draws, actionCount: n)
        var rng = RandomSource(seed: 42)
        let samples = dist.sample(rng: &rng)
        var counts = [Int](repeating: 0, count: n)
        for a in samples { counts[a] += 1 }
        for j in 0..<n {
            let p = Double(dist.probabilities[j])
            let sigma = (Double(draws) * p * (1 - p)).squareRoot()
            XCTAssertEqual(Double(counts[j]), Double(draws) * p, accuracy: 4.5 * sigma, "action \(j): \(counts[j]) of \(draws), p = \(p)")
        }
        // One uniform draw per row, so the same seed reproduces the same actions.
        var again = RandomSource(seed: 42)
        XCTAssertEqual(dist.sample(rng: &again), samples)
    }

    func testModeIsArgmaxWithTiesToLowestIndex() {
        let dist = Categorical(logits: [0, 3, 1, 3, /**/ 5, -1, 2, 0, /**/ -2, -2, -2, -1], batchSize: 3, actionCount: 4)
        XCTAssertEqual(dist.mode, [1, 0, 3])
    }

    func testLargeLogitsStayFinite() {
        let logits: [Float] = [1e4, -1e4, 0, 1e4 - 1, /**/ -1e4, -1e4, -1e4, -1e4 + 30]
        let dist = Categorical(logits: logits, batchSize: 2, actionCount: 4)
        assertAllFinite(dist.logProbabilities, "logProbabilities")
        assertAllFinite(dist.probabilities, "probabilities")
        assertAllFinite(dist.entropy(), "entropy")
        assertAllFinite(dist.logProb(actions: [1, 0]), "logProb")
        XCTAssertEqual(Double(dist.logProb(actions: [1, 0])[0]), -2e4 - log1p(exp(-1.0)), accuracy: 2)
        assertAllFinite(dist.logitsGradient(actions: [1, 0], logProbWeights: [1, -1], entropyWeight: 0.5), "gradient")
        assertAllFinite(dist.entropyGradient(), "entropy gradient")
        let flipped = Categorical(logits: logits.map { -$0 }, batchSize: 2, actionCount: 4)
        assertAllFinite(dist.klDivergence(to: flipped), "KL")
        XCTAssertEqual(dist.mode, [0, 3])
        var rng = RandomSource(seed: 3)
        for _ in 0..<100 { XCTAssertEqual(dist.sample(rng: &rng)[1], 3) }
    }

    func testMaskedActionsAreNeverSampledAndStayFinite() {
        let logits: [Float] = [-.infinity, 0.5, -.infinity, 0.1]
        let dist = Categorical(logits: logits, batchSize: 1, actionCount: 4)
        XCTAssertEqual(dist.probabilities[0], 0)
        XCTAssertEqual(dist.probabilities[2], 0)
        var rng = RandomSource(seed: 4)
        for _ in 0..<2_000 { XCTAssert([1, 3].contains(dist.sample(rng: &rng)[0])) }
        XCTAssertEqual(Double(dist.entropy()[0]), {
            let p = 1 / (1 + exp(-0.4))
            return -p * log(p) - (1 - p) * log(1 - p)
        }(), accuracy: 1e-6)
        assertAllFinite(dist.logitsGradient(actions: [3], logProbWeights: [1], entropyWeight: 0.2), "masked gradient")
        assertAllFinite(dist.entropyGradient(), "masked entropy gradient")
        XCTAssertEqual(dist.mode, [1])
    }
}
