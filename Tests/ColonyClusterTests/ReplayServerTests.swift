import ColonyAgents
import ColonyCluster
import ColonyExperiments
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// A replay server on its own thread for one test; stopped (and joined) at the end.
private final class RunningServer {
    let role: ReplayServerRole
    let thread: OwningThread
    let failure = Shared<String?>(nil)

    init(_ settings: ReplayServerSettings, logs: LogCapture) throws {
        let role = ReplayServerRole(settings: settings, logger: logs.logger("replay"))
        self.role = role
        let failure = self.failure
        thread = OwningThread(name: "replay-server") {
            do { try role.run() } catch { failure.set("\(error)") }
        }
        thread.start()
        guard eventually({ role.endpoint != nil || failure.get() != nil }), role.endpoint != nil else {
            throw ReplayClientError.badReply("the server did not start: \(failure.get() ?? "timeout")")
        }
    }

    var endpoint: String { role.endpoint! }

    func stop() {
        role.stop()
        thread.join(timeout: .seconds(10))
    }

    deinit { stop() }
}

final class ReplayServerTests: XCTestCase {
    private func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-server-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent("replay.h5").path
    }

    func testInsertSampleUpdateOverTCPAndRegistration() throws {
        let cluster = try Cluster(.tcp)
        let table = ReplayTableConfiguration(capacity: 100, itemSize: 4, selector: .prioritized(alpha: 1))
        let server = try RunningServer(.init(table: table, coordinator: cluster.endpoint, seed: 1, heartbeatInterval: testInterval), logs: cluster.logs)
        XCTAssertTrue(eventually {
            cluster.coordinator.status().members.contains { $0.role == .replay && $0.endpoints["replay"] == server.endpoint }
        }, "the server registers as .replay with its endpoint")

        let client = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        let payloads: [Float] = (0..<12).map(Float.init)
        let keys = try client.insert(payloads: payloads, priorities: [1, 1, 1], timeout: .seconds(5))
        XCTAssertEqual(keys, [1, 2, 3])
        // All the mass on key 2.
        try client.updatePriorities(keys: [1, 2, 3], priorities: [0, 5, 0])
        let sample = try client.sample(8, beta: 0.5, timeout: .seconds(5))
        XCTAssertEqual(sample.keys, [UInt64](repeating: 2, count: 8))
        XCTAssertEqual(Array(sample.payloads[0..<4]), [4, 5, 6, 7])
        XCTAssertEqual(sample.weights, [Float](repeating: 1, count: 8))
        // Updates of evicted or unknown keys are counted, not applied.
        try client.updatePriorities(keys: [999], priorities: [1])
        XCTAssertTrue(eventually { server.role.statistics.unknownKeyUpdates == 1 })
        XCTAssertTrue(eventually { (server.role.memberStats.extra["size"] ?? 0) == 3 }, "size in heartbeats")
        // A malformed insert (wrong item size) is dropped; the server keeps serving.
        XCTAssertThrowsError(try client.insert(payloads: [1, 2], priorities: [1], timeout: .milliseconds(300)))
        XCTAssertEqual(try client.insert(payloads: [Float](repeating: 1, count: 4), priorities: [1], timeout: .seconds(5)), [4])
        server.stop()
        XCTAssertNil(server.failure.get())
    }

    func testRateLimiterHoldsSamplesUntilInsertsArrive() throws {
        let cluster = try Cluster(.tcp)
        let table = ReplayTableConfiguration(capacity: 100, itemSize: 1, selector: .uniform,
                                             rateLimiter: .init(samplesPerInsert: 1, minSize: 4, errorBuffer: 4))
        let server = try RunningServer(.init(table: table, seed: 2), logs: cluster.logs)
        let endpoint = server.endpoint
        let context = cluster.context
        let sampled = Shared<[UInt64]?>(nil)
        let sampler = OwningThread(name: "sampler") {
            guard let client = try? ReplayClient(endpoint: endpoint, context: context) else { return }
            sampled.set(try? client.sample(6, beta: 1, timeout: .seconds(10)).keys)
        }
        sampler.start()
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertNil(sampled.get(), "nothing to sample: the request is held")
        XCTAssertEqual(server.role.statistics.sampleWaits, 1)

        let client = try ReplayClient(endpoint: endpoint, context: context)
        // min_size 4, then inserts·1 − samples ≤ 4 + 4: 8 items go in, the 9th waits for samples.
        XCTAssertEqual(try client.insert(payloads: [0, 1, 2, 3, 4, 5, 6, 7], priorities: [Float](repeating: 1, count: 8), timeout: .seconds(5)).count, 8)
        XCTAssertTrue(sampler.join(timeout: .seconds(5)))
        XCTAssertEqual(sampled.get()?.count, 6, "8 inserts allow 8 − 6 ≥ 4 − 4: the held batch is answered")
        // Now 14 samples' worth of room: inserts·1 − 6 ≤ 8 allows 6 more.
        XCTAssertEqual(try client.insert(payloads: [Float](repeating: 1, count: 6), priorities: [Float](repeating: 1, count: 6), timeout: .seconds(5)).count, 6)
        XCTAssertThrowsError(try client.insert(payloads: [1], priorities: [1], timeout: .milliseconds(300)), "the 15th insert is held")
        XCTAssertGreaterThanOrEqual(server.role.statistics.insertWaits, 1)
        XCTAssertTrue(eventually { server.role.memberStats.waitingOn == .rateLimiter })
        server.stop()
    }

    func testCheckpointOnStopAndPeriodicallyIsRestoredOnStart() throws {
        let cluster = try Cluster(.tcp)
        let path = temporaryPath()
        let table = ReplayTableConfiguration(capacity: 50, itemSize: 2, selector: .prioritized(alpha: 0.5))
        let first = try RunningServer(.init(table: table, checkpointEverySeconds: 0.05, checkpointPath: path, seed: 3), logs: cluster.logs)
        do {
            let client = try ReplayClient(endpoint: first.endpoint, context: cluster.context)
            XCTAssertEqual(try client.insert(payloads: [1, 2, 3, 4], priorities: [2, 3], timeout: .seconds(5)), [1, 2])
            try client.updatePriorities(keys: [2], priorities: [7])
            _ = try client.sample(1, beta: 0.4, timeout: .seconds(5))  // a round trip: the update has been applied
            XCTAssertTrue(eventually { first.role.checkpoints >= 2 }, "periodic checkpoints")
        }
        first.stop()

        let restored = try ReplayTable(table)
        try restored.restore(from: path)
        XCTAssertEqual(restored.keysInInsertionOrder, [1, 2])
        XCTAssertEqual(restored.priority(of: 2), 7)

        let second = try RunningServer(.init(table: table, checkpointPath: path, seed: 4), logs: cluster.logs)
        let client = try ReplayClient(endpoint: second.endpoint, context: cluster.context)
        XCTAssertEqual(try client.insert(payloads: [5, 6], priorities: [1], timeout: .seconds(5)), [3], "keys continue after a restore")
        second.stop()

        // A server whose configuration differs from the checkpoint refuses to start, naming the field.
        var other = table
        other.itemSize = 3
        XCTAssertThrowsError(try RunningServer(.init(table: other, checkpointPath: path), logs: cluster.logs)) { error in
            XCTAssertTrue("\(error)".contains("item_size"), "\(error)")
        }
    }

    /// In a held member's cluster the server writes its table when the learner holds, answers nothing until the
    /// release, then reloads the file (which an exploit may have replaced with a donor's table) and drops the requests
    /// it held from before the boundary.
    func testAHeldServerWritesItsTableAtTheLearnersHoldAndReloadsTheFileAtTheRelease() throws {
        let cluster = try Cluster(.tcp)
        let path = temporaryPath()
        let run = RunDirectory(path: (path as NSString).deletingLastPathComponent)
        let table = ReplayTableConfiguration(capacity: 50, itemSize: 1, selector: .uniform)
        let hold = ReplayServerHold(runDirectory: run, target: 100) { (table, 200) }
        let server = try RunningServer(.init(table: table, checkpointPath: path, seed: 5, hold: hold), logs: cluster.logs)
        let client = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        XCTAssertEqual(try client.insert(payloads: [1, 2, 3], priorities: [1, 1, 1], timeout: .seconds(5)), [1, 2, 3])
        XCTAssertFalse(ReplayHold.isHeld(at: 100, in: run), "no hold before the learner's")

        // The learner holds at its target: the server writes its three items and holds too.
        try AtomicFile.write("{\"frames\": 100, \"target\": 100, \"version\": 4}\n", to: LearnerHold.heldPath(run))
        XCTAssertTrue(eventually { ReplayHold.isHeld(at: 100, in: run) })
        XCTAssertEqual(try ReplayTableSnapshot.read(from: path).keys, [1, 2, 3])
        XCTAssertThrowsError(try client.insert(payloads: [4], priorities: [1], timeout: .milliseconds(300)), "no insert is answered while it holds")

        // An exploit puts a donor's table in its place; the release reloads that file.
        let donor = try ReplayTable(table)
        _ = try donor.insert(payloads: [10, 20], priorities: [1, 1])
        try donor.checkpoint(to: path)
        try LearnerHold.release(run, to: 200)
        XCTAssertTrue(eventually { ReplayHold.record(in: run)?.releasedTo == 200 })
        let next = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        let sample = try next.sample(16, beta: 1, timeout: .seconds(5))
        XCTAssertEqual(sample.payloads.count, 16)
        XCTAssertTrue(Set(sample.payloads).isSubset(of: [10, 20]), "the donor's items, and not the insert held from before the boundary: \(sample.payloads)")
        XCTAssertEqual(try next.insert(payloads: [30], priorities: [1], timeout: .seconds(5)), [3], "keys go on from the donor's")
        server.stop()
        XCTAssertNil(server.failure.get())
        XCTAssertEqual(try ReplayTableSnapshot.read(from: path).keys, [1, 2, 3], "a server stopped after its release writes its table again")
    }
}

/// Pipelined inserts and asynchronous samples against a real server thread over tcp.
final class ReplayClientPipelineTests: XCTestCase {
    /// min_size 1 and error_buffer 1 at one sample per insert: two items go in before anything is
    /// sampled; after that each sampled item lets one more in, and at most inserts − samples may be sampled.
    private let strictTable = ReplayTableConfiguration(capacity: 100, itemSize: 1, selector: .uniform,
                                                       rateLimiter: .init(samplesPerInsert: 1, minSize: 1, errorBuffer: 1))

    private func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    func testPipelinedInsertsBlockOnlyWhenTheWindowIsFull() throws {
        let cluster = try Cluster(.tcp)
        let server = try RunningServer(.init(table: strictTable, seed: 5), logs: cluster.logs)
        let client = try ReplayClient(endpoint: server.endpoint, context: cluster.context)

        for value in 0..<2 { try client.insertPipelined(payloads: [Float(value)], priorities: [1], window: 4) }
        try client.flushInserts(timeout: .seconds(5))
        XCTAssertEqual(client.outstandingInserts, 0, "the limiter lets the first two in")
        XCTAssertTrue(eventually { server.role.statistics.size == 2 }, "statistics are published once per loop turn")

        // The limiter holds the next four, but the window has room: every call returns at once.
        let quick = try seconds {
            for value in 2..<6 { try client.insertPipelined(payloads: [Float(value)], priorities: [1], window: 4, timeout: .seconds(5)) }
        }
        XCTAssertLessThan(quick, 1, "inserts within the window do not wait for replies")
        XCTAssertEqual(client.outstandingInserts, 4)
        XCTAssertTrue(eventually { server.role.statistics.insertWaits >= 1 }, "the server holds them")

        // The window is full: the fifth waits, and times out without sending.
        var thrown: Error?
        let blocked = seconds {
            do { try client.insertPipelined(payloads: [6], priorities: [1], window: 4, timeout: .milliseconds(300)) } catch { thrown = error }
        }
        XCTAssertEqual(thrown as? ReplayClientError, .timedOut("pipelined insert (4 unanswered, window 4)"))
        XCTAssertGreaterThanOrEqual(blocked, 0.25)
        XCTAssertEqual(client.outstandingInserts, 4)

        // Sampling on the same client lets the held inserts in; their replies, arriving while the client
        // waits for its samples, retire them.
        XCTAssertEqual(try client.sample(2, beta: 1, timeout: .seconds(5)).count, 2)
        XCTAssertEqual(try client.sample(2, beta: 1, timeout: .seconds(5)).count, 2)
        try client.flushInserts(timeout: .seconds(5))
        XCTAssertEqual(client.outstandingInserts, 0)
        XCTAssertTrue(eventually { server.role.statistics.size == 6 })
        XCTAssertEqual(try client.sample(2, beta: 1, timeout: .seconds(5)).count, 2)
        XCTAssertEqual(try client.insert(payloads: [7], priorities: [1], timeout: .seconds(5)), [7], "the timed-out batch was never sent")
        server.stop()
        XCTAssertNil(server.failure.get())
    }

    func testRequestedSampleIsHeldUntilEnoughInsertsArrive() throws {
        let cluster = try Cluster(.tcp)
        let table = ReplayTableConfiguration(capacity: 100, itemSize: 2, selector: .uniform,
                                             rateLimiter: .init(samplesPerInsert: 1, minSize: 4, errorBuffer: 4))
        let server = try RunningServer(.init(table: table, seed: 6), logs: cluster.logs)
        let learner = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        let actor = try ReplayClient(endpoint: server.endpoint, context: cluster.context)

        XCTAssertNil(try learner.receiveSample(timeout: 0), "nothing requested")
        try learner.requestSample(3, beta: 1)
        try learner.requestSample(2, beta: 1)
        XCTAssertEqual(learner.outstandingSamples, 2)
        XCTAssertNil(try learner.receiveSample(timeout: 0))
        XCTAssertNil(try learner.receiveSample(timeout: 150), "held: the table is below min_size")
        XCTAssertEqual(learner.outstandingSamples, 2)

        for value in 0..<8 { try actor.insertPipelined(payloads: [Float(value), Float(value)], priorities: [1], window: 4) }
        try actor.flushInserts(timeout: .seconds(5))
        let first = try XCTUnwrap(learner.receiveSample(timeout: 5000))
        XCTAssertEqual(first.count, 3, "the oldest request comes first")
        XCTAssertEqual(first.payloads.count, 6)
        for (row, key) in first.keys.enumerated() {
            XCTAssertEqual(first.payloads[row * 2], Float(key - 1), "payload of key \(key)")
        }
        let second = try XCTUnwrap(learner.receiveSample(timeout: 5000))
        XCTAssertEqual(second.count, 2)
        XCTAssertEqual(learner.outstandingSamples, 0)
        XCTAssertNil(try learner.receiveSample(timeout: 0))
        server.stop()
        XCTAssertNil(server.failure.get())
    }

    /// A peer that floods the server with sample requests while the limiter blocks neither fills the
    /// held queue for everyone (its newest requests make room for others') nor starves another
    /// connection: connections are served in turn, so the learner's request is answered with the
    /// first budget, not after the flood.
    func testFloodingConnectionCannotStarveAnother() throws {
        let cluster = try Cluster(.tcp)
        let table = ReplayTableConfiguration(capacity: 100, itemSize: 1, selector: .uniform,
                                             rateLimiter: .init(samplesPerInsert: 1, minSize: 4, errorBuffer: 4))
        let server = try RunningServer(.init(table: table, seed: 7, maximumHeldRequests: 64), logs: cluster.logs)
        let flooder = try ZMQSocket(cluster.context, .dealer)
        defer { flooder.close() }
        try flooder.connect(server.endpoint)
        var sender = WireSender(senderID: 0xF100D)
        for _ in 0..<200 {
            try flooder.send(sender.message(.replaySample, tensors: [WireTensor([Int32(2)]), WireTensor([Float(1)])]))
        }
        // The server holds 64 of them and refuses the rest.
        XCTAssertTrue(eventually { server.role.statistics.sampleWaits >= 1 })
        Thread.sleep(forTimeInterval: 0.3)

        let learner = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        let actor = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        try learner.requestSample(2, beta: 1)
        for value in 0..<8 { try actor.insertPipelined(payloads: [Float(value)], priorities: [1], window: 4) }
        try actor.flushInserts(timeout: .seconds(5))
        let sample = try XCTUnwrap(learner.receiveSample(timeout: 5000), "the learner waited behind the flood")
        XCTAssertEqual(sample.count, 2)
        server.stop()
        XCTAssertNil(server.failure.get())
    }

    func testMixedCallsKeepRepliesApartAndAbandonedRepliesAreDiscarded() throws {
        let cluster = try Cluster(.tcp)
        let server = try RunningServer(.init(table: strictTable, seed: 7), logs: cluster.logs)
        let client = try ReplayClient(endpoint: server.endpoint, context: cluster.context)

        // A sample request held (empty table), pipelined and synchronous inserts behind it.
        try client.requestSample(1, beta: 1)
        try client.insertPipelined(payloads: [10], priorities: [1], window: 8)
        XCTAssertEqual(try client.insert(payloads: [11], priorities: [1], timeout: .seconds(5)), [2],
                       "the synchronous insert gets its own keys, not the pipelined insert's reply")
        XCTAssertEqual(client.outstandingInserts, 0, "the pipelined reply came first and was filed")
        let held = try XCTUnwrap(client.receiveSample(timeout: 5000), "the held request was answered once items arrived")
        XCTAssertEqual(held.count, 1)
        XCTAssertTrue([1, 2].contains(held.keys[0]))

        // Async and sync samples interleaved (inserts 3, samples 1: room for two more samples).
        XCTAssertEqual(try client.insert(payloads: [12], priorities: [1], timeout: .seconds(5)), [3])
        try client.requestSample(1, beta: 1)
        XCTAssertEqual(try client.sample(1, beta: 1, timeout: .seconds(5)).count, 1, "a sync sample behind an async one")
        XCTAssertEqual(try XCTUnwrap(client.receiveSample(timeout: 0)).count, 1, "the async reply arrived meanwhile and was kept")

        // inserts 3, samples 3: the next request is held; abandon it.
        try client.requestSample(1, beta: 1)
        XCTAssertNil(try client.receiveSample(timeout: 100))
        client.abandonOutstandingRequests()
        XCTAssertEqual(client.outstandingSamples, 0)
        XCTAssertNil(try client.receiveSample(timeout: 0))
        // New inserts release the abandoned request on the server; its late reply is discarded, and the
        // next sync sample gets its own (larger) batch.
        for key: UInt64 in 4...6 {
            XCTAssertEqual(try client.insert(payloads: [Float(key)], priorities: [1], timeout: .seconds(5)), [key])
        }
        XCTAssertEqual(try client.sample(2, beta: 1, timeout: .seconds(5)).count, 2)
        XCTAssertNil(try client.receiveSample(timeout: 50))
        server.stop()
        XCTAssertNil(server.failure.get())
    }

    /// A table with frame columns takes inserts whose frames are bytes and answers samples so; the client rebuilds
    /// whole Float items. Packed inserts that do not match the table are dropped and counted, whole Float items still work.
    func testFramesTravelAsBytesAndItemsArriveWhole() throws {
        let cluster = try Cluster(.tcp)
        let layout = TransitionLayout(observationSize: 6, actionSize: 1)
        let frames = ReplayFrameColumns.transitions(layout, chunkSize: 3)
        let table = ReplayTableConfiguration(capacity: 50, itemSize: layout.itemSize, selector: .uniform, frames: frames)
        let server = try RunningServer(.init(table: table, seed: 3), logs: cluster.logs)
        let client = try ReplayClient(endpoint: server.endpoint, context: cluster.context, frames: frames.blocks)
        var items: [Float] = []
        for t in 0..<8 {
            let plane: (Int) -> [Float] = { p in (0..<3).map { Float((40 * p + $0) % 256) } }
            let (observation, next) = (plane(t) + plane(t + 1), plane(t + 1) + plane(t + 2))
            layout.append(observation: observation[...], action: [Float(t % 3)], reward: Float(t) - 2.5, next: next[...], discount: 0.9, to: &items)
        }
        let keys = try client.insert(payloads: items, priorities: [Float](repeating: 1, count: 8), timeout: .seconds(5))
        XCTAssertEqual(keys, Array(1...8))
        let sample = try client.sample(32, beta: 0.4, timeout: .seconds(5))
        XCTAssertEqual(sample.count, 32)
        for (row, key) in sample.keys.enumerated() {
            let at = Int(key - 1) * layout.itemSize
            XCTAssertEqual(Array(sample.payloads[row * layout.itemSize..<(row + 1) * layout.itemSize]), Array(items[at..<at + layout.itemSize]))
        }
        // Whole Float items into the same table (a client that does not pack), and a frame value that is no byte.
        let plain = try ReplayClient(endpoint: server.endpoint, context: cluster.context)
        XCTAssertEqual(try plain.insert(payloads: Array(items[0..<layout.itemSize]), priorities: [1], timeout: .seconds(5)), [9])
        var notAByte = Array(items[0..<layout.itemSize])
        notAByte[2] = 0.5
        XCTAssertThrowsError(try client.insert(payloads: notAByte, priorities: [1])) { XCTAssertTrue("\($0)".contains("0…255"), "\($0)") }

        // Forged packed inserts: frames said to sit elsewhere, and offsets that overlap; both dropped, counted.
        let socket = try ZMQSocket(cluster.context, .dealer)
        defer { socket.close() }
        try socket.connect(server.endpoint)
        var sender = WireSender()
        for offsets: [Int64] in [[1, 8], [0, 2]] {
            try socket.send(sender.message(.replayInsert, tensors: [
                WireTensor([Float](repeating: 0, count: 3), shape: [1, 3]), WireTensor([Float(1)]),
                WireTensor([UInt8](repeating: 7, count: 12), shape: [1, 12]), WireTensor(offsets),
            ]))
        }
        XCTAssertTrue(eventually { (server.role.memberStats.extra["dropped: schema"] ?? 0) >= 2 }, "\(server.role.memberStats.extra)")
        // The reply on the wire: 3 Floats an item, then frames u8 [B, 12] starting at columns 0 and 8.
        try socket.send(sender.message(.replaySample, tensors: [WireTensor([Int32(2)]), WireTensor([Float(0.4)])]))
        try socket.setReceiveTimeout(milliseconds: 5000)
        let reply = try XCTUnwrap(socket.receiveWire(limits: ReplayMessages.clientLimits(), dontWait: false))
        guard case .message(let message, _) = reply else { return XCTFail("\(reply)") }
        XCTAssertEqual(message.tensors.map(\.description), ["f32[2, 3]", "i64[2]", "f32[2]", "u8[2, 12]", "i64[2]"])
        XCTAssertEqual(try message.tensors[4].int64s(), [0, 8])
        XCTAssertEqual(server.role.statistics.inserts, 9)
        // A table without frames refuses packed items.
        let floatServer = try RunningServer(.init(table: ReplayTableConfiguration(capacity: 50, itemSize: layout.itemSize, selector: .uniform), seed: 4),
                                            logs: cluster.logs)
        let packing = try ReplayClient(endpoint: floatServer.endpoint, context: cluster.context, frames: frames.blocks)
        XCTAssertThrowsError(try packing.insert(payloads: Array(items[0..<layout.itemSize]), priorities: [1], timeout: .milliseconds(300)))
        XCTAssertTrue(eventually { (floatServer.role.memberStats.extra["dropped: schema"] ?? 0) >= 1 }, "\(floatServer.role.memberStats.extra)")
        for running in [server, floatServer] {
            running.stop()
            XCTAssertNil(running.failure.get())
        }
    }
}

final class ReplaySettingsTests: XCTestCase {
    func testReplayTOMLTable() throws {
        let document = try TOMLDocument(parsing: """
        [replay]
        capacity = 1000
        item_size = 10
        selector = "prioritized"
        alpha = 0.7
        samples_per_insert = 8.0
        min_size = 100
        error_buffer = 16
        max_times_sampled = 0
        checkpoint_every_seconds = 60
        checkpoint_path = "replay.h5"
        """)
        let (table, every, path) = try ReplayServerSettings.table(fromTOML: document)
        XCTAssertEqual(table, ReplayTableConfiguration(capacity: 1000, itemSize: 10, selector: .prioritized(alpha: 0.7),
                                                       rateLimiter: .init(samplesPerInsert: 8, minSize: 100, errorBuffer: 16)))
        XCTAssertEqual(every, 60)
        XCTAssertEqual(path, "replay.h5")
        XCTAssertThrowsError(try ReplayServerSettings.table(fromTOML: TOMLDocument(parsing: "[replay]\ncapacity = 10\n"))) { error in
            XCTAssertTrue("\(error)".contains("item_size is required"), "\(error)")
        }
        XCTAssertThrowsError(try ReplayServerSettings.table(fromTOML: TOMLDocument(parsing: "[replay]\nitem_size = 1\nalfa = 0.5\n"))) { error in
            XCTAssertTrue("\(error)".contains("unknown key alfa"), "\(error)")
        }
        let queue = try ReplayServerSettings.table(fromTOML: TOMLDocument(parsing: "[replay]\nselector = \"uniform\"\nmax_times_sampled = 1\n"), defaultItemSize: 4).0
        XCTAssertEqual(queue.selector, .uniform)
        XCTAssertEqual(queue.maxTimesSampled, 1)
        XCTAssertEqual(queue.itemSize, 4)
    }
}
