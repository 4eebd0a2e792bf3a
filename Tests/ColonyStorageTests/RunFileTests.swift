import Foundation
import XCTest
@testable import ColonyStorage

final class ReturnsCSVTests: XCTestCase {
    func testOneRowPerHundredEpisodesWithPopulationStd() throws {
        let directory = NSTemporaryDirectory() + "colony-csv-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/returns100.csv"
        let csv = ReturnsCSV(path: path)
        var rows: [ReturnsCSV.Row] = []
        for episode in 0..<250 {
            if let row = try csv.record(episodeReturn: Double(episode % 10), frame: (episode + 1) * 20) { rows.append(row) }
        }
        XCTAssertEqual(rows.count, 2)
        // Returns 0...9 repeated: mean 4.5, population std sqrt(8.25).
        XCTAssertEqual(rows[0], ReturnsCSV.Row(frame: 2000, mean: 4.5, std: 8.25.squareRoot(), max: 9, min: 0))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, "2000,4.5,\(8.25.squareRoot()),9.0,0.0\n4000,4.5,\(8.25.squareRoot()),9.0,0.0\n")
        XCTAssertEqual(csv.pendingReturns.count, 50)
        // A resumed writer keeps the rows already written.
        let resumed = ReturnsCSV(path: path)
        XCTAssertEqual(resumed.rows, rows)
    }

    func testMalformedCSVIsAnErrorNamingTheLine() throws {
        let path = NSTemporaryDirectory() + "colony-bad-\(UUID().uuidString).csv"
        try AtomicFile.write("100,1,0\nnot,a,row\n", to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try ReturnsCSV.read(path)) { XCTAssertTrue("\($0)".contains(":2:"), "\($0)") }
    }
}

final class TensorBoardWriterTests: XCTestCase {
    func testCRC32CKnownValue() {
        // RFC 3720 test vector: 32 bytes of zeros.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    /// TensorBoard's own reader must load the scalars and the text summary.
    func testTensorBoardReadsScalarsAndText() throws {
        guard let python = ReferencePython.withModules(["tensorboard"]) else {
            throw XCTSkip("no Python with tensorboard (make test creates .venv-ref)")
        }
        let directory = NSTemporaryDirectory() + "colony-tb-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try TensorBoardWriter(directory: directory)
        for step in 0..<5 { writer.scalar("charts/episodic_return", Double(step) * 10 + 0.5, step: step * 100) }
        writer.scalar("summary/returns100/mean", 475.25, step: 1000)
        writer.text("config", "agent = \"ppo\"", step: 0)
        try writer.flush()
        let script = """
        import sys
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0, 'tensors': 0})
        acc.Reload()
        values = [(e.step, e.value) for e in acc.Scalars('charts/episodic_return')]
        assert values == [(0, 0.5), (100, 10.5), (200, 20.5), (300, 30.5), (400, 40.5)], values
        assert acc.Scalars('summary/returns100/mean')[0].value == 475.25
        text = acc.Tensors('config')[0].tensor_proto.string_val[0].decode()
        assert text == 'agent = "ppo"', text
        print('ok')
        """
        XCTAssertEqual(try python.run(script, arguments: [directory]).trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n").last, "ok")
    }
}

final class TensorBoardWriterMemoryTests: XCTestCase {
    /// Events are handed to the file as they accumulate: a long run without explicit flushes must not
    /// hold its whole history in memory.
    func testEventsReachTheFileWithoutAnExplicitFlush() throws {
        let directory = NSTemporaryDirectory() + "colony-tb-mem-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try TensorBoardWriter(directory: directory)
        for step in 0..<20_000 { writer.scalar("charts/episodic_return", Double(step), step: step) }
        let size = (try FileManager.default.attributesOfItem(atPath: writer.path)[.size] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(size, 20_000 * 30 - TensorBoardWriter.writeThreshold, "events stayed in memory")
    }
}
