import ColonyCluster
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// The real `colony-replay` and `colony-coordinator` executables: a replay server killed with SIGKILL
/// comes back from its periodic checkpoint with every item, key and priority it had, and a checkpoint
/// of another configuration stops it at once.
final class ReplayDurabilityTests: ExecutableTestCase {
    // MARK: Helpers

    private func writeConfiguration(capacity: Int, checkpoint: String) throws -> String {
        let path = directory + "/replay-\(capacity).toml"
        try AtomicFile.write("""
        [replay]
        capacity = \(capacity)
        item_size = 3
        selector = "prioritized"
        alpha = 1.0
        checkpoint_every_seconds = 1
        checkpoint_path = "\(checkpoint)"
        """, to: path)
        return path
    }

    /// The replay endpoint discovery hands out, once it differs from `previous`.
    private func discoverReplay(_ coordinator: String, other previous: String? = nil, timeout: Double = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let endpoint = (try? CoordinatorRequest.discover(coordinator: coordinator, timeout: .seconds(1)))??.replay?.endpoints["replay"],
               endpoint != previous {
                return endpoint
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    /// The checkpoint file's identity: atomic writes rename a new file over it, so the inode changes.
    private func checkpointGeneration(_ path: String) -> (UInt64, Date)? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
              let modified = attributes[.modificationDate] as? Date else { return nil }
        return (inode, modified)
    }

    /// Waits for `count` new checkpoint files after now. The first may have been snapshotted before
    /// now; the second was snapshotted after the first finished, so it holds everything done before now.
    private func waitForCheckpoints(_ path: String, count: Int, timeout: Double = 20) -> Bool {
        var last = checkpointGeneration(path)
        var seen = 0
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let current = checkpointGeneration(path)
            if let current, last.map({ $0.0 != current.0 || $0.1 != current.1 }) ?? true {
                seen += 1
                last = current
                if seen == count { return true }
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    // MARK: Tests

    func testSIGKILLedServerRestartsFromItsCheckpointWithItemsKeysAndPriorities() throws {
        let coordinator = try freeEndpoint()
        try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log")
        let checkpoint = directory + "/replay.h5"
        let config = try writeConfiguration(capacity: 1000, checkpoint: checkpoint)
        let first = try start("colony-replay", ["--coordinator", coordinator, "--config", config], log: directory + "/replay-1.log")
        let endpoint = try XCTUnwrap(discoverReplay(coordinator), "the replay server registers" + logTail("replay-1.log") + logTail("coordinator.log"))

        // 300 items: almost all of priority 0, four known keys with the mass (one set by an update), so
        // that sampling shows the restored priorities: P ∝ 1 : 2 : 5 : 2.
        let context = ZMQContext()
        let expected: [UInt64: Float] = [17: 1, 42: 2, 99: 5, 250: 2]
        do {
            let client = try ReplayClient(endpoint: endpoint, context: context)
            for batch in 0..<3 {
                let keys = (1...100).map { UInt64(batch * 100 + $0) }
                let payloads = keys.flatMap { [Float($0), Float($0) * 2, -Float($0)] }
                let priorities = keys.map { $0 == 250 ? 0 : expected[$0] ?? 0 }
                try client.insertPipelined(payloads: payloads, priorities: priorities, window: 2, timeout: .seconds(10))
            }
            try client.flushInserts(timeout: .seconds(10))
            try client.updatePriorities(keys: [250], priorities: [2])
            // A round trip after the update: it has been applied when the sample comes back.
            XCTAssertFalse(try client.sample(1, beta: 0.4, timeout: .seconds(10)).keys.isEmpty)
        }
        XCTAssertTrue(waitForCheckpoints(checkpoint, count: 2), "two checkpoints after the inserts" + logTail("replay-1.log"))

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)

        let second = try start("colony-replay", ["--coordinator", coordinator, "--config", config], log: directory + "/replay-2.log")
        let restarted = try XCTUnwrap(discoverReplay(coordinator, other: endpoint), "discovery hands out the new endpoint" + logTail("replay-2.log"))
        XCTAssertTrue(second.isRunning)

        // The size the new process reports in its heartbeats.
        var reportedSize: Double?
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, reportedSize != 300 {
            let status = try? CoordinatorRequest.status(coordinator: coordinator, timeout: .seconds(2))
            reportedSize = status?.members.first { $0.role == .replay && $0.pid == Int(second.processIdentifier) }?.stats.extra["size"]
            if reportedSize != 300 { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertEqual(reportedSize, 300, "every item inserted before the checkpoint is back" + logTail("replay-2.log"))

        let client = try ReplayClient(endpoint: restarted, context: context)
        var counts: [UInt64: Int] = [:]
        for _ in 0..<8 {
            let sample = try client.sample(500, beta: 0.4, timeout: .seconds(10))
            for (row, key) in sample.keys.enumerated() {
                counts[key, default: 0] += 1
                XCTAssertEqual(Array(sample.payloads[row * 3..<row * 3 + 3]), [Float(key), Float(key) * 2, -Float(key)], "payload of key \(key)")
            }
        }
        XCTAssertEqual(Set(counts.keys), Set(expected.keys), "only the positive-priority keys are ever drawn")
        let total = expected.values.reduce(0, +)
        for (key, priority) in expected {
            XCTAssertEqual(Double(counts[key] ?? 0) / 4000, Double(priority / total), accuracy: 0.04, "key \(key)")
        }
        // Keys continue after the restored ones.
        XCTAssertEqual(try client.insert(payloads: [1, 2, 3], priorities: [0], timeout: .seconds(10)), [301])

        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0, "SIGTERM stops it cleanly" + logTail("replay-2.log"))
    }

    func testCheckpointOfAnotherConfigurationStopsTheServerAtOnce() throws {
        let checkpoint = directory + "/replay.h5"
        let written = try ReplayTable(.init(capacity: 1000, itemSize: 3, selector: .prioritized(alpha: 1)))
        try written.insert(payloads: [1, 2, 3], priorities: [1])
        try written.checkpoint(to: checkpoint)
        let config = try writeConfiguration(capacity: 2000, checkpoint: checkpoint)
        // Nothing listens at the coordinator's endpoint: the restore comes first and must fail on its own.
        let server = try start("colony-replay", ["--coordinator", try freeEndpoint(), "--config", config], log: directory + "/replay.log")
        let deadline = Date().addingTimeInterval(15)
        while server.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(server.isRunning, "a mismatched checkpoint must stop the server, not hang it" + logTail("replay.log"))
        if server.isRunning { return }
        XCTAssertNotEqual(server.terminationStatus, 0)
        let output = (try? String(contentsOfFile: directory + "/replay.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(output.contains("capacity is 1000 in the file but 2000"), output)
        XCTAssertEqual(try ReplayTableSnapshot.read(from: checkpoint).keys, [1], "the checkpoint is left as it was")
    }
}
