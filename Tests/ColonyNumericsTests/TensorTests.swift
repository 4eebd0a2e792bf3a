import ColonyNumerics
import Foundation
import XCTest

final class TensorTests: XCTestCase {
    let matrix = Tensor(rows: [[1, 2, 3], [4, 5, 6]])

    func testConstructionAndShape() {
        XCTAssertEqual(matrix.shape, [2, 3])
        XCTAssertEqual(matrix.rank, 2)
        XCTAssertEqual(matrix.count, 6)
        XCTAssertEqual(matrix.scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Tensor(zeros: [2, 2]).scalars, [0, 0, 0, 0])
        XCTAssertEqual(Tensor(shape: [3], repeating: 7).scalars, [7, 7, 7])
        XCTAssertEqual(Tensor([1, 2]).shape, [2])
        XCTAssertEqual(Tensor(rows: []).shape, [0, 0])
        XCTAssertEqual(Tensor(zeros: [0, 4]).count, 0)
    }

    func testSubscriptsAndBulkWrites() {
        var m = matrix
        XCTAssertEqual(m[1, 2], 6)
        m[0, 1] = -2
        XCTAssertEqual(m.scalars, [1, -2, 3, 4, 5, 6])
        XCTAssertEqual(matrix[0, 1], 2, "value semantics: the original is unchanged")
        var v = Tensor([1, 2, 3])
        v[2] = 9
        XCTAssertEqual(v[2], 9)
        m.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices { buffer[index] = Float(index) }
        }
        XCTAssertEqual(m.scalars, [0, 1, 2, 3, 4, 5])
    }

    func testReshapeInfersOneExtent() {
        XCTAssertEqual(matrix.reshaped([3, 2]).shape, [3, 2])
        XCTAssertEqual(matrix.reshaped([-1]).shape, [6])
        XCTAssertEqual(matrix.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(matrix.reshaped([3, -1]).scalars, matrix.scalars)
    }

    func testRowAndColumnSlicing() {
        let batch = Tensor(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31])
        XCTAssertEqual(batch.rows(1..<3), Tensor(rows: [[10, 11], [20, 21]]))
        XCTAssertEqual(batch.rows(at: [3, 0, 3]), Tensor(rows: [[30, 31], [0, 1], [30, 31]]))
        XCTAssertEqual(batch.columns(1..<2), Tensor(rows: [[1], [11], [21], [31]]))
        let cube = Tensor(shape: [3, 2, 2], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(cube.rows(at: [2]).shape, [1, 2, 2])
        XCTAssertEqual(cube.rows(at: [2]).scalars, [8, 9, 10, 11])
        XCTAssertEqual(cube.rows(0..<0).shape, [0, 2, 2])
    }

    func testConcatenationAndTranspose() {
        let observation = Tensor(rows: [[1, 2], [3, 4]])
        let action = Tensor(rows: [[9], [8]])
        let joined = Tensor.concatenatingColumns([observation, action])
        XCTAssertEqual(joined, Tensor(rows: [[1, 2, 9], [3, 4, 8]]))
        XCTAssertEqual(joined.columns(0..<2), observation)
        XCTAssertEqual(joined.columns(2..<3), action)
        XCTAssertEqual(Tensor.concatenatingRows([observation, Tensor(rows: [[5, 6]])]), Tensor(rows: [[1, 2], [3, 4], [5, 6]]))
        XCTAssertEqual(matrix.transposed(), Tensor(rows: [[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(matrix.transposed().transposed(), matrix)
    }

    func testGatherAndScatterAreAdjoint() {
        let q = Tensor(rows: [[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(q.gathering(columnPerRow: [2, 0]), Tensor([3, 4]))
        let scattered = Tensor.scattering(Tensor([7, 8]), columnPerRow: [2, 0], columnCount: 3)
        XCTAssertEqual(scattered, Tensor(rows: [[0, 0, 7], [8, 0, 0]]))
        // ⟨gather(Q), v⟩ = ⟨Q, scatter(v)⟩
        XCTAssertEqual((q.gathering(columnPerRow: [2, 0]) * Tensor([7, 8])).sum(), (q * scattered).sum())
    }

    func testElementwiseOperators() {
        let a = Tensor(rows: [[1, 2], [3, 4]])
        let b = Tensor(rows: [[2, 4], [8, 16]])
        XCTAssertEqual((a + b).scalars, [3, 6, 11, 20])
        XCTAssertEqual((a - b).scalars, [-1, -2, -5, -12])
        XCTAssertEqual((a * b).scalars, [2, 8, 24, 64])
        XCTAssertEqual((b / a).scalars, [2, 2, 8 / 3, 4])
        XCTAssertEqual((a + 1).scalars, [2, 3, 4, 5])
        XCTAssertEqual((a - 1).scalars, [0, 1, 2, 3])
        XCTAssertEqual((a * 2).scalars, [2, 4, 6, 8])
        XCTAssertEqual((a / 2).scalars, [0.5, 1, 1.5, 2])
        XCTAssertEqual((1 + a).scalars, [2, 3, 4, 5])
        XCTAssertEqual((10 - a).scalars, [9, 8, 7, 6])
        XCTAssertEqual((2 * a).scalars, [2, 4, 6, 8])
        XCTAssertEqual((12 / a).scalars, [12, 6, 4, 3])
        XCTAssertEqual((-a).scalars, [-1, -2, -3, -4])
        var c = a
        c += b
        c -= a
        XCTAssertEqual(c, b)
        c *= 0.5
        c /= b
        XCTAssertEqual(c.scalars, [0.5, 0.5, 0.5, 0.5])
        XCTAssertEqual(a.map { $0 * $0 }, a.squared())
        XCTAssertEqual(a.zipMap(b) { Swift.max($0, $1 - 5) }.scalars, [1, 2, 3, 11])
    }

    func testRowVectorBroadcast() {
        let row = Tensor([10, 20, 30])
        XCTAssertEqual(matrix.addingRowVector(row), Tensor(rows: [[11, 22, 33], [14, 25, 36]]))
        XCTAssertEqual(matrix.multiplyingRowVector(row), Tensor(rows: [[10, 40, 90], [40, 100, 180]]))
    }

    func testElementaryFunctions() {
        let x = Tensor([-2, -0.5, 0, 0.5, 2])
        XCTAssertEqual(x.relu().scalars, [0, 0, 0, 0.5, 2])
        assertApproximatelyEqual(x.exp().scalars, x.scalars.map { Foundation.exp($0) })
        assertApproximatelyEqual(x.exp().log().scalars, x.scalars, absolute: 1e-6)
        XCTAssertEqual(Tensor([4, 9]).squareRoot().scalars, [2, 3])
        XCTAssertEqual(x.clamped(min: -1, max: 1).scalars, [-1, -0.5, 0, 0.5, 1])
        XCTAssertTrue(Tensor([.nan]).relu().scalars[0].isNaN, "relu keeps NaN visible")
    }

    /// The network's tanh is a rational approximation; bound it against Double tanh everywhere,
    /// including both clamp regions, and check the properties a policy relies on.
    func testTanhApproximationAccuracy() {
        let inputs = (0..<40_001).map { Float($0) * 0.0005 - 10 } + [-100, 100, -Float.infinity, .infinity, 1e-30, -1e-30]
        let result = Tensor(inputs).tanh().scalars
        var worst: Double = 0
        for (x, y) in zip(inputs, result) {
            worst = Swift.max(worst, abs(Double(y) - Foundation.tanh(Double(x))))
            XCTAssertLessThanOrEqual(abs(y), 1)
        }
        XCTAssertLessThan(worst, 1e-6)
        XCTAssertEqual(Tensor(inputs.map { -$0 }).tanh().scalars, result.map { -$0 }, "odd symmetry is exact")
        XCTAssertEqual(Tensor([0]).tanh().scalars, [0])
        XCTAssertTrue(Tensor([.nan, 1, 2]).tanh().scalars[0].isNaN, "tanh keeps NaN visible")
        // A value's result must not depend on its position (vector body versus scalar tail).
        let single = inputs.prefix(19).map { Tensor([$0]).tanh().scalars[0] }
        XCTAssertEqual(Array(result.prefix(19)), single)
    }

    func testReductions() {
        let m = Tensor(rows: [[1, 5, 3], [4, 2, 6]])
        XCTAssertEqual(m.sum(), 21)
        XCTAssertEqual(m.mean(), 3.5)
        XCTAssertEqual(m.max(), 6)
        XCTAssertEqual(m.min(), 1)
        XCTAssertEqual(m.squaredNorm(), 91)
        XCTAssertEqual(m.sum(alongAxis: 0), Tensor([5, 7, 9]))
        XCTAssertEqual(m.sum(alongAxis: 1), Tensor([9, 12]))
        XCTAssertEqual(m.mean(alongAxis: 0), Tensor([2.5, 3.5, 4.5]))
        XCTAssertEqual(m.mean(alongAxis: 1), Tensor([3, 4]))
        XCTAssertEqual(m.max(alongAxis: 0), Tensor([4, 5, 6]))
        XCTAssertEqual(m.max(alongAxis: 1), Tensor([5, 6]))
        XCTAssertEqual(m.argmaxPerRow(), [1, 2])
        XCTAssertEqual(Tensor(rows: [[3, 7, 7], [-1, -1, -2]]).argmaxPerRow(), [1, 0], "ties pick the first")
        XCTAssertTrue(Tensor(zeros: [0]).mean().isNaN)
    }

    func testSumAccumulatesInDouble() {
        // In a Float running sum each 1e-7 would round to one ulp of 1 (1.19e-7): 1.0119, not 1.01.
        let values = [Float(1)] + Array(repeating: 1e-7, count: 100_000)
        assertApproximatelyEqual(Tensor(values).sum(), 1.01, absolute: 0, relative: 1e-6)
    }
}
