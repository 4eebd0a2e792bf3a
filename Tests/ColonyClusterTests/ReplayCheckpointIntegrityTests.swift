import ColonyCluster
import ColonyStorage
import Foundation
import XCTest

/// A replay checkpoint (colony-replay's replay.h5) that holds what no valid insert writes: items with
/// NaN or infinite payloads are left out and counted (a restart must not crash on them again and
/// again); impossible counts are one error naming the file.
final class ReplayCheckpointIntegrityTests: XCTestCase {
    private var path: String!

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "colony-replay-integrity-\(UUID().uuidString).h5"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: path)
    }

    private func checkpointOfFourItems() throws -> ReplayTableConfiguration {
        let configuration = ReplayTableConfiguration(capacity: 8, itemSize: 3, selector: .prioritized(alpha: 0.6))
        let table = try ReplayTable(configuration)
        _ = try table.insert(payloads: (0..<12).map(Float.init), priorities: [1, 2, 3, 4])
        try table.checkpoint(to: path)
        return configuration
    }

    func testItemsWithNonFinitePayloadsAreLeftOutAndCounted() throws {
        let configuration = try checkpointOfFourItems()
        let file = try HDF5File.open(path, mode: .readWrite)
        var payloads = try file.read(Float.self, at: "payloads").values
        payloads[4] = .nan  // item 2
        payloads[9] = .infinity  // item 4
        try file.write(payloads, shape: [4, 3], at: "payloads")
        file.close()

        let table = try ReplayTable(configuration)
        XCTAssertEqual(try table.restore(from: path), 2)
        XCTAssertEqual(table.size, 2)
        let snapshot = try ReplayTableSnapshot.read(from: path)
        XCTAssertEqual(snapshot.keys, [1, 3])
        XCTAssertEqual(snapshot.payloads, [0, 1, 2, 6, 7, 8])
        XCTAssertEqual(snapshot.priorities, [1, 3])
    }

    func testImpossibleCountsNameTheFile() throws {
        _ = try checkpointOfFourItems()
        for (object, value) in [("count", Int64.max), ("count", -1), ("limiter/inserts", -5), ("stats/samples", Int64.max)] {
            let file = try HDF5File.open(path, mode: .readWrite)
            let original = try file.readScalar(Int64.self, at: object)
            try file.writeScalar(value, at: object)
            file.close()
            XCTAssertThrowsError(try ReplayTableSnapshot.read(from: path)) { error in
                XCTAssertTrue("\(error)".contains(path) && "\(error)".contains(object) && "\(error)".contains("\(value)"), "\(error)")
            }
            let restore = try HDF5File.open(path, mode: .readWrite)
            try restore.writeScalar(original, at: object)
            restore.close()
        }
        XCTAssertEqual(try ReplayTableSnapshot.read(from: path).keys, [1, 2, 3, 4])
    }
}
