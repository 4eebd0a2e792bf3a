import Foundation
import XCTest
@testable import ColonyTransport

final class ZMQSocketTests: XCTestCase {
    func testLinksAgainstLibzmq4() {
        XCTAssertGreaterThanOrEqual(ZMQContext.version.major, 4)
    }

    func testPushPullMultipartOverTCPAndInproc() throws {
        let context = ZMQContext()
        for endpoint in ["tcp://127.0.0.1:*", "inproc://push-pull"] {
            let pull = try ZMQSocket(context, .pull)
            try pull.bind(endpoint)
            let push = try ZMQSocket(context, .push)
            try push.connect(try pull.lastEndpoint)
            let big = [UInt8](repeating: 7, count: 100_000)
            XCTAssertTrue(try push.send([[1, 2, 3], [], big]))
            try pull.setReceiveTimeout(milliseconds: 5000)
            let frames = try XCTUnwrap(try pull.receive())
            XCTAssertEqual(frames.count, 3)
            XCTAssertEqual(frames[0], [1, 2, 3])
            XCTAssertEqual(frames[1], [])
            XCTAssertEqual(frames[2], big)
        }
    }

    func testReceiveTimeoutReturnsNilAndPollerReportsReadableSockets() throws {
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.bind("inproc://timeout")
        try pull.setReceiveTimeout(milliseconds: 20)
        XCTAssertNil(try pull.receive())
        XCTAssertNil(try pull.receive(dontWait: true))

        let other = try ZMQSocket(context, .pull)
        try other.bind("inproc://other")
        let push = try ZMQSocket(context, .push)
        try push.connect("inproc://other")
        var poller = ZMQPoller()
        poller.add(pull)
        let otherIndex = poller.add(other)
        XCTAssertEqual(try poller.poll(timeout: 10), [])
        try push.send([[42]])
        XCTAssertEqual(try poller.poll(timeout: 2000), [otherIndex])
    }

    func testOversizeMessagesAreRefusedByTheReceiver() throws {
        let context = ZMQContext()
        let pull = try ZMQSocket(context, .pull)
        try pull.setMaximumMessageSize(bytes: 1024)
        try pull.bind("tcp://127.0.0.1:*")
        let push = try ZMQSocket(context, .push)
        try push.connect(try pull.lastEndpoint)
        try push.send([[UInt8](repeating: 1, count: 4096)])
        try pull.setReceiveTimeout(milliseconds: 300)
        XCTAssertNil(try pull.receive(), "a message over ZMQ_MAXMSGSIZE must never reach the application")
    }

    func testSendWithoutPeerAndDontWaitReportsBackpressure() throws {
        let context = ZMQContext()
        let push = try ZMQSocket(context, .push)
        try push.setHighWaterMarks(send: 1, receive: 1)
        try push.bind("inproc://nobody")
        XCTAssertFalse(try push.send([[1]], dontWait: true), "PUSH without a peer blocks; dontWait must report it")
    }

    func testErrorsCarryFunctionAndEndpoint() throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context, .pull)
        XCTAssertThrowsError(try socket.bind("bogus://endpoint")) { error in
            XCTAssertTrue("\(error)".contains("zmq_bind"), "\(error)")
            XCTAssertTrue("\(error)".contains("bogus://endpoint"), "\(error)")
        }
        socket.close()
        XCTAssertThrowsError(try socket.receive())
    }

    func testContextShutdownUnblocksAReceiverOnItsOwnThread() throws {
        let context = ZMQContext()
        let finished = expectation(description: "receiver returned")
        let thread = Thread {
            do {
                let socket = try ZMQSocket(context, .pull)
                try socket.bind("inproc://blocked")
                _ = try socket.receive()
            } catch let error as ZMQError {
                if error.isTerminated { finished.fulfill() }
            } catch {}
        }
        thread.start()
        Thread.sleep(forTimeInterval: 0.1)
        context.shutdown()
        wait(for: [finished], timeout: 5)
    }
}
