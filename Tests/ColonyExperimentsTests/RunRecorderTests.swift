import ColonyStorage
import Foundation
import XCTest
@testable import ColonyExperiments

/// The run recorder every training loop writes through: checkpoint cadence and rotation, status.json,
/// the episode record and the stop reasons.
final class RunRecorderTests: XCTestCase {
    private var directory: RunDirectory!

    override func setUpWithError() throws {
        StopSignal.reset()
        directory = RunDirectory(path: NSTemporaryDirectory() + "colony-recorder-\(UUID().uuidString)")
        try directory.create()
    }

    override func tearDownWithError() throws {
        StopSignal.reset()
        try? FileManager.default.removeItem(atPath: directory.path)
    }

    private func recorder(keep: Int = 2, frames: Int = 0) throws -> RunRecorder {
        try RunRecorder(directory: directory, returns100: ReturnsCSV(path: directory.returns100), header: "# test\n", configuration: "a = 1\n",
                        totalFrames: 1_000, checkpointInterval: 100, keepCheckpoints: keep, frames: frames)
    }

    func testCheckpointsFollowTheIntervalAndKeepTheNewest() throws {
        let recorder = try recorder(frames: 150)
        XCTAssertEqual(try String(contentsOfFile: directory.configuration, encoding: .utf8), "# test\na = 1\n")
        XCTAssertFalse(recorder.isCheckpointDue(frames: 199))
        XCTAssertTrue(recorder.isCheckpointDue(frames: 200))
        for frames in [200, 300, 520] {
            try recorder.checkpoint(frames: frames, episodes: frames / 10) { path in
                try Data("checkpoint \(frames)".utf8).write(to: URL(fileURLWithPath: path))
            }
        }
        // After a jump past several multiples, the next one is the following multiple.
        XCTAssertFalse(recorder.isCheckpointDue(frames: 599))
        XCTAssertTrue(recorder.isCheckpointDue(frames: 600))
        XCTAssertEqual(directory.numberedCheckpoints().map { ($0 as NSString).lastPathComponent }, ["frame-0000000300.h5", "frame-0000000520.h5"])
        XCTAssertEqual(try String(contentsOfFile: directory.latestCheckpoint, encoding: .utf8), "checkpoint 520")
        let status = try XCTUnwrap(RunStatus.read(directory.status))
        XCTAssertEqual(status.state, .running)
        XCTAssertEqual(status.frames, 520)
        XCTAssertEqual(status.episodes, 52)
        XCTAssertEqual(status.totalFrames, 1_000)
    }

    func testEpisodesFillReturns100AndTheRecentMean() throws {
        let recorder = try recorder()
        XCTAssertNil(recorder.recentMeanReturn)
        for episode in 0..<250 { try recorder.recordEpisode(return: Double(episode), length: 10, frame: episode * 10) }
        XCTAssertEqual(recorder.returns100.rows.map(\.frame), [990, 1_990])
        XCTAssertEqual(recorder.lastMeanReturn, 149.5)
        XCTAssertEqual(recorder.recentMeanReturn, 199.5, "the last 100 episodes")
    }

    func testStopReasonsComeInOneOrderWithTheirWords() throws {
        let recorder = try recorder()
        XCTAssertNil(recorder.stopReason(frames: 999))
        XCTAssertEqual(recorder.stopReason(frames: 1_000), .frameBudget(1_000))
        XCTAssertEqual(recorder.stopReason(frames: 1_000, shutdownOrdered: true), .coordinatorShutdown)
        XCTAssertEqual(recorder.stopReason(frames: 0, requested: true, shutdownOrdered: true), .requested)
        XCTAssertEqual(
            [StopReason.requested, .signal(15), .coordinatorShutdown, .frameBudget(1_000)].map(\.description),
            ["stopped", "signal 15", "the coordinator ordered shutdown", "frame budget of 1000 reached"])
        XCTAssertEqual(StopReason.signal(15).signal, 15)
        XCTAssertNil(StopReason.frameBudget(1).signal)
    }
}
