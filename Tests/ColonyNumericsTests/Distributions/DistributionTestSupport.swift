import ColonyNumerics
import Foundation
import XCTest

/// Slow Double-precision references written like the math, and a central-difference helper.
enum DistributionReference {
    static let halfLogTwoPi = 0.5 * log(2 * Double.pi)

    /// Row-wise log-softmax, naively: z − log Σ exp(z) with the max subtracted.
    static func logSoftmax(_ logits: [Double], batchSize: Int, actionCount n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: logits.count)
        for i in 0..<batchSize {
            let row = Array(logits[i * n..<(i + 1) * n])
            let m = row.max()!
            let logZ = m + log(row.map { exp($0 - m) }.reduce(0, +))
            for j in 0..<n { out[i * n + j] = row[j] - logZ }
        }
        return out
    }

    /// L = Σᵢ wᵢ log π(aᵢ) + c Σᵢ Hᵢ for a batch of categoricals.
    static func categoricalLoss(_ logits: [Double], batchSize: Int, actionCount n: Int,
                                actions: [Int], weights: [Double], entropyWeight c: Double) -> Double {
        let logp = logSoftmax(logits, batchSize: batchSize, actionCount: n)
        var loss = 0.0
        for i in 0..<batchSize {
            loss += weights[i] * logp[i * n + actions[i]]
            for j in 0..<n { loss -= c * exp(logp[i * n + j]) * logp[i * n + j] }
        }
        return loss
    }

    /// log N(x; μ, σ) = −(x − μ)²/(2σ²) − log σ − ½ log 2π.
    static func logNormal(_ x: Double, mean: Double, logStd: Double) -> Double {
        let sigma = exp(logStd)
        return -(x - mean) * (x - mean) / (2 * sigma * sigma) - logStd - halfLogTwoPi
    }

    /// ∂f/∂xₖ ≈ (f(x + h eₖ) − f(x − h eₖ)) / 2h for every k.
    static func centralDifferences(at x: [Double], step h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
        (0..<x.count).map { k in
            var plus = x, minus = x
            plus[k] += h
            minus[k] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }

    /// `count` uniform values in [low, high) from a seeded stream.
    static func uniforms(_ count: Int, _ low: Float, _ high: Float, rng: inout RandomSource) -> [Float] {
        (0..<count).map { _ in rng.uniform(low, high) }
    }
}

/// Asserts |actual − expected| ≤ tolerance·max(1, |expected|) element-wise.
func assertClose(_ actual: [Float], _ expected: [Double], tolerance: Double,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count " + message(), file: file, line: line)
    for (k, (a, e)) in zip(actual, expected).enumerated() {
        let bound = tolerance * max(1, abs(e))
        XCTAssert(abs(Double(a) - e) <= bound,
                  "\(message()) [\(k)]: \(a) vs reference \(e) (tolerance \(bound))", file: file, line: line)
    }
}

func assertAllFinite(_ values: [Float], _ message: @autoclosure () -> String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssert(values.allSatisfy(\.isFinite), "non-finite value in \(message()): \(values.prefix(16))", file: file, line: line)
}
