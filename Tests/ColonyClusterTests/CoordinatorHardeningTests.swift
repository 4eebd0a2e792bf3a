import ColonyCluster
import ColonyTransport
import Foundation
import XCTest

/// A registration as a forger writes it (the coordinator's own payload type is internal).
private struct ForgedRegistration: Encodable {
    var member: MemberInfo
}

/// A heartbeat with no figures.
private struct ForgedHeartbeat: Encodable {
    var stats: [String: Double] = [:]
}

/// What one sender that is not a member can do to a coordinator (issue 14): end the run, take over a
/// learner's endpoints, grow its memory, or make its status unreadable. None of it may work.
final class CoordinatorHardeningTests: XCTestCase {
    /// An unregistered `shutdown` (and one claiming the learner's id from another connection) ends
    /// nothing; a forged `learner` cannot replace the real one in discovery; an `unregister` in the
    /// learner's name does not remove it. Each refusal is counted by reason.
    func testOnlyRegisteredMembersEndTheRunAndNoOneTakesOverTheLearner() throws {
        let cluster = try Cluster(.tcp)
        let heard = Shared<[String]>([])
        let endpoints = ["data": "tcp://127.0.0.1:5601", "parameters": "tcp://127.0.0.1:5602"]
        let learner = cluster.client(.learner, "learner-impala", endpoints: endpoints, onShutdown: { reason in heard.update { $0.append(reason) } })
        let worker = cluster.client(.worker, "worker-0", onShutdown: { reason in heard.update { $0.append(reason) } })
        XCTAssertTrue(eventually { learner.isRegistered && worker.isRegistered })
        let learnerID = try XCTUnwrap(cluster.coordinator.status().members.first { $0.role == .learner }.flatMap { UInt64($0.id, radix: 16) })

        let forger = try ZMQSocket(cluster.context, .dealer)
        defer { forger.close() }
        try forger.connect(cluster.endpoint)
        var stranger = WireSender(senderID: 0xBAD, runID: 1)
        var impostor = WireSender(senderID: learnerID, runID: 1)  // the learner's id, from another connection
        let hijack = ForgedRegistration(member: MemberInfo(role: .learner, name: "learner-impala", host: "evil", pid: 1, endpoints: ["data": "tcp://10.0.0.66:1"]))
        try forger.send(stranger.control(.shutdown, ["reason": "forged"]))
        try forger.send(impostor.control(.shutdown, ["reason": "forged in the learner's name"]))
        try forger.send(impostor.control(.unregister, [String: String]()))
        try forger.send(stranger.control(.register, hijack))
        try forger.send(impostor.control(.register, hijack))
        try forger.send(impostor.control(.heartbeat, ForgedHeartbeat()))

        let drops = cluster.coordinator.drops
        XCTAssertTrue(eventually { drops.count(reason: .unregisteredSender) >= 3 && drops.count(reason: .nameTaken) >= 2 }, "\(drops.snapshot())")
        XCTAssertEqual(drops.count(sender: 0xBAD, reason: .unregisteredSender), 1)
        XCTAssertEqual(drops.count(sender: 0xBAD, reason: .nameTaken), 1)
        Thread.sleep(forTimeInterval: 0.5)  // ten heartbeat intervals: nothing ended, the learner stayed
        XCTAssertEqual(heard.get(), [])
        XCTAssertNil(cluster.coordinator.shutdownReason)
        XCTAssertTrue(learner.isRegistered && worker.isRegistered)
        let discovered = try XCTUnwrap(try CoordinatorRequest.discover(coordinator: cluster.endpoint, context: cluster.context))
        XCTAssertEqual(discovered.learner?.endpoints, endpoints, "discovery was hijacked")
        XCTAssertEqual(cluster.coordinator.status().members.filter { $0.role == .learner }.count, 1)
        XCTAssertTrue(cluster.logs.contains("ignored a shutdown request from 0000000000000bad"), cluster.logs.all.suffix(20).joined(separator: "\n"))

        // The registered learner still ends the run.
        learner.requestShutdown(reason: "run done")
        XCTAssertTrue(eventually { heard.get().count == 2 }, "\(heard.get())")
        XCTAssertEqual(cluster.coordinator.shutdownReason, "run done")
    }

    /// Thousands of claimed sender ids and hundreds of bulky registrations: the drop table stays at
    /// its cap (the rest under "other"), registrations stop at the member limit, and a status request
    /// still gets a reply that fits, with the members that did not fit counted.
    func testPerSenderStateAndStatusRepliesAreBounded() throws {
        let context = ZMQContext()
        let coordinator = Coordinator(configuration: .init(endpoint: "tcp://127.0.0.1:*", heartbeatInterval: .seconds(2), maximumMembers: 500), context: context)
        try coordinator.start()
        defer { coordinator.stop() }
        let endpoint = try XCTUnwrap(coordinator.boundEndpoint)
        let forger = try ZMQSocket(context, .dealer)
        defer { forger.close() }
        try forger.setHighWaterMarks(send: 100_000, receive: 1000)
        try forger.connect(endpoint)

        for id in 1...3_000 {
            var sender = WireSender(senderID: UInt64(id), runID: 1)
            try forger.send(sender.message(.register, tensors: [WireTensor(utf8: "{not json")]))
        }
        XCTAssertTrue(eventually(timeout: 20) { coordinator.drops.total >= 3_000 }, "\(coordinator.drops.total)")
        let table = coordinator.drops.snapshot()
        XCTAssertLessThanOrEqual(table.count, coordinator.drops.maximumSenders + 1)
        XCTAssertEqual(table[DropCounter.otherKey]?["bad control payload"], 3_000 - coordinator.drops.maximumSenders)

        // 600 workers of 32 long endpoints each (about 9 KiB apiece): more than the limit of 500, and more bytes than a reply holds.
        let address = "tcp://" + String(repeating: "h", count: 230) + ":1"
        let bulky = Dictionary(uniqueKeysWithValues: (0..<32).map { ("endpoint-\($0)", address) })
        for id in 10_001...10_600 {
            var sender = WireSender(senderID: UInt64(id), runID: 1)
            let member = MemberInfo(role: .worker, name: "worker-\(id)-" + String(repeating: "w", count: 100), host: "h", pid: id, endpoints: bulky)
            try forger.send(sender.control(.register, ForgedRegistration(member: member)))
        }
        XCTAssertTrue(eventually(timeout: 20) { coordinator.drops.count(reason: .tooManyMembers) >= 100 }, "\(coordinator.drops.byReason())")
        XCTAssertEqual(coordinator.status().members.count, 500)
        let status = try CoordinatorRequest.status(coordinator: endpoint, context: context, timeout: .seconds(5))
        let omitted = try XCTUnwrap(status.omittedMembers, "a reply of \(status.members.count) members was not cut")
        XCTAssertEqual(status.members.count + omitted, 500)
        XCTAssertEqual(status.aggregate.members, 500)
        XCTAssertLessThanOrEqual(try JSONEncoder().encode(status).count, Coordinator.maximumStatusReplyBytes)
    }
}
