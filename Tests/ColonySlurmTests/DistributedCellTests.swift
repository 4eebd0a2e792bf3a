import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// A distributed grid cell (`colony experiment submit --distributed`) on the real local Slurm cluster:
/// one three-node job whose coordinator and learner run on node1 and whose workers run on node2 and node3.
final class DistributedCellTests: XCTestCase {
    private var colonyPath = ""
    private var root = ""

    override func setUpWithError() throws {
        try LocalCluster.ensureUp()
        colonyPath = try LocalCluster.colonyBinary()
        for role in ["colony-coordinator", "colony-learner", "colony-worker"] {
            let path = URL(fileURLWithPath: colonyPath).deletingLastPathComponent().appendingPathComponent(role).path
            guard FileManager.default.isExecutableFile(atPath: path) else { throw ClusterError("no \(role) beside \(colonyPath): build every product") }
        }
        root = NSTemporaryDirectory() + "colony-slurm-tests/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let experiment = try? SlurmExperiment(directory: root + "/runs/d", client: LocalCluster.client) { _ = try? experiment.cancel() }
        if testRun?.hasSucceeded == true { try? FileManager.default.removeItem(atPath: root) }
    }

    func testDistributedCellRunsTheLearnerOnTheFirstNodeAndWorkersOnTheOthers() throws {
        let frames = 100_000
        let refused = try colony("experiment", "submit", "--distributed", "--agents", "dqn", "--envs", "CartPole-v1", "--name", "bad")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("cannot run distributed"), refused.output)

        let submit = try colony(
            "experiment", "submit", "--distributed", "--nodes", "3", "--workers-per-node", "1", "--agents", "impala", "--envs", "CartPole-v1",
            "--frames", "\(frames)", "--name", "d")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/d", client: LocalCluster.client)
        let script = try String(contentsOfFile: experiment.directory + "/slurm/array.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --nodes=3"), script)
        XCTAssertTrue(FileManager.default.fileExists(atPath: experiment.clusterFilePath(0)))

        try waitFor("the distributed cell to be done", timeout: 80) { try experiment.report().cells.allSatisfy { $0.state == .done } }
        let cell = experiment.grid.cells[0]
        let directory = RunDirectory(path: cell.runDirectory)
        XCTAssertFalse(try ReturnsCSV.read(directory.returns100).isEmpty, "\(directory.returns100) has rows")
        let status = try XCTUnwrap(RunStatus.read(directory.status))
        XCTAssertEqual(status.state, .done)
        XCTAssertGreaterThanOrEqual(status.frames, frames)

        // The roles log the Slurm node they run on (stderr of the job: learner and worker log lines).
        let job = try XCTUnwrap(experiment.report().cells[0].job)
        let log = try String(contentsOfFile: experiment.logDirectory + "/\(job).err", encoding: .utf8)
            + String(contentsOfFile: experiment.logDirectory + "/\(job).out", encoding: .utf8)
        let placements = log.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let range = line.range(of: " on Slurm node ") else { return nil }
            let role = line.contains("learner on") ? "learner" : "worker"
            return (role, String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces))
        }
        XCTAssertEqual(placements.filter { $0.0 == "learner" }.map(\.1), ["node1"], log)
        XCTAssertEqual(Set(placements.filter { $0.0 == "worker" }.map(\.1)), ["node2", "node3"], log)
        XCTAssertEqual(placements.filter { $0.0 == "worker" }.count, 2, log)

        let report = try colony("experiment", "status", "runs/d")
        XCTAssertEqual(report.status, 0, report.output)
        XCTAssertTrue(report.output.contains("1 cells: 1 done"), report.output)
    }

    private func colony(_ arguments: String...) throws -> LocalCluster.Result {
        try LocalCluster.shell([colonyPath] + arguments, in: root)
    }

    private func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let queue = (try? LocalCluster.shell(["squeue", "--states=all", "--array"]).output) ?? ""
        throw ClusterError("timed out after \(Int(timeout)) s waiting for \(what); squeue:\n\(queue)")
    }
}
