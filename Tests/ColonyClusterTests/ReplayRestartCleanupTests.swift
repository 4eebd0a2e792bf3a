import ColonyCluster
@testable import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// The real `colony-replay` restarting over what a killed run and a forged insert left: the killed
/// checkpoint write's temporary file is removed, items whose payload is NaN are left out and logged,
/// and the server serves the rest.
final class ReplayRestartCleanupTests: ExecutableTestCase {
    private func waitFor(_ log: String, _ text: String, timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ((try? String(contentsOfFile: directory + "/" + log, encoding: .utf8)) ?? "").contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    private func discoverReplay(_ coordinator: String, timeout: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let endpoint = (try? CoordinatorRequest.discover(coordinator: coordinator, timeout: .seconds(1)))??.replay?.endpoints["replay"] { return endpoint }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    func testARestartRemovesTheKilledWritersTemporaryAndLeavesOutNaNItems() throws {
        let coordinator = try freeEndpoint()
        try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log")
        let checkpoint = directory + "/replay.h5"
        let config = directory + "/replay.toml"
        try AtomicFile.write("""
        [replay]
        capacity = 100
        item_size = 3
        selector = "prioritized"
        alpha = 1.0
        checkpoint_every_seconds = 1
        checkpoint_path = "\(checkpoint)"
        """, to: config)
        let first = try start("colony-replay", ["--coordinator", coordinator, "--config", config], log: directory + "/replay-1.log")
        let endpoint = try XCTUnwrap(discoverReplay(coordinator), "the replay server registers" + logTail("replay-1.log"))
        let client = try ReplayClient(endpoint: endpoint, context: ZMQContext())
        XCTAssertEqual(try client.insert(payloads: (0..<12).map(Float.init), priorities: [1, 1, 1, 1], timeout: .seconds(10)).count, 4)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? ReplayTableSnapshot.read(from: checkpoint).keys.count) != 4 { Thread.sleep(forTimeInterval: 0.1) }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        // What a forged insert persisted (NaN in item 2), and what a kill during a checkpoint leaves:
        // a temporary file named for a writer that is gone.
        let file = try HDF5File.open(checkpoint, mode: .readWrite)
        var payloads = try file.read(Float.self, at: "payloads").values
        XCTAssertEqual(payloads.count, 12)
        payloads[4] = .nan
        try file.write(payloads, shape: [4, 3], at: "payloads")
        file.close()
        let stale = "\(checkpoint).tmp-\(AtomicTemporaryFile.hostName)-\(first.processIdentifier)-77"
        try AtomicFile.write("half a checkpoint", to: stale)

        try start("colony-replay", ["--coordinator", coordinator, "--config", config], log: directory + "/replay-2.log")
        XCTAssertTrue(waitFor("replay-2.log", "removed \(stale)"), logTail("replay-2.log"))
        XCTAssertTrue(waitFor("replay-2.log", "left out 1 items of \(checkpoint) whose payload held NaN or infinity"), logTail("replay-2.log"))
        XCTAssertTrue(waitFor("replay-2.log", "restored 3 items"), logTail("replay-2.log"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
    }
}
