import ColonyNumerics
import XCTest

final class MatrixProductTests: XCTestCase {
    /// (op(A) · op(B))[i, j] = Σ_k op(A)[i, k] · op(B)[k, j], in Double.
    private func naiveProduct(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> [Float] {
        let opA = transposeA ? a.transposed() : a
        let opB = transposeB ? b.transposed() : b
        let (m, k, n) = (opA.shape[0], opA.shape[1], opB.shape[1])
        var result = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(opA[i, p]) * Double(opB[p, j]) }
                result[i * n + j] = Float(sum)
            }
        }
        return result
    }

    func testMatmulAllTransposeCombinations() {
        var rng = RandomSource(seed: 11)
        let (m, k, n) = (5, 7, 3)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = Tensor(shape: transposeA ? [k, m] : [m, k], scalars: rng.normals(m * k))
                let b = Tensor(shape: transposeB ? [n, k] : [k, n], scalars: rng.normals(k * n))
                let product = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                XCTAssertEqual(product.shape, [m, n])
                assertApproximatelyEqual(
                    product.scalars, naiveProduct(a, b, transposeA: transposeA, transposeB: transposeB),
                    absolute: 1e-5, "transposeA \(transposeA), transposeB \(transposeB)")
            }
        }
    }

    func testMatmulKnownValuesAndEmptyDimensions() {
        let a = Tensor(rows: [[1, 2], [3, 4]])
        XCTAssertEqual(matmul(a, a).scalars, [7, 10, 15, 22])
        XCTAssertEqual(matmul(a, a, transposeA: true).scalars, [10, 14, 14, 20])
        XCTAssertEqual(matmul(Tensor(zeros: [3, 0]), Tensor(zeros: [0, 2])), Tensor(zeros: [3, 2]))
        XCTAssertEqual(matmul(Tensor(zeros: [0, 4]), Tensor(zeros: [4, 2])).shape, [0, 2])
    }

    func testMatvecBothOrientations() {
        var rng = RandomSource(seed: 12)
        let a = Tensor(shape: [4, 6], scalars: rng.normals(24))
        let x6 = Tensor(rng.normals(6))
        let x4 = Tensor(rng.normals(4))
        assertApproximatelyEqual(matvec(a, x6).scalars, matmul(a, x6.reshaped([6, 1])).scalars, absolute: 1e-5)
        assertApproximatelyEqual(
            matvec(a, x4, transposeA: true).scalars, matmul(a, x4.reshaped([4, 1]), transposeA: true).scalars, absolute: 1e-5)
        XCTAssertEqual(matvec(a, x4, transposeA: true).shape, [6])
    }
}
