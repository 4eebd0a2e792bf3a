import ColonyNumerics
import Foundation
import XCTest

final class DistributionTanhGaussianTests: XCTestCase {
    /// log(1 − tanh²u) = log sech²u = −2 log cosh u, with log cosh u = |u| + log1p(e^−2|u|) − log 2
    /// (accurate in Double where the naive 1 − tanh²u cancels, |u| ≳ 8).
    private func logSechSquared(_ u: Double) -> Double {
        -2 * (abs(u) + log1p(exp(-2 * abs(u))) - log(2))
    }

    func testLogSechSquaredReferenceMatchesNaiveFormWhereThatIsAccurate() {
        for u in stride(from: -4.0, through: 4.0, by: 0.5) {
            XCTAssertEqual(logSechSquared(u), log(1 - tanh(u) * tanh(u)), accuracy: 1e-10)
        }
    }

    /// Change of variables in Double, naively: log p(a) = Σ [log N(u; μ, σ) − log(1 − tanh²u) − log scale].
    private func referenceLogProb(preTanh u: [Double], mean: [Double], logStd: [Double], scale: [Double],
                                  batchSize b: Int, dimension d: Int) -> [Double] {
        (0..<b).map { i in
            (0..<d).reduce(0.0) { sum, j in
                let s = logStd.count == d ? logStd[j] : logStd[i * d + j]
                return sum + DistributionReference.logNormal(u[i * d + j], mean: mean[i * d + j], logStd: s)
                    - logSechSquared(u[i * d + j]) - log(scale[j])
            }
        }
    }

    func testSampleLogProbMatchesChangeOfVariablesReference() {
        var rng = RandomSource(seed: 20)
        let (b, d) = (6, 3)
        let mean = DistributionReference.uniforms(b * d, -1.5, 1.5, rng: &rng)
        let logStd = DistributionReference.uniforms(b * d, -1, 0.3, rng: &rng)
        let scale: [Float] = [1, 2.5, 0.1], bias: [Float] = [0, 0.5, -3]
        let dist = TanhGaussian(mean: mean, logStd: logStd, batchSize: b, dimension: d, actionScale: scale, actionBias: bias)
        let sample = dist.sample(rng: &rng)
        let u = (0..<(b * d)).map { Double(mean[$0]) + exp(Double(logStd[$0])) * Double(sample.noise[$0]) }
        assertClose(sample.preTanh, u, tolerance: 1e-6, "u = μ + σε")
        assertClose(sample.actions, u.indices.map { Double(scale[$0 % d]) * tanh(u[$0]) + Double(bias[$0 % d]) }, tolerance: 1e-6, "actions")
        let reference = referenceLogProb(preTanh: u, mean: mean.map(Double.init), logStd: logStd.map(Double.init),
                                         scale: scale.map(Double.init), batchSize: b, dimension: d)
        assertClose(sample.logProb, reference, tolerance: 1e-5, "log π(a)")
        // Inverting the squash recovers the same log-probability for moderate u.
        assertClose(dist.logProb(actions: sample.actions), reference, tolerance: 2e-3, "log π(a) from actions")
    }

    func testStandardNormalAtZeroHasNoTanhCorrection() {
        let d = 4
        let dist = TanhGaussian(mean: [Float](repeating: 0, count: d), logStd: [Float](repeating: 0, count: d), batchSize: 1, dimension: d)
        let sample = dist.sample(noise: [Float](repeating: 0, count: d))
        XCTAssertEqual(Double(sample.logProb[0]), -0.5 * log(2 * Double.pi) * Double(d), accuracy: 1e-5)
        XCTAssertEqual(sample.actions, [0, 0, 0, 0])
    }

    func testDensityIntegratesToOneOverTheBox() {
        // Box [−2, 3]: scale 2.5, bias 0.5. Midpoint rule on exp(log π(a)) over the open interval.
        let (low, high): (Double, Double) = (-2, 3)
        let points = 200_000
        let width = (high - low) / Double(points)
        let grid = (0..<points).map { Float(low + (Double($0) + 0.5) * width) }
        for (mu, logSigma): (Float, Float) in [(0.3, logf(0.5)), (-1.2, logf(0.8)), (0, 0)] {
            let dist = TanhGaussian(mean: [Float](repeating: mu, count: points), logStd: [logSigma], batchSize: points, dimension: 1,
                                    actionScale: [2.5], actionBias: [0.5])
            let mass = dist.logProb(actions: grid).reduce(0.0) { $0 + exp(Double($1)) } * width
            XCTAssertEqual(mass, 1, accuracy: 2e-3, "∫ π(a) da for μ = \(mu), log σ = \(logSigma)")
        }
    }

    func testModeIsSquashedMean() {
        let dist = TanhGaussian(mean: [0.5, -2, 0, 30], logStd: [0, 0], batchSize: 2, dimension: 2,
                                actionScale: [2, 1], actionBias: [1, 0])
        assertClose(dist.mode, [2 * tanh(0.5) + 1, tanh(-2), 1, 1], tolerance: 1e-6, "mode")
    }

    func testLogStdIsClampedToDocumentedRange() {
        XCTAssertEqual(TanhGaussian.logStdRange, -20...2)
        let dist = TanhGaussian(mean: [0, 0, 0], logStd: [-50, 1, 7], batchSize: 1, dimension: 3)
        XCTAssertEqual(dist.logStd, [-20, 1, 2])
        let smooth = (-3...3).map { TanhGaussian.smoothlyBoundedLogStd(Float($0)) }
        for (x, value) in zip(-3...3, smooth) {
            XCTAssert(TanhGaussian.logStdRange.contains(value.value))
            let h = 1e-5, lo = -20.0, hi = 2.0
            let f = { (x: Double) in lo + 0.5 * (hi - lo) * (tanh(x) + 1) }
            XCTAssertEqual(Double(value.value), f(Double(x)), accuracy: 1e-5)
            XCTAssertEqual(Double(value.derivative), (f(Double(x) + h) - f(Double(x) - h)) / (2 * h), accuracy: 1e-4)
        }
    }

    /// SAC's actor loss in Double, L = α Σᵢ log π(aᵢ) + Σᵢⱼ gᵢⱼ aᵢⱼ (so ∂f/∂a = g), with the
    /// hard clamp on log σ; parameters packed as [mean…, raw logStd…].
    private func referenceActorLoss(_ parameters: [Double], noise: [Float], actionGradient: [Float], alpha: Double,
                                    scale: [Float], bias: [Float], batchSize b: Int, dimension d: Int, shared: Bool) -> Double {
        var loss = 0.0
        for i in 0..<b {
            for j in 0..<d {
                let index = i * d + j
                let logStd = min(max(parameters[b * d + (shared ? j : index)], -20), 2)
                let u = parameters[index] + exp(logStd) * Double(noise[index])
                let a = Double(scale[j]) * tanh(u) + Double(bias[j])
                let logProb = DistributionReference.logNormal(u, mean: parameters[index], logStd: logStd)
                    - logSechSquared(u) - log(Double(scale[j]))
                loss += alpha * logProb + Double(actionGradient[index]) * a
            }
        }
        return loss
    }

    func testActorGradientsMatchFiniteDifferences() {
        var rng = RandomSource(seed: 21)
        let (b, d) = (3, 3)
        let scale: [Float] = [1, 2, 0.5], bias: [Float] = [0, -1, 0.25]
        for shared in [false, true] {
            let mean = DistributionReference.uniforms(b * d, -1, 1, rng: &rng)
            var logStd = DistributionReference.uniforms(shared ? d : b * d, -1.2, 0.4, rng: &rng)
            logStd[1] = 2.6  // outside the clamp: no gradient
            let noise = (0..<(b * d)).map { _ in rng.normal() }
            let actionGradient = DistributionReference.uniforms(b * d, -1, 1, rng: &rng)
            let dist = TanhGaussian(mean: mean, logStd: logStd, batchSize: b, dimension: d, actionScale: scale, actionBias: bias)
            let packed = (mean + logStd).map(Double.init)
            for alpha in [0.0, 0.2, 1.5] {
                let reference = DistributionReference.centralDifferences(at: packed) {
                    self.referenceActorLoss($0, noise: noise, actionGradient: actionGradient, alpha: alpha,
                                            scale: scale, bias: bias, batchSize: b, dimension: d, shared: shared)
                }
                let gradient = dist.gradients(noise: noise, actionGradient: actionGradient, logProbWeight: Float(alpha))
                assertClose(gradient.mean, Array(reference[..<(b * d)]), tolerance: 1e-4, "dL/dμ shared=\(shared) α=\(alpha)")
                assertClose(gradient.logStd, Array(reference[(b * d)...]), tolerance: 1e-4, "dL/dlogσ shared=\(shared) α=\(alpha)")
                XCTAssertEqual(gradient.logStd[1], 0, "clamped entry passes no gradient")
            }
        }
    }

    func testReusedNoiseReproducesSample() {
        let dist = TanhGaussian(mean: [0.1, -0.4, 0.9, 0], logStd: [-0.5, 0.2], batchSize: 2, dimension: 2)
        var rng = RandomSource(seed: 22), copy = rng
        let sample = dist.sample(rng: &rng)
        XCTAssertEqual(sample.noise, (0..<4).map { _ in copy.normal() })
        let again = dist.sample(noise: sample.noise)
        XCTAssertEqual(again.actions, sample.actions)
        XCTAssertEqual(again.logProb, sample.logProb)
        var actions = [Float](repeating: .nan, count: 4), logProb = [Float](repeating: .nan, count: 2)
        sample.noise.withUnsafeBufferPointer { eps in
            actions.withUnsafeMutableBufferPointer { a in
                logProb.withUnsafeMutableBufferPointer { dist.sample(noise: eps, actions: a, logProb: $0) }
            }
        }
        XCTAssertEqual(actions, sample.actions)
        XCTAssertEqual(logProb, sample.logProb)
    }

    func testSaturatedAndExtremeInputsStayFinite() {
        let mean: [Float] = [1e4, -1e4, 30, -12, 0, 5]
        let logStd: [Float] = [1e4, -1e4, 3, -30, 0, 2]
        let dist = TanhGaussian(mean: mean, logStd: logStd, batchSize: 3, dimension: 2, actionScale: [2, 0.5], actionBias: [1, 0])
        var rng = RandomSource(seed: 23)
        for _ in 0..<50 {
            let sample = dist.sample(rng: &rng)
            assertAllFinite(sample.logProb, "logProb")
            for (k, a) in sample.actions.enumerated() {
                let (lo, hi): (Float, Float) = k % 2 == 0 ? (-1, 3) : (-0.5, 0.5)
                XCTAssert(a >= lo && a <= hi, "action \(a) outside [\(lo), \(hi)]")
            }
            let g = dist.gradients(noise: sample.noise, actionGradient: [Float](repeating: 1, count: 6), logProbWeight: 0.2)
            assertAllFinite(g.mean, "dL/dμ")
            assertAllFinite(g.logStd, "dL/dlogσ")
        }
        assertAllFinite(dist.logProb(actions: [3, -0.5, -1, 0.5, 1, 0]), "logProb at the bounds")
        assertAllFinite(dist.mode, "mode")
        // For u = 1e4 the stable correction gives log(1 − tanh²u) ≈ 2 log 2 − 2u exactly.
        let far = TanhGaussian(mean: [1e4], logStd: [0], batchSize: 1, dimension: 1).sample(noise: [0])
        XCTAssertEqual(Double(far.logProb[0]), -0.5 * log(2 * Double.pi) - (2 * log(2) - 2e4), accuracy: 1)
    }
}
