import ColonyNumerics
import XCTest

final class InitializationTests: XCTestCase {
    /// M·Mᵀ of a rows×columns row-major matrix, in Double.
    private func gram(_ m: [Float], rows: Int, columns: Int) -> [[Double]] {
        (0..<rows).map { i in
            (0..<rows).map { j in (0..<columns).reduce(0.0) { $0 + Double(m[i * columns + $1]) * Double(m[j * columns + $1]) } }
        }
    }

    private func transpose(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        (0..<(rows * columns)).map { index in m[(index % rows) * columns + index / rows] }
    }

    private func assertScaledIdentity(_ g: [[Double]], _ scale: Double, file: StaticString = #filePath, line: UInt = #line) {
        for i in g.indices {
            for j in g.indices {
                XCTAssertEqual(g[i][j], i == j ? scale : 0, accuracy: 1e-5 * max(1, scale), "(\(i), \(j))", file: file, line: line)
            }
        }
    }

    func testOrthogonalSquareWideAndTall() {
        for (rows, columns, gain) in [(6, 6, 1.0), (3, 8, 2.0), (9, 4, 0.5), (1, 5, 1.0), (5, 1, 1.0), (64, 64, 1.414)] as [(Int, Int, Float)] {
            var rng = RandomSource(seed: UInt64(rows * 100 + columns))
            let w = LayerInitialization.orthogonalMatrix(rows: rows, columns: columns, gain: gain, rng: &rng)
            XCTAssertEqual(w.count, rows * columns)
            let scale = Double(gain) * Double(gain)
            if rows <= columns {
                assertScaledIdentity(gram(w, rows: rows, columns: columns), scale)  // W·Wᵀ = g²·I
            } else {
                assertScaledIdentity(gram(transpose(w, rows: rows, columns: columns), rows: columns, columns: rows), scale)  // Wᵀ·W
            }
        }
    }

    /// A stacked output layer holds exactly the layers it stands for, drawn in their order from the same stream:
    /// CleanRL's actor (orthogonal 0.01) and critic (orthogonal 1) heads as one layer of 2 + 1 rows.
    func testStackedInitializationEqualsTheLayersItStacks() {
        var rng = RandomSource(seed: 21), replay = RandomSource(seed: 21)
        let stacked = MLP(sizes: [8, 3], initialization: .orthogonal(gain: 1),
                          outputInitialization: .stacked([(2, .orthogonal(gain: 0.01)), (1, .orthogonal(gain: 1, bias: 0.5))]), rng: &rng)
        let actor = MLP(sizes: [8, 2], initialization: .orthogonal(gain: 0.01), rng: &replay)
        let critic = MLP(sizes: [8, 1], initialization: .orthogonal(gain: 1, bias: 0.5), rng: &replay)
        // Each MLP's one layer is its weight (outputs × inputs, row-major) then its bias.
        let expected = Array(actor.parameters[0..<16]) + Array(critic.parameters[0..<8]) + Array(actor.parameters[16...]) + Array(critic.parameters[8...])
        XCTAssertEqual(stacked.parameters, expected)
        assertScaledIdentity(gram(Array(stacked.parameters[0..<16]), rows: 2, columns: 8), 1e-4)
        XCTAssertEqual(Array(stacked.parameters[24...]), [0, 0, 0.5])
    }

    /// torch.nn.init.orthogonal_ fixes signs so R of the Gaussian's QR has a positive diagonal;
    /// then Qᵀ·A = R is upper triangular with a positive diagonal. Replaying the seed recovers A.
    func testOrthogonalSignConventionMatchesTorch() {
        for (rows, columns) in [(7, 4), (4, 7)] {
            var rng = RandomSource(seed: 5), replay = RandomSource(seed: 5)
            let w = LayerInitialization.orthogonalMatrix(rows: rows, columns: columns, gain: 3, rng: &rng)
            let a = (0..<(rows * columns)).map { _ in replay.normalDouble() }
            // Tall: Q = W (rows×columns), R = Wᵀ·A. Wide: Q = Wᵀ, R = W·Aᵀ. Both columns×columns or rows×rows.
            let k = min(rows, columns)
            for i in 0..<k {
                for j in 0..<k {
                    let r: Double
                    if rows > columns {
                        r = (0..<rows).reduce(0.0) { $0 + Double(w[$1 * columns + i]) * a[$1 * columns + j] }
                    } else {
                        r = (0..<columns).reduce(0.0) { $0 + Double(w[i * columns + $1]) * a[j * columns + $1] }
                    }
                    if i > j { XCTAssertEqual(r, 0, accuracy: 1e-5, "R[\(i), \(j)] of \(rows)×\(columns)") }
                    if i == j { XCTAssertGreaterThan(r, 0, "R[\(i), \(i)] of \(rows)×\(columns)") }
                }
            }
        }
    }

    func testXavierUniformBoundsAndSpread() {
        var rng = RandomSource(seed: 3)
        let net = MLP(sizes: [30, 50, 20], initialization: .xavierUniform(gain: 2, bias: 0.1), rng: &rng)
        for layer in net.layers {
            let bound = 2 * (6 / Float(layer.inputSize + layer.outputSize)).squareRoot()
            let weights = net.parameters[layer.weightRange]
            XCTAssertTrue(weights.allSatisfy { abs($0) <= bound })
            XCTAssertGreaterThan(weights.max()!, 0.9 * bound, "fills the range")
            XCTAssertLessThan(weights.min()!, -0.9 * bound)
            XCTAssertTrue(net.parameters[layer.biasRange].allSatisfy { $0 == 0.1 })
        }
    }

    func testTorchLinearDefaultBoundsWeightsAndBiases() {
        var rng = RandomSource(seed: 4)
        let net = MLP(sizes: [16, 100, 4], initialization: .torchLinearDefault, rng: &rng)
        for layer in net.layers {
            let bound = 1 / Float(layer.inputSize).squareRoot()
            let weights = net.parameters[layer.weightRange], biases = net.parameters[layer.biasRange]
            XCTAssertTrue(weights.allSatisfy { abs($0) <= bound })
            XCTAssertGreaterThan(weights.max()!, 0.9 * bound, "fills the range")
            XCTAssertLessThan(weights.min()!, -0.9 * bound)
            XCTAssertTrue(biases.allSatisfy { abs($0) <= bound })
            XCTAssertEqual(Set(biases).count, biases.count, "biases are drawn, not constant")
        }
    }

    func testOrthogonalNetworkLayersAndConstantBias() {
        var rng = RandomSource(seed: 6)
        let net = MLP(sizes: [4, 8, 3], initialization: .orthogonal(gain: 1.5, bias: 0.25), rng: &rng)
        for layer in net.layers {
            let w = Array(net.parameters[layer.weightRange])
            let (rows, columns) = (layer.outputSize, layer.inputSize)
            if rows <= columns {
                assertScaledIdentity(gram(w, rows: rows, columns: columns), 2.25)
            } else {
                assertScaledIdentity(gram(transpose(w, rows: rows, columns: columns), rows: columns, columns: rows), 2.25)
            }
            XCTAssertTrue(net.parameters[layer.biasRange].allSatisfy { $0 == 0.25 })
        }
    }
}
