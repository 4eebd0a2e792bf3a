import Foundation
import XCTest
@testable import ColonyStorage

/// Temporary files that killed writers left next to their targets are removed by the next writer of
/// that target; those of live writers, of other hosts and of other targets are left alone.
final class AtomicTemporaryFileTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-atomic-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The pid of a process that has exited (and been reaped).
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// A process killed in the middle of an atomic write, as `kill -9` leaves colony-replay's checkpoint.
    private func killedWriter(of target: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        // The child writes its temporary file under its own pid, as AtomicFile names it, then is killed.
        process.arguments = ["-c", "echo partial > \"$1.tmp-$2-$$-12345\"; exec sleep 30", "sh", target, AtomicTemporaryFile.hostName]
        try process.run()
        let pid = process.processIdentifier
        let temporary = "\(target).tmp-\(AtomicTemporaryFile.hostName)-\(pid)-12345"
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: temporary) && Date() < deadline { usleep(10_000) }
        kill(pid, SIGKILL)
        process.waitUntilExit()
        return temporary
    }

    func testTheNextWriterRemovesOnlyTemporariesOfDeadWritersOfItsTarget() throws {
        let target = directory + "/replay.h5"
        let host = AtomicTemporaryFile.hostName
        let killed = try killedWriter(of: target)
        let dead = try deadPID()
        let stale = ["\(target).tmp-\(host)-\(dead)-7", "\(target).tmp-\(dead)-8"]  // the second: named before hosts were
        let kept = [
            "\(target).tmp-\(host)-\(getpid())-9",  // a live writer (this process)
            "\(target).tmp-another-node-\(dead)-10",  // another host's writer: its pid means nothing here
            "\(directory!)/latest.h5.tmp-\(host)-\(dead)-11",  // another target's
            "\(target).tmp-notes",  // not a writer's name at all
        ]
        for path in stale + kept { try AtomicFile.write("x", to: path) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: killed))

        try HDF5File.writeAtomically(target) { try $0.write([1] as [Float], at: "v") }

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory).map { directory + "/" + $0 })
        for path in stale + [killed] { XCTAssertFalse(left.contains(path), "\(path) should have been removed") }
        for path in kept { XCTAssertTrue(left.contains(path), "\(path) should have been kept") }
        XCTAssertTrue(left.contains(target))
    }

    func testAWritersStartClearsItsDirectoryOfDeadWritersTemporaries() throws {
        let host = AtomicTemporaryFile.hostName
        let dead = try deadPID()
        let stale = ["\(directory!)/frame-0000005000.h5.tmp-\(host)-\(dead)-1", "\(directory!)/status.json.tmp-\(host)-\(dead)-2"]
        let kept = ["\(directory!)/latest.h5.tmp-\(host)-\(getpid())-3", "\(directory!)/frame-1.h5", "\(directory!)/.tmp-\(host)-\(dead)-4"]
        for path in stale + kept { try AtomicFile.write("x", to: path) }
        XCTAssertEqual(Set(AtomicFile.removeStaleTemporaries(in: directory)), Set(stale))
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory).map { directory + "/" + $0 }), Set(kept))
    }

    func testNamesCarryHostAndPid() throws {
        let name = (AtomicTemporaryFile.name(for: directory + "/status.json") as NSString).lastPathComponent
        let writer = try XCTUnwrap(AtomicTemporaryFile.writer(of: name, base: "status.json"))
        XCTAssertEqual(writer.host, AtomicTemporaryFile.hostName)
        XCTAssertEqual(writer.pid, getpid())
        XCTAssertNil(AtomicTemporaryFile.writer(of: name, base: "status"))
    }
}
