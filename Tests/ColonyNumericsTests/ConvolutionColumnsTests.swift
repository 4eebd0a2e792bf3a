import XCTest
@testable import ColonyNumerics

/// The staged im2col and col2im against the convolution's definition for strides, paddings and sizes that do and do
/// not divide evenly (runs shorter and longer than a vector), and the threaded paths against one thread.
final class ConvolutionColumnsTests: XCTestCase {
    /// (channels in, out, kernel, stride, padding, height, width): the Nature CNN's first layer on a small image, the
    /// IMPALA CNN's padded 3 × 3, and uneven cases.
    private let geometries: [(Int, Int, Int, Int, Int, Int, Int)] = [
        (2, 3, 8, 4, 0, 20, 19), (3, 2, 3, 1, 1, 11, 10), (2, 2, 3, 2, 1, 9, 8), (1, 2, 4, 3, 2, 13, 17),
        (2, 3, 1, 1, 0, 5, 4), (2, 2, 5, 2, 2, 6, 7), (3, 2, 4, 2, 0, 20, 20), (1, 1, 3, 1, 0, 30, 31),
    ]

    private func convolution(_ g: (Int, Int, Int, Int, Int, Int, Int)) -> Convolution2D {
        Convolution2D(inputChannels: g.0, outputChannels: g.1, kernel: g.2, stride: g.3, padding: g.4, inputHeight: g.5, inputWidth: g.6, offset: 0)
    }

    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        return (0..<count).map { _ in rng.uniform(-1, 1) }
    }

    func testBatchForwardEqualsTheDefinitionForEveryGeometry() {
        for (index, geometry) in geometries.enumerated() {
            let c = convolution(geometry), batch = 5
            let parameters = values(c.biasRange.upperBound, seed: UInt64(index))
            let images = values(batch * c.inputSize, seed: UInt64(100 + index))
            var output = [Float](repeating: 0, count: batch * c.outputSize)
            images.withUnsafeBufferPointer { x in
                parameters.withUnsafeBufferPointer { p in
                    output.withUnsafeMutableBufferPointer { y in
                        c.forward(batch: batch, columns: { image, target, pitch in c.im2col(x.baseAddress! + image * c.inputSize, into: target, pitch: pitch) { $0 } },
                                  output: y.baseAddress!, parameters: p.baseAddress!, rectifies: false, workspace: ConvolutionWorkspace())
                    }
                }
            }
            for image in 0..<batch {
                let expected = ImageNetworkTesting.convolve(c, images[(image * c.inputSize)..<((image + 1) * c.inputSize)].map(Double.init),
                                                            parameters.map(Double.init))
                for (position, value) in expected.enumerated() {
                    XCTAssertEqual(Double(output[image * c.outputSize + position]), value, accuracy: 1e-4, "geometry \(geometry) image \(image) output \(position)")
                }
            }
        }
    }

    func testBytesAreStagedAsPixelsOver255() {
        let c = convolution((2, 3, 8, 4, 0, 20, 19))
        var rng = RandomSource(seed: 3)
        let bytes = (0..<c.inputSize).map { _ in UInt8(rng.nextInt(below: 256)) }
        let floats = bytes.map { Float($0) / 255 }
        var fromBytes = [Float](repeating: .nan, count: c.patchSize * c.outputPositions), fromFloats = fromBytes
        bytes.withUnsafeBufferPointer { b in fromBytes.withUnsafeMutableBufferPointer { c.im2col(b.baseAddress!, into: $0.baseAddress!) { Float($0) * (1 / 255) } } }
        floats.withUnsafeBufferPointer { f in fromFloats.withUnsafeMutableBufferPointer { c.im2col(f.baseAddress!, into: $0.baseAddress!) { $0 } } }
        for index in fromBytes.indices { XCTAssertEqual(fromBytes[index], fromFloats[index], accuracy: 1e-7) }
    }

    /// ⟨im2col(x), g⟩ = ⟨x, col2im(g)⟩ for every geometry, with two images' columns side by side (pitch 2·OH·OW).
    func testCol2imIsTheAdjointOfIm2col() {
        for (index, geometry) in geometries.enumerated() {
            let c = convolution(geometry), pitch = 2 * c.outputPositions
            let x = values(c.inputSize, seed: UInt64(200 + index)), g = values(c.patchSize * pitch, seed: UInt64(300 + index))
            var columns = [Float](repeating: 0, count: c.patchSize * pitch)
            var back = [Float](repeating: 0, count: c.inputSize)
            x.withUnsafeBufferPointer { x in columns.withUnsafeMutableBufferPointer { c.im2col(x.baseAddress!, into: $0.baseAddress! + c.outputPositions, pitch: pitch) { $0 } } }
            g.withUnsafeBufferPointer { g in back.withUnsafeMutableBufferPointer { c.col2im(g.baseAddress! + c.outputPositions, into: $0.baseAddress!, pitch: pitch) } }
            var left = 0.0, right = 0.0
            for row in 0..<c.patchSize {
                for position in 0..<c.outputPositions {
                    let slot = row * pitch + c.outputPositions + position
                    left += Double(columns[slot]) * Double(g[slot])
                }
                XCTAssertEqual(columns[(row * pitch)..<(row * pitch + c.outputPositions)].filter { $0 != 0 }, [], "the other image's columns stay untouched")
            }
            for index in x.indices { right += Double(x[index]) * Double(back[index]) }
            XCTAssertEqual(left, right, accuracy: 1e-3, "geometry \(geometry)")
        }
    }

    func testSharesCoverEveryIndexOnce() {
        for threads in 1...4 {
            for count in 0..<12 {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { hits in
                    let base = hits.baseAddress
                    ThreadShares.forEach(count, threads: threads) { index in base![index] += 1 }
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "\(count) indices on \(threads) threads")
            }
        }
    }

    /// Products cut into column blocks (wide C) and row blocks (tall C), transposed or not, equal one product.
    func testProductsOnTwoThreadsEqualOneProduct() {
        for (m, n, k) in [(16, 400, 300), (400, 24, 300)] {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = values(m * k, seed: 7), b = values(k * n, seed: 8), start = values(m * n, seed: 9)
                func product(threads: Int) -> [Float] {
                    var c = start
                    BLAS.withThreads(threads) {
                        a.withUnsafeBufferPointer { a in
                            b.withUnsafeBufferPointer { b in
                                c.withUnsafeMutableBufferPointer { c in
                                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.baseAddress!, lda: transposeA ? m : k,
                                              b: b.baseAddress!, ldb: transposeB ? k : n, beta: 1, c: c.baseAddress!, ldc: n)
                                }
                            }
                        }
                    }
                    return c
                }
                let (one, two) = (product(threads: 1), product(threads: 2))
                XCTAssertEqual(one.count, two.count)
                for index in one.indices { XCTAssertEqual(one[index], two[index], accuracy: 1e-3, "\(m)×\(n)×\(k) \(transposeA) \(transposeB) at \(index)") }
            }
        }
    }

    /// One-row products with a large matrix (sent to sgemv) and small ones (sgemm) equal the definition for every
    /// transpose, with leading dimensions wider than the matrices, α ≠ 1, β = 1 adding to C, and β = 0 overwriting a
    /// NaN left in C.
    func testOneRowProductsEqualTheDefinition() {
        for (m, n, k) in [(1, 300, 230), (1, 37, 29), (41, 1, 23)] {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                // Stored shapes with 3 spare columns each: A is m×k (k×m transposed), B is k×n (n×k transposed), C is m×n.
                let (aRows, aColumns) = transposeA ? (k, m) : (m, k), (bRows, bColumns) = transposeB ? (n, k) : (k, n)
                let (lda, ldb, ldc) = (aColumns + 3, bColumns + 3, n + 3)
                let a = values(aRows * lda, seed: 21), b = values(bRows * ldb, seed: 22)
                func element(_ i: Int, _ j: Int) -> Float {
                    (0..<k).reduce(Float(0)) { sum, p in
                        sum + (transposeA ? a[p * lda + i] : a[i * lda + p]) * (transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    }
                }
                for beta: Float in [0, 1] {
                    var c = beta == 0 ? [Float](repeating: .nan, count: m * ldc) : values(m * ldc, seed: 23)
                    let start = c
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            c.withUnsafeMutableBufferPointer { c in
                                BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a.baseAddress!, lda: lda,
                                          b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                            }
                        }
                    }
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let index = i * ldc + j, label = "\(m)×\(n)×\(k) \(transposeA) \(transposeB) β=\(beta) at (\(i), \(j))"
                            guard j < n else {
                                XCTAssertEqual(c[index].bitPattern, start[index].bitPattern, "outside C: " + label)
                                continue
                            }
                            XCTAssertEqual(c[index], 0.5 * element(i, j) + (beta == 0 ? 0 : start[index]), accuracy: 1e-4, label)
                        }
                    }
                }
            }
        }
    }

    /// Both CNNs' outputs, parameter gradients and input gradients on two threads equal those on one.
    func testNetworksOnTwoThreadsEqualOneThread() {
        var rng = RandomSource(seed: 11)
        let nature = ConvolutionalNetwork(inputShape: [2, 20, 19], layers: [.init(channels: 4, kernel: 8, stride: 4), .init(channels: 3, kernel: 3)],
                                          hiddenSizes: [6], outputs: 3, initialization: .torchLinearDefault, rng: &rng)
        let residual = ResidualNetwork(inputShape: [2, 9, 8], sections: [.init(channels: 3, blocks: 1), .init(channels: 2, blocks: 2)], hiddenSizes: [5],
                                       outputs: 3, initialization: .torchLinearDefault, rng: &rng)
        for network in [nature as any Network, residual] {
            let batch = 7
            let input = Tensor(shape: [batch, network.inputSize], scalars: values(batch * network.inputSize, seed: 12))
            let gradient = Tensor(shape: [batch, 3], scalars: values(batch * 3, seed: 13))
            func pass(threads: Int) -> (output: [Float], parameters: [Float], input: [Float]) {
                BLAS.withThreads(threads) {
                    network.zeroGradients()
                    let output = network.forward(input)
                    let inputGradient = network.backward(gradient)
                    return (output.scalars, network.gradients, inputGradient.scalars)
                }
            }
            let (one, two) = (pass(threads: 1), pass(threads: 2))
            for (name, a, b) in [("output", one.output, two.output), ("parameter gradient", one.parameters, two.parameters), ("input gradient", one.input, two.input)] {
                XCTAssertEqual(a.count, b.count)
                for index in a.indices { XCTAssertEqual(a[index], b[index], accuracy: 1e-5, "\(type(of: network)) \(name) \(index)") }
            }
        }
    }
}
