@testable import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// The cluster file's run-directory settings that learners share with `colony train`.
final class ClusterSettingsTests: XCTestCase {
    private func settings(_ cluster: String) throws -> ClusterSettings {
        let text = "algorithm = \"impala\"\nenv = \"CartPole-v1\"\n[cluster]\n" + cluster
        return try ClusterSettings(document: try TOMLDocument(parsing: text), source: "test.toml")
    }

    func testKeepCheckpointsDefaultsToTheTrainersAndIsValidated() throws {
        XCTAssertEqual(try settings("").keepCheckpoints, RunRecorder.defaultKeepCheckpoints)
        XCTAssertEqual(try settings("keep_checkpoints = 7").keepCheckpoints, 7)
        for bad in ["keep_checkpoints = 0", "keep_checkpoints = \"3\""] {
            XCTAssertThrowsError(try settings(bad)) { error in
                XCTAssertTrue("\(error)".contains("'cluster.keep_checkpoints' must be an integer in 1...10000"), "\(error)")
            }
        }
    }

    func testHoldAtTargetIsABooleanForEveryAlgorithm() throws {
        XCTAssertFalse(try settings("").holdsAtTarget)
        XCTAssertTrue(try settings("hold_at_target = true").holdsAtTarget)
        XCTAssertThrowsError(try settings("hold_at_target = 1")) { error in
            XCTAssertTrue("\(error)".contains("'cluster.hold_at_target' must be true or false"), "\(error)")
        }
        let apex = "algorithm = \"apex_dqn\"\nenv = \"CartPole-v1\"\n[cluster]\nhold_at_target = true\n"
        // Ape-X's replay server holds with its learner (ReplayHold).
        XCTAssertTrue(try ClusterSettings(document: try TOMLDocument(parsing: apex), source: "apex.toml").holdsAtTarget)
    }

    /// The files a held learner and its population meet through: a release the learner cannot read is an error that
    /// says what the file should hold, not a guess.
    func testHoldFilesRoundTripAndADamagedReleaseIsRefused() throws {
        let directory = RunDirectory(path: NSTemporaryDirectory() + "colony-hold-\(UUID().uuidString)")
        try directory.create()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        XCTAssertNil(try LearnerHold.pendingRelease(in: directory))
        XCTAssertNil(LearnerHold.held(in: directory))
        try LearnerHold.release(directory, to: 8000)
        XCTAssertEqual(try LearnerHold.pendingRelease(in: directory), LearnerHold.Release(target: 8000))
        try LearnerHold.recordHeld(.init(frames: 4010, target: 4000, version: 12), in: directory)
        XCTAssertEqual(LearnerHold.held(in: directory), LearnerHold.Held(frames: 4010, target: 4000, version: 12))
        try LearnerHold.clearHeld(in: directory)
        XCTAssertNil(LearnerHold.held(in: directory))
        try AtomicFile.write("{\"frames\": 8000}\n", to: LearnerHold.releasePath(directory))
        XCTAssertThrowsError(try LearnerHold.pendingRelease(in: directory)) { error in
            XCTAssertTrue("\(error)".contains("release.json is not a release ({\"target\": <frames>})"), "\(error)")
        }
    }
}
