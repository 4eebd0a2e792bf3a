import XCTest
@testable import ColonyNumerics

/// Carrying a layer stack's buffer into another width and depth (a population's architecture mutation).
final class LayerStackCarryTests: XCTestCase {
    /// A network whose every parameter holds a value that names it: layer · 10000 + row · 100 + column (bias: column 99).
    private func labelled(_ sizes: [Int]) -> MLP {
        var rng = RandomSource(seed: 1)
        let network = MLP(sizes: sizes, initialization: .torchLinearDefault, rng: &rng)
        for (index, layer) in network.layers.enumerated() {
            for row in 0..<layer.outputSize {
                for column in 0..<layer.inputSize {
                    network.parameters[layer.weightRange.lowerBound + row * layer.inputSize + column] = Float(index * 10_000 + row * 100 + column)
                }
                network.parameters[layer.biasRange.lowerBound + row] = Float(index * 10_000 + row * 100 + 99)
            }
        }
        return network
    }

    /// Every value of `target` is the source's value of the paired layer at the same row and column where both have
    /// one, and the target's own value elsewhere.
    private func check(from sourceSizes: [Int], to targetSizes: [Int], pairs: [Int: Int], line: UInt = #line) {
        let source = labelled(sourceSizes)
        var rng = RandomSource(seed: 2)
        let target = MLP(sizes: targetSizes, initialization: .torchLinearDefault, rng: &rng)
        var carried = target.parameters
        LayerStackCarry.carry(source.parameters, layers: source.layers, into: &carried, layers: target.layers)
        for (index, layer) in target.layers.enumerated() {
            let from = pairs[index].map { source.layers[$0] }
            for row in 0..<layer.outputSize {
                for column in 0...layer.inputSize {
                    let offset = column == layer.inputSize ? layer.biasRange.lowerBound + row : layer.weightRange.lowerBound + row * layer.inputSize + column
                    let inside = from.map { row < $0.outputSize && (column == layer.inputSize || column < $0.inputSize) } ?? false
                    let expected = inside ? Float(pairs[index]! * 10_000 + row * 100 + (column == layer.inputSize ? 99 : column)) : target.parameters[offset]
                    XCTAssertEqual(carried[offset], expected, "layer \(index) row \(row) column \(column)", line: line)
                }
            }
        }
    }

    func testOverlappingWeightsAndBiasesArePairedByLayerAndTheRestKeepsItsValue() {
        check(from: [3, 4, 2], to: [3, 6, 2], pairs: [0: 0, 1: 1])                  // a wider hidden layer
        check(from: [3, 6, 5, 2], to: [3, 4, 5, 2], pairs: [0: 0, 1: 1, 2: 2])      // a narrower one
        check(from: [3, 4, 2], to: [3, 4, 4, 2], pairs: [0: 0, 2: 1])               // a new last hidden layer: fresh
        check(from: [3, 4, 5, 2], to: [3, 4, 2], pairs: [0: 0, 1: 2])               // the last hidden layer removed
        check(from: [3, 4, 2], to: [3, 4, 2], pairs: [0: 0, 1: 1])                  // unchanged: a copy
    }

    func testAnUnchangedArchitectureCarriesEveryValue() {
        let source = labelled([5, 7, 3])
        var rng = RandomSource(seed: 9)
        var target = MLP(sizes: [5, 7, 3], initialization: .torchLinearDefault, rng: &rng).parameters
        LayerStackCarry.carry(source.parameters, layers: source.layers, into: &target, layers: source.layers)
        XCTAssertEqual(target, source.parameters)
    }
}
