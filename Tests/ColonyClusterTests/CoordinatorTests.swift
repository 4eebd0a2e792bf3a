import ColonyCluster
import ColonyTransport
import Foundation
import XCTest

final class CoordinatorTests: XCTestCase {
    func testMembersRegisterAndHeartbeatsCarryTheirStats() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let workerStats = Shared(MemberStats(framesPerSecond: 100, waitingOn: .noParameters))
            let learner = cluster.client(.learner, "learner", endpoints: ["data": "tcp://node1:5601"])
            let worker = cluster.client(.worker, "worker-0", stats: { workerStats.get() })
            XCTAssertTrue(eventually { learner.isRegistered && worker.isRegistered }, "\(transport)")
            XCTAssertEqual(cluster.coordinator.status().members.map(\.name), ["learner", "worker-0"], "\(transport)")

            workerStats.set(MemberStats(framesPerSecond: 2500, policyLag: 2, waitingOn: .backpressure, extra: ["episodes": 7]))
            XCTAssertTrue(eventually { cluster.coordinator.status().members.last?.stats.framesPerSecond == 2500 }, "\(transport)")
            let member = try XCTUnwrap(cluster.coordinator.status().members.last)
            XCTAssertEqual(member.role, .worker)
            XCTAssertEqual(member.pid, Int(ProcessInfo.processInfo.processIdentifier))
            XCTAssertEqual(member.host, ProcessInfo.processInfo.hostName)
            XCTAssertEqual(member.id, formatID(worker.configuration.memberID))
            XCTAssertEqual(member.stats.waitingOn, .backpressure)
            XCTAssertEqual(member.stats.extra, ["episodes": 7])
            XCTAssertLessThan(member.heartbeatAgeSeconds, 1)
            XCTAssertTrue(eventually { cluster.logs.contains("registered worker worker-0") }, "\(transport)")
            XCTAssertTrue(eventually { cluster.logs.contains("serving data tcp://node1:5601") }, "\(transport)")
        }
    }

    func testSilentMemberIsDroppedAfterThreeIntervalsAndAGoodbyeRemovesAtOnce() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let alive = cluster.client(.worker, "alive")
            let dying = cluster.client(.worker, "dying")
            let leaving = cluster.client(.worker, "leaving")
            XCTAssertTrue(eventually { alive.isRegistered && dying.isRegistered && leaving.isRegistered }, "\(transport)")

            leaving.stop(unregister: true)
            XCTAssertTrue(eventually { !cluster.coordinator.status().members.contains { $0.name == "leaving" } }, "\(transport)")
            // The coordinator logs after it updates its table: wait for the line rather than race it.
            XCTAssertTrue(eventually { cluster.logs.contains("worker leaving (id \(formatID(leaving.configuration.memberID))) left") }, "\(transport)")

            dying.stop(unregister: false)  // as if killed: no goodbye
            XCTAssertTrue(eventually { cluster.coordinator.status().members.map(\.name) == ["alive"] }, "\(transport)")
            let status = cluster.coordinator.status()
            XCTAssertEqual(status.droppedMembers.map(\.name), ["dying"], "only the silent member is dropped, \(transport)")
            XCTAssertGreaterThan(try XCTUnwrap(status.droppedMembers.first).silentSeconds, 3 * 0.05, "\(transport)")
            XCTAssertTrue(eventually { cluster.logs.contains("dropped worker dying") && cluster.logs.contains("(3 heartbeat intervals)") }, "\(transport)")
            XCTAssertEqual(alive.registrations, 1, "the member that kept beating was never dropped, \(transport)")
        }
    }

    func testDiscoverSaysNoneYetThenHandsOutTheLearnerAndReplayEndpoints() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let worker = cluster.client(.worker, "worker-0")
            let before = try XCTUnwrap(try worker.discover(timeout: .seconds(5)), "\(transport)")
            XCTAssertFalse(before.isReady)
            XCTAssertEqual(before.message, "none yet")
            XCTAssertNil(before.learner)

            // A worker waiting (and retrying) before the learner exists gets it once it registers.
            let found = Shared<DiscoverReply?>(nil)
            let waiter = OwningThread(name: "waiter") {
                found.set(try? worker.waitForLearner(timeout: .seconds(10), retryInterval: .milliseconds(20)))
            }
            waiter.start()
            Thread.sleep(forTimeInterval: 0.05)
            let endpoints = ["data": "tcp://node1:5601", "parameters": "tcp://node1:5602"]
            _ = cluster.client(.learner, "learner", endpoints: endpoints)
            _ = cluster.client(.replay, "replay", endpoints: ["replay": "tcp://node2:5700"])
            XCTAssertTrue(waiter.join(timeout: .seconds(10)), "\(transport)")
            XCTAssertEqual(found.get()?.learner?.endpoints, endpoints, "\(transport)")
            XCTAssertEqual(found.get()?.message, "ready")

            XCTAssertTrue(try eventually { try worker.discover()?.replay != nil }, "\(transport)")
            let after = try XCTUnwrap(try CoordinatorRequest.discover(coordinator: cluster.endpoint, context: cluster.context))
            XCTAssertEqual(after.learner?.name, "learner")
            XCTAssertEqual(after.replay?.endpoints, ["replay": "tcp://node2:5700"])
        }
    }

    func testStatusJSONHasMembersAndAggregateFigures() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let learner = cluster.client(.learner, "learner", stats: {
                MemberStats(framesPerSecond: 2900, updatesPerSecond: 12.5, policyLag: 1.5, waitingOn: .nothingToDo)
            })
            let first = cluster.client(.worker, "worker-0", stats: { MemberStats(framesPerSecond: 1000, meanReturn: 100, waitingOn: .backpressure) })
            let second = cluster.client(.worker, "worker-1", stats: { MemberStats(framesPerSecond: 2000, meanReturn: 200) })
            XCTAssertTrue(eventually { [learner, first, second].allSatisfy(\.isRegistered) }, "\(transport)")

            let reply = try XCTUnwrap(try CoordinatorRequest.exchange(.statusRequest, [String: String](), expecting: .statusReply,
                                                                       coordinator: cluster.endpoint, context: cluster.context, timeout: .seconds(5)))
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.tensors[0].uint8s())) as? [String: Any])
            for key in ["endpoint", "run_id", "uptime_seconds", "heartbeat_interval_seconds", "members", "aggregate", "dropped_members", "dropped_messages"] {
                XCTAssertNotNil(json[key], "status has \(key), \(transport)")
            }
            let aggregate = try XCTUnwrap(json["aggregate"] as? [String: Any])
            XCTAssertEqual(aggregate["frames_per_second"] as? Double, 3000, "the workers' sum, \(transport)")
            XCTAssertEqual(aggregate["updates_per_second"] as? Double, 12.5)
            XCTAssertEqual(aggregate["policy_lag"] as? Double, 1.5)
            XCTAssertEqual(aggregate["mean_return"] as? Double, 150)
            XCTAssertEqual(aggregate["members"] as? Int, 3)
            XCTAssertEqual(aggregate["roles"] as? [String: Int], ["learner": 1, "worker": 2])
            let members = try XCTUnwrap(json["members"] as? [[String: Any]])
            XCTAssertEqual(members.map { $0["name"] as? String }, ["learner", "worker-0", "worker-1"])
            XCTAssertEqual(members.map { $0["role"] as? String }, ["learner", "worker", "worker"])
            for member in members {
                for key in ["id", "host", "pid", "heartbeat_age_seconds", "registered_seconds_ago", "stats", "endpoints"] {
                    XCTAssertNotNil(member[key], "member has \(key)")
                }
            }
            let workerStats = try XCTUnwrap(members[1]["stats"] as? [String: Any])
            XCTAssertEqual(workerStats["waiting_on"] as? String, "backpressure")
            XCTAssertEqual(workerStats["frames_per_second"] as? Double, 1000)

            let status = try CoordinatorRequest.status(coordinator: cluster.endpoint, context: cluster.context)
            XCTAssertEqual(status.runID, formatID(cluster.coordinator.runID))
            let table = StatusTable.render(status)
            XCTAssertTrue(table.contains("3 members (1 learner, 2 workers)"), table)
            XCTAssertTrue(table.contains("aggregate: 3.0k frames/s, 12.5 updates/s, policy lag 1.5, mean return 150.0"), table)
            XCTAssertTrue(table.contains("backpressure"), table)
        }
    }

    func testShutdownFromTheLearnerReachesEveryMember() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let heard = Shared<[String]>([])
            let learner = cluster.client(.learner, "learner", onShutdown: { reason in heard.update { $0.append("learner: \(reason)") } })
            let workers = (0..<3).map { index in
                cluster.client(.worker, "worker-\(index)", onShutdown: { reason in heard.update { $0.append("worker-\(index): \(reason)") } })
            }
            XCTAssertTrue(eventually { ([learner] + workers).allSatisfy(\.isRegistered) }, "\(transport)")

            learner.requestShutdown(reason: "run done: 1000000 frames")
            XCTAssertTrue(eventually { heard.get().count == 4 }, "\(heard.get()), \(transport)")
            XCTAssertEqual(Set(heard.get()), Set(["learner", "worker-0", "worker-1", "worker-2"].map { "\($0): run done: 1000000 frames" }))
            XCTAssertTrue(workers.allSatisfy { $0.shutdownReason == "run done: 1000000 frames" })
            XCTAssertEqual(cluster.coordinator.shutdownReason, "run done: 1000000 frames")
            XCTAssertTrue(eventually { cluster.logs.contains("learner asks to end the run: run done") }, "\(transport)")
            XCTAssertNil(try workers[0].waitForLearner(timeout: .seconds(1)), "no waiting once the run is over")

            // A member may stop its client from the shutdown callback itself (on the client's thread).
            let holder = Shared<CoordinatorClient?>(nil)
            let selfStopping = cluster.client(.worker, "self-stopping", onShutdown: { _ in holder.get()?.stop() }, start: false)
            holder.set(selfStopping)
            selfStopping.start()
            XCTAssertTrue(eventually { selfStopping.isRegistered }, "\(transport)")
            cluster.coordinator.broadcastShutdown(reason: "again")
            XCTAssertTrue(eventually { selfStopping.shutdownReason == "again" && !selfStopping.isRegistered }, "\(transport)")
            selfStopping.stop()

            // The coordinator's owner can order it too.
            let late = cluster.client(.worker, "late")
            XCTAssertTrue(eventually { late.isRegistered })
            cluster.coordinator.broadcastShutdown(reason: "operator")
            XCTAssertTrue(eventually { late.shutdownReason == "operator" }, "\(transport)")
        }
    }

    func testRestartedCoordinatorGetsItsMembersBack() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let learner = cluster.client(.learner, "learner", endpoints: ["data": "tcp://node1:5601"])
            let worker = cluster.client(.worker, "worker-0")
            XCTAssertTrue(eventually { learner.isRegistered && worker.isRegistered }, "\(transport)")
            let first = cluster.coordinator!

            first.stop()
            // The same address again (the tcp port the first one had).
            let second = try cluster.startCoordinator(at: transport == .tcp ? cluster.endpoint : first.configuration.endpoint)
            XCTAssertNotEqual(second.runID, first.runID)
            XCTAssertTrue(eventually { second.status().members.map(\.name) == ["learner", "worker-0"] }, "\(second.status().members), \(transport)")
            XCTAssertTrue(eventually { learner.registrations == 2 && worker.registrations == 2 }, "\(transport)")
            XCTAssertEqual(try worker.discover()?.learner?.endpoints, ["data": "tcp://node1:5601"], "\(transport)")
            XCTAssertTrue(eventually { cluster.logs.contains("registered again with") }, "\(transport)")
        }
    }

    func testMalformedMessagesAreDroppedAndCountedAndNeverStopTheCoordinator() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let dealer = try ZMQSocket(cluster.context, .dealer)
            defer { dealer.close() }
            try dealer.connect(cluster.endpoint)
            var intruder = WireSender(senderID: 0xBAD, runID: 1)

            try dealer.send([[1, 2, 3]])                                              // malformed header
            try dealer.send([Array("JUNK".utf8) + [UInt8](repeating: 0, count: 38)])  // bad magic
            try dealer.send(intruder.message(.trajectory, tensors: [WireTensor([Float(1)])]))  // not for the coordinator
            try dealer.send(intruder.message(.register, tensors: [WireTensor(utf8: "{not json")]))
            try dealer.send(intruder.control(.register, ["member": ["role": "worker", "name": "", "host": "h", "pid": 1]] as [String: [String: AnyCodable]]))
            try dealer.send(intruder.control(.register, ["member": ["role": "emperor", "name": "x", "host": "h", "pid": 1]] as [String: [String: AnyCodable]]))
            try dealer.send(intruder.message(.heartbeat, tensors: [WireTensor(utf8: "{}"), WireTensor(utf8: "{}")]))  // control: one tensor
            var badVersion = intruder.control(.statusRequest, [String: String]()).encode()
            badVersion[0][4] = 9
            try dealer.send(badVersion)
            try dealer.send(intruder.message(.heartbeat, tensors: [WireTensor([Float(1)])]))  // schema: control JSON is u8

            XCTAssertTrue(eventually { cluster.coordinator.drops.total >= 9 }, "\(cluster.coordinator.drops.snapshot()), \(transport)")
            let drops = cluster.coordinator.drops
            XCTAssertEqual(drops.count(sender: nil, reason: .malformedHeader), 1)
            XCTAssertEqual(drops.count(sender: nil, reason: .badMagic), 1)
            XCTAssertEqual(drops.count(sender: nil, reason: .unsupportedVersion), 1, "a header with another version is not trusted for its sender")
            XCTAssertEqual(drops.count(sender: 0xBAD, reason: .typeNotAccepted), 1)
            XCTAssertEqual(drops.count(sender: 0xBAD, reason: .badControlPayload), 3)
            XCTAssertEqual(drops.count(sender: 0xBAD, reason: .tooManyTensors), 1)
            XCTAssertEqual(drops.count(sender: 0xBAD, reason: .schema), 1)
            XCTAssertEqual(drops.total, 9)

            // Still serving: a member registers and status reports the refusals.
            let worker = cluster.client(.worker, "worker-0")
            XCTAssertTrue(eventually { worker.isRegistered }, "\(transport)")
            let status = try CoordinatorRequest.status(coordinator: cluster.endpoint, context: cluster.context)
            XCTAssertEqual(status.members.map(\.name), ["worker-0"])
            XCTAssertEqual(status.droppedMessages[formatID(0xBAD)]?["bad control payload"], 3)
            XCTAssertEqual(status.droppedMessages["unknown"]?["bad magic"], 1)
            XCTAssertTrue(StatusTable.render(status).contains("refused messages: 0000000000000bad: bad control payload ×3"))
        }
    }

    func testOversizeMessagesAreRefused() throws {
        for transport in TestTransport.allCases {
            let cluster = try Cluster(transport)
            let dealer = try ZMQSocket(cluster.context, .dealer)
            defer { dealer.close() }
            try dealer.connect(cluster.endpoint)
            var intruder = WireSender(senderID: 0xB16, runID: 1)
            try dealer.send(intruder.message(.heartbeat, tensors: [WireTensor([UInt8](repeating: 32, count: 2 << 20))]))
            // tcp: libzmq refuses the frame (ZMQ_MAXMSGSIZE) and drops the connection before anything is allocated;
            // inproc has no such check, so the decoder's limit counts it.
            if transport == .inproc {
                XCTAssertTrue(eventually { cluster.coordinator.drops.count(reason: .oversize) == 1 })
            }
            let worker = cluster.client(.worker, "worker-0")
            XCTAssertTrue(eventually { worker.isRegistered }, "\(transport)")
        }
    }

    func testStatusWithoutACoordinatorSaysSoInOneLine() throws {
        let context = ZMQContext()
        XCTAssertThrowsError(try CoordinatorRequest.status(coordinator: "inproc://nobody-here", context: context, timeout: .milliseconds(100))) { error in
            XCTAssertEqual("\(error)", "no coordinator answered at inproc://nobody-here within 0.1 s: is it running?")
        }
        XCTAssertThrowsError(try CoordinatorRequest.status(coordinator: "tcp://127.0.0.1:9", context: context, timeout: .milliseconds(100)))
    }

    func testBindingATakenAddressFailsClearly() throws {
        let cluster = try Cluster(.tcp)
        let second = Coordinator(configuration: .init(endpoint: cluster.endpoint, bindRetry: .zero, logger: .silent()))
        XCTAssertThrowsError(try second.start()) { error in
            XCTAssertTrue("\(error)".contains("coordinator cannot bind \(cluster.endpoint)"), "\(error)")
        }
    }
}

/// Just enough of an untyped JSON value for hand-written (and deliberately wrong) payloads.
enum AnyCodable: Encodable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String), int(Int)
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        }
    }
}
