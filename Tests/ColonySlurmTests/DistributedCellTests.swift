import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// Distributed grid cells (`colony experiment submit --distributed`) on the real local Slurm cluster: three-node
/// jobs whose coordinator, learner and (Ape-X) replay server run on node1 and whose workers run on node2 and node3,
/// and one that is signalled mid-run, requeues itself and resumes.
final class DistributedCellTests: XCTestCase {
    private var colonyPath = ""
    private var root = ""

    override func setUpWithError() throws {
        try LocalCluster.ensureUp()
        colonyPath = try LocalCluster.colonyBinary()
        for role in ["colony-coordinator", "colony-learner", "colony-worker", "colony-replay"] {
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

        // The roles log the Slurm node they run on (stderr of the job).
        let placements = try roleNodes(experiment)
        XCTAssertEqual(placements["learner"], ["node1"])
        XCTAssertEqual(placements["coordinator"], ["node1"])
        XCTAssertNil(placements["replay server"], "IMPALA has no replay server")
        XCTAssertEqual(placements["worker"]?.sorted(), ["node2", "node3"])

        // The roles listened on the head's address with CURVE: the cell made its keys, private to the user.
        let keys = experiment.directory + "/slurm/keys/0"
        for (path, mode) in [(keys, 0o700), (keys + "/server.key", 0o600), (keys + "/members/member.key", 0o600)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            XCTAssertEqual((attributes[.posixPermissions] as? Int ?? -1) & 0o777, mode, path)
        }

        let report = try colony("experiment", "status", "runs/d")
        XCTAssertEqual(report.status, 0, report.output)
        XCTAssertTrue(report.output.contains("1 cells: 1 done"), report.output)
    }

    /// Ape-X DQN as a distributed cell: colony-replay joins the coordinator and the learner on the first node.
    func testApexCellRunsTheReplayServerBesideTheLearnerAndWorkersOnTheOtherNodes() throws {
        let frames = 20_000
        let refused = try colony("experiment", "submit", "--agents", "apex_dqn", "--envs", "CartPole-v1", "--name", "single")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("apex_dqn runs only as a cluster") && refused.output.contains("--distributed"), refused.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/runs/single"), "nothing written for a refused grid")

        let submit = try colony(
            "experiment", "submit", "--distributed", "--nodes", "3", "--workers-per-node", "1", "--agents", "apex_dqn", "--envs", "CartPole-v1",
            "--frames", "\(frames)", "--test-episodes", "5", "--name", "d")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/d", client: LocalCluster.client)
        let script = try String(contentsOfFile: experiment.directory + "/slurm/array.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("\nreplay_cells=\" 0 \"\n"), script)
        let clusterFile = try String(contentsOfFile: experiment.clusterFilePath(0), encoding: .utf8)
        XCTAssertTrue(clusterFile.contains("algorithm = \"apex_dqn\"") && clusterFile.contains("eval_episodes = 5"), clusterFile)

        try waitFor("the Ape-X cell to be done", timeout: 90) { try experiment.report().cells.allSatisfy { $0.state == .done } }
        let out = try waitForTheScriptToEnd(experiment)
        let directory = RunDirectory(path: experiment.grid.cells[0].runDirectory)
        let status = try XCTUnwrap(RunStatus.read(directory.status))
        XCTAssertEqual(status.state, .done)
        XCTAssertGreaterThanOrEqual(status.frames, frames)
        XCTAssertNotNil(status.testMeanReturn, "the learner's last evaluation")
        XCTAssertFalse(try ReturnsCSV.read(directory.returns100).isEmpty, "\(directory.returns100) has rows")
        XCTAssertFalse(try ReturnsCSV.read(directory.path + "/returns-eval.csv").isEmpty, "the learner evaluated its greedy policy")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.path + "/replay.h5"), "the replay server checkpointed into the cell's run directory")

        let placements = try roleNodes(experiment)
        XCTAssertEqual(placements["coordinator"], ["node1"])
        XCTAssertEqual(placements["replay server"], ["node1"])
        XCTAssertEqual(placements["learner"], ["node1"])
        XCTAssertEqual(placements["worker"]?.sorted(), ["node2", "node3"])
        XCTAssertTrue(out.contains("coordinator, learner, replay server on node1"), out)
        XCTAssertTrue(out.contains("learner exited with 0"), out)
    }

    /// What Slurm sends before the time limit (`--signal=B:USR1@S`), sent mid-run to a distributed Ape-X cell:
    /// the batch shell stops every role, the learner and the replay server checkpoint, the task requeues itself,
    /// and the next start resumes both: the learner's frame counter and the replay table go on from where they stopped.
    func testSignalledDistributedCellCheckpointsRequeuesItselfAndResumes() throws {
        let frames = 60_000
        let submit = try colony(
            "experiment", "submit", "--distributed", "--nodes", "3", "--workers-per-node", "1", "--agents", "apex_dqn", "--envs", "CartPole-v1",
            "--frames", "\(frames)", "--checkpoint-every", "10000", "--test-episodes", "3", "--name", "d")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/d", client: LocalCluster.client)
        let script = try String(contentsOfFile: experiment.directory + "/slurm/array.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --signal=B:USR1@120\n#SBATCH --requeue\n"), script)
        let job = try XCTUnwrap(experiment.record().arrays.first?.jobID)
        let directory = RunDirectory(path: experiment.grid.cells[0].runDirectory)
        try waitFor("a first checkpoint", timeout: 60) { FileManager.default.fileExists(atPath: directory.latestCheckpoint) }

        let signal = try LocalCluster.shell(["scancel", "--signal=USR1", "--batch", "\(job)_0"])
        XCTAssertEqual(signal.status, 0, signal.output)
        var states: [CellState] = []
        try waitFor("the cell to requeue, restart and finish", timeout: 150) {
            let state = try experiment.report().cells[0].state
            if states.last != state { states.append(state) }
            return state == .done
        }
        XCTAssertTrue(states.contains(.pending), "the requeued task waited in the queue: \(states)")

        let out = try waitForTheScriptToEnd(experiment)
        let err = try String(contentsOfFile: experiment.logDirectory + "/\(job)_0.err", encoding: .utf8)
        XCTAssertTrue(out.contains("colony: SIGUSR1"), out)
        XCTAssertTrue(out.contains("colony: requeued \(job)_0 (restart 1 of at most 20)"), out)
        XCTAssertTrue(out.contains("as task \(job)_0, restart 1:"), "the same array task started again, SLURM_RESTART_COUNT 1\n\(out)")
        XCTAssertTrue(out.contains("learner exited with 0"), out)

        // The learner stopped with a checkpoint at frame N and the next start resumed from frame N.
        let stopFrame = try XCTUnwrap(number(after: "learner stopped: signal 15 at frame ", in: err), err)
        let resumeFrame = try XCTUnwrap(number(after: "resuming from \(directory.latestCheckpoint) at frame ", in: err), err)
        XCTAssertEqual(resumeFrame, stopFrame, "the frame counter continues from the checkpoint")
        XCTAssertGreaterThanOrEqual(stopFrame, 10_000)
        XCTAssertLessThan(stopFrame, frames)
        // The replay server wrote its table on SIGTERM and the next start restored all of it.
        let stored = try XCTUnwrap(number(after: "replay server stopped: stopped; ", in: err), err)
        let restored = try XCTUnwrap(number(after: "replay info: restored ", in: err), err)
        XCTAssertGreaterThan(stored, 0)
        XCTAssertEqual(restored, stored, err)
        XCTAssertTrue(err.contains("items from \(directory.path)/replay.h5"), err)

        let status = try XCTUnwrap(RunStatus.read(directory.status))
        XCTAssertEqual(status.state, .done)
        XCTAssertGreaterThanOrEqual(status.frames, frames)
        let rows = try ReturnsCSV.read(directory.returns100).map(\.frame)
        XCTAssertEqual(rows, rows.sorted())
        XCTAssertEqual(Set(rows).count, rows.count, "no row repeated across the two starts")
        XCTAssertTrue(rows.contains { $0 < stopFrame } && rows.contains { $0 > stopFrame }, "rows from both starts: \(rows)")
    }

    /// The cell's `.out` log once its batch script has ended: status.json says done as soon as the learner
    /// reaches the frame budget, a moment before the replay server's last checkpoint and the script's last line.
    private func waitForTheScriptToEnd(_ experiment: SlurmExperiment) throws -> String {
        let path = experiment.logDirectory + "/\(try XCTUnwrap(experiment.report().cells[0].job)).out"
        func log() -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        try waitFor("the batch script to end", timeout: 60) { log().contains("learner exited with") }
        return log()
    }

    /// The Slurm node of each role, from the lines every role logs as it starts (`worker 1 on Slurm node node3`).
    private func roleNodes(_ experiment: SlurmExperiment) throws -> [String: [String]] {
        let job = try XCTUnwrap(experiment.report().cells[0].job)
        let log = try String(contentsOfFile: experiment.logDirectory + "/\(job).err", encoding: .utf8)
        var nodes: [String: [String]] = [:]
        for line in log.split(separator: "\n") {
            guard let marker = line.range(of: " on Slurm node "), let colon = line[..<marker.lowerBound].range(of: ": ", options: .backwards) else { continue }
            let member = String(line[colon.upperBound..<marker.lowerBound])
            let role = member.hasPrefix("worker ") ? "worker" : member
            nodes[role, default: []].append(line[marker.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        return nodes
    }

    /// The integer that follows the first occurrence of `prefix` in `text`.
    private func number(after prefix: String, in text: String) -> Int? {
        guard let range = text.range(of: prefix) else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
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
