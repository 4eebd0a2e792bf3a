import Foundation
import Synchronization
import XCTest
@testable import ColonyTransport

final class WireSocketTests: XCTestCase {
    func testWireMessagesOverPushPullOnInprocAndTCP() throws {
        let context = ZMQContext()
        for endpoint in ["inproc://wire-push-pull", "tcp://127.0.0.1:*"] {
            let pull = try ZMQSocket(context, .pull)
            try pull.bind(endpoint)
            let push = try ZMQSocket(context, .push)
            try push.connect(try pull.lastEndpoint)
            let message = trajectory(steps: 64, environments: 8, observationSize: 16)
            XCTAssertTrue(try push.send(message))
            try pull.setReceiveTimeout(milliseconds: 5000)
            guard case .message(let received, let routingID)? = try pull.receiveWire(limits: limitsWithTrajectorySchema()) else {
                return XCTFail("no message over \(endpoint)")
            }
            XCTAssertNil(routingID)
            XCTAssertEqual(received, message, endpoint)
        }
    }

    /// Over inproc, libzmq passes the message itself: the receiver's tensor is the sender's memory.
    /// The buffer is freed once both sides let go of it.
    func testLargeFramesAreSentAndReceivedWithoutCopying() throws {
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.bind("inproc://zero-copy")
        let push = try ZMQSocket(context, .push)
        try push.connect("inproc://zero-copy")
        try pull.setReceiveTimeout(milliseconds: 5000)

        weak var weakBuffer: FrameBuffer?
        var sentAddress: UnsafeRawPointer?
        do {
            let tensor = WireTensor(of: Float.self, shape: [64, 256]) { values in
                for index in values.indices { values[index] = Float(index) }
            }
            weakBuffer = tensor.buffer
            sentAddress = tensor.buffer.baseAddress
            try push.send(WireMessage(type: .parameters, runID: 1, senderID: 2, sequence: 3, tensors: [tensor]))
        }
        XCTAssertNotNil(weakBuffer, "libzmq holds the buffer until the message is consumed")
        do {
            guard case .message(let received, _)? = try pull.receiveWire(limits: .default) else { return XCTFail("nothing received") }
            XCTAssertEqual(received.tensors[0].buffer.baseAddress, sentAddress, "inproc delivers the same memory")
            XCTAssertEqual(try received.tensors[0].floats()[16383], 16383)
        }
        XCTAssertNil(weakBuffer, "released when the last reference goes")
    }

    func testRouterRepliesWithRoutingIDAndCountsBadMessagesPerSender() throws {
        let context = ZMQContext()
        for endpoint in ["inproc://wire-router", "tcp://127.0.0.1:*"] {
            let router = try ZMQSocket(context, .router)
            try router.bind(endpoint)
            let dealer = try ZMQSocket(context, .dealer)
            try dealer.connect(try router.lastEndpoint)
            try router.setReceiveTimeout(milliseconds: 5000)
            try dealer.setReceiveTimeout(milliseconds: 5000)
            let drops = DropCounter()

            var worker = WireSender(senderID: 77, runID: 1)
            try dealer.send(worker.message(.trajectory, parameterVersion: 3, tensors: trajectory().tensors))
            guard case .message(let unroll, let routingID?)? = try router.receiveWire(limits: limitsWithTrajectorySchema(), routed: true, drops: drops) else {
                return XCTFail("no unroll")
            }
            XCTAssertEqual(unroll.senderID, 77)
            var learner = WireSender(senderID: 1, runID: 2)
            try router.send(learner.message(.credit, tensors: [WireTensor([Int32(1)], shape: [1])]), routingID: routingID)
            guard case .message(let credit, nil)? = try dealer.receiveWire(limits: .default) else { return XCTFail("no credit") }
            XCTAssertEqual(try credit.tensors[0].int32s(), [1])

            // Bad input from the same peer: garbage, a NaN, an envelope with nothing in it (DEALER sends an empty frame).
            try dealer.send([[1, 2, 3]])
            var poisoned = worker.message(.trajectory, tensors: trajectory().tensors)
            poisoned.tensors[2] = WireTensor([Float](repeating: .nan, count: 15), shape: [5, 3])
            try dealer.send(poisoned)
            for _ in 0..<2 {
                guard case .dropped? = try router.receiveWire(limits: limitsWithTrajectorySchema(), routed: true, drops: drops) else {
                    return XCTFail("bad message accepted over \(endpoint)")
                }
            }
            XCTAssertEqual(drops.snapshot(), ["unknown": ["malformed header": 1], formatID(77): ["non-finite": 1]], endpoint)
        }
    }

    func testReceiverBoundsTheNumberOfFramesItKeeps() throws {
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.bind("inproc://many-frames")
        let push = try ZMQSocket(context, .push)
        try push.connect("inproc://many-frames")
        try push.send([[UInt8]](repeating: [1], count: 500))
        try pull.setReceiveTimeout(milliseconds: 5000)
        let drops = DropCounter()
        guard case .dropped(let error, _, _)? = try pull.receiveWire(limits: .control(), drops: drops) else { return XCTFail() }
        XCTAssertEqual(error.reason, .malformedHeader)
        // The whole multipart message was consumed: the next one arrives intact.
        var sender = WireSender(senderID: 3, runID: 4)
        try push.send(sender.control(.heartbeat, ["ok": true]))
        guard case .message(let next, _)? = try pull.receiveWire(limits: .control()) else { return XCTFail() }
        XCTAssertEqual(next.type, .heartbeat)
    }

    func testOwningThreadJoinsAndKnowsItself() {
        let counter = DropCounter()
        let box = ThreadBox()
        let thread = OwningThread(name: "test") {
            Thread.sleep(forTimeInterval: 0.05)
            counter.record(.oversize, sender: nil)
            if let me = box.thread.withLock({ $0 }), me.isCurrent, !me.join(timeout: .seconds(1)) {
                counter.record(.schema, sender: nil)  // knew itself, and did not wait for itself
            }
        }
        box.thread.withLock { $0 = thread }
        XCTAssertFalse(thread.isCurrent)
        thread.start()
        thread.start()
        XCTAssertTrue(thread.join(timeout: .seconds(5)))
        XCTAssertTrue(thread.join(timeout: .milliseconds(1)))
        XCTAssertEqual(counter.count(reason: .oversize), 1, "started once")
        XCTAssertEqual(counter.count(reason: .schema), 1)
    }
}

private final class ThreadBox: Sendable {
    let thread = Mutex<OwningThread?>(nil)
}
