@testable import ColonyCluster
import ColonyExperiments
import ColonyStorage
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
}
