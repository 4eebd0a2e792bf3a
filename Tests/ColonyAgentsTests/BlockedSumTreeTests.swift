import ColonyAgents
import ColonyNumerics
import Foundation
import XCTest

final class BlockedSumTreeTests: XCTestCase {
    /// Slot whose cumulative weight interval contains `mass`, by a linear scan.
    private func naiveFind(_ weights: [Double], _ mass: Double) -> Int {
        var cumulative = 0.0
        for (slot, weight) in weights.enumerated() where weight > 0 {
            cumulative += weight
            if mass < cumulative { return slot }
        }
        return weights.lastIndex { $0 > 0 }!
    }

    func testEmptyTree() {
        let tree = BlockedSumTree(capacity: 5, alpha: 0.6)
        XCTAssertEqual(tree.total, 0)
        XCTAssertEqual(tree.occupied, 0)
        XCTAssertEqual(tree.minimumPositive, .infinity)
        XCTAssertFalse(tree.isOccupied(0))
    }

    func testSumsMinimaCountsAndFindMatchNaiveReference() {
        var rng = RandomSource(seed: 21)
        // Blocks of 16 (the replay server's), of 1 (single-process replay) and a size in between.
        for (capacity, alpha, blockSize) in [(1, 0.6, 16), (31, 1.0, 16), (1000, 0.6, 16), (4097, 0.0, 16), (1, 0.6, 1), (1000, 0.6, 1), (517, 1.0, 4)] {
            let tree = BlockedSumTree(capacity: capacity, alpha: alpha, blockSize: blockSize)
            var leaves = [Float](repeating: -1, count: capacity)
            for step in 0..<(3 * capacity + 50) {
                let slot = rng.nextInt(below: capacity)
                // Empty, zero and positive priorities, some far apart in size.
                let choice = rng.nextInt(below: 6)
                let value: Float = choice == 0 ? -1 : choice == 1 ? 0 : rng.nextFloat() * (choice == 5 ? 1000 : 1)
                if step % 7 == 0, slot + 3 <= capacity {
                    let run: [Float] = [value, 0.5, 2]
                    run.withUnsafeBufferPointer { tree.update(from: slot, priorities: $0) }
                    leaves.replaceSubrange(slot..<slot + 3, with: run)
                } else {
                    tree.update(slot, priority: value)
                    leaves[slot] = value
                }
            }
            let weights = leaves.map { $0 > 0 ? pow(Double($0), alpha) : 0 }
            let total = weights.reduce(0, +)
            XCTAssertEqual(tree.total, total, accuracy: 1e-6 * max(1, total), "capacity \(capacity), blocks of \(blockSize)")
            XCTAssertEqual(tree.occupied, leaves.filter { $0 >= 0 }.count)
            XCTAssertEqual(tree.minimumPositive, leaves.filter { $0 > 0 }.min() ?? .infinity)
            for slot in 0..<capacity { XCTAssertEqual(tree[slot], leaves[slot]) }
            if total > 0 {
                // Masses at the middle of each positive slot's interval: no rounding ties.
                var cumulative = 0.0
                for (slot, weight) in weights.enumerated() where weight > 0 {
                    XCTAssertEqual(tree.find(cumulative + weight / 2), slot, "capacity \(capacity), blocks of \(blockSize), slot \(slot)")
                    cumulative += weight
                }
                for _ in 0..<200 {
                    let found = tree.find(rng.nextDouble() * tree.total)
                    XCTAssertGreaterThan(weights[found], 0, "never an empty or zero-priority slot")
                }
                XCTAssertEqual(tree.find(tree.total), naiveFind(weights, total), "the very end falls back to the last positive slot")
            }
            let occupiedSlots = leaves.indices.filter { leaves[$0] >= 0 }
            for (rank, slot) in occupiedSlots.enumerated() { XCTAssertEqual(tree.findOccupied(rank), slot) }
        }
    }

    func testRebuildEqualsUpdates() {
        var rng = RandomSource(seed: 4)
        let leaves = (0..<300).map { _ in rng.nextInt(below: 4) == 0 ? Float(-1) : rng.nextFloat() }
        let updated = BlockedSumTree(capacity: 300, alpha: 0.7)
        for (slot, leaf) in leaves.enumerated() { updated.update(slot, priority: leaf) }
        let rebuilt = BlockedSumTree(capacity: 300, alpha: 0.7)
        rebuilt.update(7, priority: 3)
        rebuilt.rebuild { target in for (slot, leaf) in leaves.enumerated() { target[slot] = leaf } }
        XCTAssertEqual(rebuilt.total, updated.total)
        XCTAssertEqual(rebuilt.occupied, updated.occupied)
        XCTAssertEqual(rebuilt.minimumPositive, updated.minimumPositive)
        for mass in stride(from: 0.0, to: updated.total, by: updated.total / 97) { XCTAssertEqual(rebuilt.find(mass), updated.find(mass)) }
    }
}

/// The binary sum tree's tests, kept for the structure that replaced it (alpha 1: weights are the priorities).
final class SumTreeSemanticsTests: XCTestCase {
    func testRootIsTheSumAndFindFollowsCumulativeMass() {
        let tree = BlockedSumTree(capacity: 5, alpha: 1)
        XCTAssertEqual(tree.total, 0)
        let priorities: [Float] = [1, 0, 3, 0.5, 2]
        for (i, p) in priorities.enumerated() { tree.update(i, priority: p) }
        XCTAssertEqual(tree.total, 6.5, accuracy: 1e-12)
        XCTAssertEqual(tree.find(0), 0)
        XCTAssertEqual(tree.find(0.999), 0)
        XCTAssertEqual(tree.find(1.0), 2, "a zero-priority leaf is never found")
        XCTAssertEqual(tree.find(3.999), 2)
        XCTAssertEqual(tree.find(4.0), 3)
        XCTAssertEqual(tree.find(4.5), 4)
        XCTAssertEqual(tree.find(6.49), 4)
        tree.update(2, priority: 0)
        XCTAssertEqual(tree.total, 3.5, accuracy: 1e-12)
        XCTAssertEqual(tree.find(1.2), 3)
    }

    func testSamplingFrequenciesAreProportional() {
        let tree = BlockedSumTree(capacity: 1000, alpha: 1)
        var rng = RandomSource(seed: 3)
        var priorities: [Double] = []
        for i in 0..<1000 {
            let p = Double(rng.nextInt(below: 10))
            priorities.append(p)
            tree.update(i, priority: Float(p))
        }
        var counts = [Int](repeating: 0, count: 1000)
        let draws = 200_000
        for _ in 0..<draws { counts[tree.find(rng.nextDouble() * tree.total)] += 1 }
        let total = priorities.reduce(0, +)
        for i in 0..<1000 {
            let expected = Double(draws) * priorities[i] / total
            if priorities[i] == 0 { XCTAssertEqual(counts[i], 0) }
            else { XCTAssertEqual(Double(counts[i]), expected, accuracy: 5 * expected.squareRoot() + 3) }
        }
    }
}
