@testable import ColonyCluster
import XCTest

final class FairRequestQueueTests: XCTestCase {
    private let a: [UInt8] = [1], b: [UInt8] = [2], c: [UInt8] = [3]

    private func drain(_ queue: inout FairRequestQueue<String>) -> [String] {
        var served: [String] = []
        while let head = queue.head {
            served.append(head)
            queue.removeHead()
        }
        return served
    }

    func testConnectionsAreServedInTurn() {
        var queue = FairRequestQueue<String>(capacity: 100)
        for index in 0..<4 { _ = queue.append("a\(index)", from: a) }
        _ = queue.append("b0", from: b)
        _ = queue.append("b1", from: b)
        _ = queue.append("c0", from: c)
        XCTAssertEqual(queue.count, 7)
        XCTAssertEqual(drain(&queue), ["a0", "b0", "c0", "a1", "b1", "a2", "a3"])
        XCTAssertTrue(queue.isEmpty)
        XCTAssertNil(queue.head)
    }

    func testAStartedHeadKeepsItsTurnUntilRemoved() {
        var queue = FairRequestQueue<String>(capacity: 100)
        _ = queue.append("a0", from: a)
        _ = queue.append("a1", from: a)
        queue.updateHead("a0 half done")
        _ = queue.append("b0", from: b)
        XCTAssertEqual(queue.head, "a0 half done")
        queue.updateHead("a0 done")
        XCTAssertEqual(drain(&queue), ["a0 done", "b0", "a1"])
    }

    func testAFullQueueEvictsTheLongestConnectionsNewest() {
        var queue = FairRequestQueue<String>(capacity: 4)
        for index in 0..<4 {
            guard case .held = queue.append("a\(index)", from: a) else { return XCTFail("a\(index) not held") }
        }
        guard case .refused = queue.append("a4", from: a) else { return XCTFail("the flooder's own queue is the longest") }
        guard case .heldEvicting(let evicted) = queue.append("b0", from: b) else { return XCTFail("b0 not held") }
        XCTAssertEqual(evicted, "a3")
        guard case .heldEvicting(let second) = queue.append("c0", from: c) else { return XCTFail("c0 not held") }
        XCTAssertEqual(second, "a2")
        XCTAssertEqual(queue.count, 4)
        // a holds a0 and a1 now, b and c one each: b's second request takes a1's place. A head (maybe
        // started) is never taken: with one request left, a is not evicted from again.
        guard case .heldEvicting(let third) = queue.append("b1", from: b) else { return XCTFail("b1 not held") }
        XCTAssertEqual(third, "a1")
        guard case .refused = queue.append("b2", from: b) else { return XCTFail("b is now the longest") }
        guard case .heldEvicting(let fourth) = queue.append("d0", from: [4]) else { return XCTFail("d0 not held") }
        XCTAssertEqual(fourth, "b1")
        guard case .refused = queue.append("e0", from: [5]) else { return XCTFail("every queue holds only its head") }
        XCTAssertEqual(drain(&queue), ["a0", "b0", "c0", "d0"])
    }
}
