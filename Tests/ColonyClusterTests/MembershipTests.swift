import ColonyCluster
import ColonyTransport
import Foundation
import XCTest

final class MembershipTests: XCTestCase {
    func testMemberStatsAreOneFlatJSONObject() throws {
        let stats = MemberStats(framesPerSecond: 5210.5, policyLag: 1.25, waitingOn: .rateLimiter, extra: ["episodes": 31, "bad": .nan])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(stats), as: UTF8.self)
        XCTAssertEqual(json, #"{"episodes":31,"frames_per_second":5210.5,"policy_lag":1.25,"waiting_on":"rate limiter"}"#)
        var expected = stats
        expected.extra = ["episodes": 31]
        XCTAssertEqual(try JSONDecoder().decode(MemberStats.self, from: Data(json.utf8)), expected)

        // Free-form extras: numbers kept, anything else ignored; the named fields are typed.
        let loose = try JSONDecoder().decode(MemberStats.self, from: Data(#"{"note": "hi", "loss": 0.5}"#.utf8))
        XCTAssertEqual(loose, MemberStats(extra: ["loss": 0.5]))
        XCTAssertThrowsError(try JSONDecoder().decode(MemberStats.self, from: Data(#"{"frames_per_second": "fast"}"#.utf8)))
    }

    func testAggregateFigures() {
        func member(_ role: MemberRole, _ stats: MemberStats) -> ClusterStatus.Member {
            ClusterStatus.Member(id: "1", role: role, name: "m", host: "h", pid: 1, endpoints: [:], heartbeatAgeSeconds: 0, registeredSecondsAgo: 0, stats: stats)
        }
        let onlyLearner = ClusterStatus.Aggregate(members: [member(.learner, MemberStats(framesPerSecond: 800, updatesPerSecond: 3))])
        XCTAssertEqual(onlyLearner.framesPerSecond, 800, "the learner's figure when no worker reports one")
        XCTAssertEqual(onlyLearner.updatesPerSecond, 3)
        XCTAssertNil(onlyLearner.policyLag)
        let workersOnly = ClusterStatus.Aggregate(members: [member(.worker, MemberStats(policyLag: 1)), member(.worker, MemberStats(policyLag: 3))])
        XCTAssertEqual(workersOnly.policyLag, 2, "the workers' mean when no learner measures it")
        XCTAssertNil(workersOnly.framesPerSecond)
        XCTAssertEqual(workersOnly.roles, ["worker": 2])
    }

    func testStatusTableReadsWell() {
        let status = ClusterStatus(
            endpoint: "tcp://0.0.0.0:5555", runID: "00000000000000aa", uptimeSeconds: 725, heartbeatIntervalSeconds: 1,
            members: [
                .init(id: "1", role: .learner, name: "learner", host: "node1", pid: 4121, endpoints: [:], heartbeatAgeSeconds: 0.31,
                      registeredSecondsAgo: 700, stats: MemberStats(framesPerSecond: 45100, updatesPerSecond: 12, policyLag: 1.3)),
                .init(id: "2", role: .worker, name: "worker-0", host: "node2", pid: 977, endpoints: [:], heartbeatAgeSeconds: 0.8,
                      registeredSecondsAgo: 700, stats: MemberStats(framesPerSecond: 45100, meanReturn: 187.2, waitingOn: .backpressure)),
            ],
            aggregate: .init(members: []), droppedMembers: [
                .init(id: "3", role: .worker, name: "worker-9", host: "node3", pid: 5, silentSeconds: 3.2, droppedSecondsAgo: 12),
            ],
            droppedMessages: [:], shutdownReason: nil)
        var withAggregate = status
        withAggregate.aggregate = .init(members: status.members)
        let text = StatusTable.render(withAggregate)
        XCTAssertEqual(text, """
            coordinator tcp://0.0.0.0:5555  run 00000000000000aa  up 12m05s  heartbeat 1.0 s  2 members (1 learner, 1 worker)

            ROLE     NAME      HOST   PID   HEARTBEAT  FRAMES/S  UPDATES/S  WAITING ON
            learner  learner   node1  4121  0.3 s      45.1k     12.0       -
            worker   worker-0  node2  977   0.8 s      45.1k     -          backpressure

            aggregate: 45.1k frames/s, 12.0 updates/s, policy lag 1.3, mean return 187.2
            dropped 12 s ago: worker worker-9 (node3, pid 5), silent for 3.2 s
            """)
    }
}
