import ColonyExperiments
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest

/// Grids submitted with the real `colony` binary to the real local Slurm cluster (no fake sbatch):
/// a whole grid, a cell that is signalled mid-run, cancelling and resubmitting, and the dry run.
final class LocalClusterTests: XCTestCase {
    /// Agents of the test grid, each a real registered agent (the cells run in separate `colony` processes).
    /// Two learning agents × two environments × two seeds; COLONY_SLURM_TEST_AGENTS (e.g. `random`) and
    /// COLONY_SLURM_TEST_FRAMES change it. With one agent the grid has 4 seeds, so it is always 8 cells.
    static let defaultAgents = ["dqn", "ppo"]
    static let environments = ["CartPole-v1", "MountainCar-v0"]
    /// 24000 frames: at least 100 MountainCar episodes (200 steps each, 8 or 1 environments), so every run
    /// writes a returns100.csv row; CartPole's early episodes are far shorter.
    static let defaultFrames = 24_000

    static var agents: [String] {
        ProcessInfo.processInfo.environment["COLONY_SLURM_TEST_AGENTS"]?.split(separator: ",").map(String.init) ?? defaultAgents
    }
    static var frames: Int { ProcessInfo.processInfo.environment["COLONY_SLURM_TEST_FRAMES"].flatMap { Int($0) } ?? defaultFrames }

    private var colonyPath = ""
    private var root = ""

    override func setUpWithError() throws {
        try LocalCluster.ensureUp()
        colonyPath = try LocalCluster.colonyBinary()
        root = NSTemporaryDirectory() + "colony-slurm-tests/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        // Nothing of a test may keep running: cancel whatever it left in the queue, then remove its files.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/runs")) ?? [] {
            if let experiment = try? SlurmExperiment(directory: root + "/runs/" + name, client: LocalCluster.client) { _ = try? experiment.cancel() }
        }
        if testRun?.hasSucceeded == true { try? FileManager.default.removeItem(atPath: root) }
    }

    func testGridCompletesOnTheClusterAndResubmitRerunsOnlyABrokenCell() throws {
        let agents = Self.agents
        let seeds = agents.count >= 2 ? 2 : 4
        let submit = try colony(
            "experiment", "submit", "--agents", agents.joined(separator: ","), "--envs", Self.environments.joined(separator: ","),
            "--seeds", "\(seeds)", "--frames", "\(Self.frames)", "--test-episodes", "3", "--name", "grid", "--throttle", "6")
        XCTAssertEqual(submit.status, 0, submit.output)
        XCTAssertTrue(submit.output.contains("submitted array job"), submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/grid", client: LocalCluster.client)
        XCTAssertEqual(experiment.grid.cells.count, 8)
        let first = try experiment.record().arrays
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first.first?.array.cells, Array(0..<8))
        let script = try String(contentsOfFile: experiment.directory + "/slurm/array.sbatch", encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --array=0-7%6"), script)

        try waitFor("every cell to be done", timeout: 180) { try experiment.report().cells.allSatisfy { $0.state == .done } }
        for cell in experiment.grid.cells {
            let directory = RunDirectory(path: cell.runDirectory)
            XCTAssertFalse(try ReturnsCSV.read(directory.returns100).isEmpty, "\(directory.returns100) has rows")
            let status = try XCTUnwrap(RunStatus.read(directory.status))
            XCTAssertEqual(status.state, .done)
            XCTAssertEqual(status.frames, Self.frames)
            let attempt = try XCTUnwrap(experiment.cellRecord(cell.index)?.attempts.last)
            XCTAssertEqual(attempt.outcome, .done)
            XCTAssertEqual(attempt.taskID, cell.index)
            XCTAssertNotNil(attempt.firstFrame, "the cell records when training began")
        }
        let nodes = Set(experiment.grid.cells.compactMap { experiment.cellRecord($0.index)?.attempts.first?.node })
        XCTAssertGreaterThan(nodes.count, 1, "the array spreads over the nodes: \(nodes)")
        let status = try colony("experiment", "status", "runs/grid")
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("8 cells: 8 done"), status.output)
        let plot = try colony("plot", "runs/grid", "-o", "curves.svg")
        XCTAssertTrue(plot.output.contains("8 runs"), plot.output)

        // Break one cell's run directory: resubmit runs that cell and no other.
        let broken = experiment.grid.cells[5]
        let before = Dictionary(uniqueKeysWithValues: experiment.grid.cells.map { ($0.index, RunStatus.read(RunDirectory(path: $0.runDirectory).status)?.updated) })
        try FileManager.default.removeItem(atPath: broken.runDirectory)
        XCTAssertEqual(try experiment.report().cells[5].state, .failed)
        let resubmit = try colony("experiment", "resubmit", "runs/grid")
        XCTAssertEqual(resubmit.status, 0, resubmit.output)
        XCTAssertTrue(resubmit.output.contains("resubmitting 1 of 8 cells: 5"), resubmit.output)
        let arrays = try experiment.record().arrays
        XCTAssertEqual(arrays.count, 2)
        XCTAssertEqual(arrays.last?.array.cells, [5])
        XCTAssertEqual(arrays.last?.script, "slurm/resubmit-1.sbatch")
        try waitFor("the resubmitted cell to be done", timeout: 120) { try experiment.report().cells[5].state == .done }
        XCTAssertFalse(try ReturnsCSV.read(RunDirectory(path: broken.runDirectory).returns100).isEmpty)
        for cell in experiment.grid.cells where cell.index != 5 {
            XCTAssertEqual(RunStatus.read(RunDirectory(path: cell.runDirectory).status)?.updated, before[cell.index]!, "cell \(cell.index) was not run again")
            XCTAssertEqual(experiment.cellRecord(cell.index)?.attempts.count, 1)
        }
        XCTAssertEqual(experiment.cellRecord(5)?.attempts.count, 2)
        let nothing = try colony("experiment", "resubmit", "runs/grid")
        XCTAssertTrue(nothing.output.contains("nothing to resubmit"), nothing.output)

        // Once Slurm has purged the finished tasks (MinJobAge), the cells' own files still tell.
        let firstJob = first[0].jobID
        try waitFor("the first array to leave the queue", timeout: 120) { try LocalCluster.client.queue().allSatisfy { $0.arrayJobID != firstJob } }
        let report = try experiment.report()
        XCTAssertTrue(report.cells.allSatisfy { $0.state == .done }, report.table())
        XCTAssertNil(report.cells[0].queueState)
    }

    func testSignalledCellCheckpointsRequeuesItselfAndResumes() throws {
        let frames = 800_000
        let submit = try colony(
            "experiment", "submit", "--agents", "random", "--envs", "CartPole-v1", "--frames", "\(frames)", "--checkpoint-every", "50000",
            "--test-episodes", "3", "--name", "requeue")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/requeue", client: LocalCluster.client)
        let job = try XCTUnwrap(experiment.record().arrays.first?.jobID)
        let directory = RunDirectory(path: experiment.grid.cells[0].runDirectory)
        try waitFor("a first checkpoint", timeout: 90) { (RunStatus.read(directory.status)?.frames ?? 0) >= 50_000 }

        // What Slurm sends before the time limit (--signal=B:USR1@S), sent now.
        let signal = try LocalCluster.shell(["scancel", "--signal=USR1", "--batch", "\(job)_0"])
        XCTAssertEqual(signal.status, 0, signal.output)
        var states: [CellState] = []
        try waitFor("the cell to requeue, restart and finish", timeout: 180) {
            let state = try experiment.report().cells[0].state
            if states.last != state { states.append(state) }
            return state == .done
        }
        XCTAssertTrue(states.contains(.requeued), "status showed the requeue: \(states)")

        let attempts = try XCTUnwrap(experiment.cellRecord(0)).attempts
        XCTAssertEqual(attempts.count, 2)
        let stop = attempts[0], resume = attempts[1]
        let stopFrame = try XCTUnwrap(stop.endFrame)
        XCTAssertEqual(stop.outcome, .requeued)
        XCTAssertEqual(stop.restart, 0)
        XCTAssertGreaterThanOrEqual(stopFrame, 50_000)
        XCTAssertLessThan(stopFrame, frames)
        XCTAssertEqual(resume.outcome, .done)
        XCTAssertEqual(resume.restart, 1, "SLURM_RESTART_COUNT counts the requeue")
        XCTAssertEqual(resume.arrayJobID, job, "the same array task, requeued — not a new job")
        XCTAssertEqual(resume.startFrame, stopFrame, "the frame counter continues from the checkpoint, it does not start over")

        let status = try XCTUnwrap(RunStatus.read(directory.status))
        XCTAssertEqual(status.state, .done)
        XCTAssertEqual(status.frames, frames)
        let rows = try ReturnsCSV.read(directory.returns100).map(\.frame)
        XCTAssertEqual(rows, rows.sorted())
        XCTAssertEqual(Set(rows).count, rows.count)
        XCTAssertEqual(rows.count, status.episodes / 100, "a row per 100 episodes over both starts: none lost, none repeated")
        XCTAssertTrue(rows.contains { $0 < stopFrame } && rows.contains { $0 > stopFrame })
        let log = try String(contentsOfFile: experiment.logDirectory + "/\(job)_0.out", encoding: .utf8)
        XCTAssertTrue(log.contains("from frame \(stopFrame)"), log)
        XCTAssertTrue(log.contains("restart 1,"), log)
    }

    func testCancelStopsRunningCellsWithACheckpointAndResubmitResumesThem() throws {
        let submit = try colony(
            "experiment", "submit", "--agents", "random", "--envs", "CartPole-v1", "--seeds", "2", "--frames", "5000000", "--checkpoint-every", "50000",
            "--test-episodes", "3", "--name", "cancel")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/cancel", client: LocalCluster.client)
        let directories = experiment.grid.cells.map { RunDirectory(path: $0.runDirectory) }
        try waitFor("both cells to checkpoint", timeout: 90) { directories.allSatisfy { (RunStatus.read($0.status)?.frames ?? 0) >= 50_000 } }

        let cancel = try colony("experiment", "cancel", "runs/cancel")
        XCTAssertEqual(cancel.status, 0, cancel.output)
        try waitFor("both cells to stop", timeout: 60) { try experiment.report().cells.allSatisfy { $0.state == .failed } }
        for directory in directories {
            let status = try XCTUnwrap(RunStatus.read(directory.status))
            XCTAssertEqual(status.state, .failed)
            XCTAssertTrue(status.message?.contains("SIGTERM") == true, status.message ?? "no message")
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.latestCheckpoint))
        }
        let stopped = experiment.grid.cells.map { experiment.cellRecord($0.index)?.attempts.last?.endFrame ?? 0 }
        XCTAssertTrue(stopped.allSatisfy { $0 >= 50_000 }, "\(stopped)")

        let resubmit = try colony("experiment", "resubmit", "runs/cancel")
        XCTAssertEqual(resubmit.status, 0, resubmit.output)
        XCTAssertTrue(resubmit.output.contains("resubmitting 2 of 2 cells"), resubmit.output)
        try waitFor("both cells to resume", timeout: 90) {
            experiment.grid.cells.allSatisfy { (experiment.cellRecord($0.index)?.attempts.count ?? 0) == 2 && experiment.cellRecord($0.index)?.attempts[1].startFrame != nil }
        }
        for (index, frame) in stopped.enumerated() {
            XCTAssertEqual(experiment.cellRecord(index)?.attempts[1].startFrame, frame, "cell \(index) resumed from its checkpoint")
        }
        XCTAssertEqual(try colony("experiment", "cancel", "runs/cancel").status, 0)
    }

    func testDryRunPrintsScriptsThatSlurmAcceptsAndSubmitsNothing() throws {
        let run = try colony(
            "experiment", "submit", "--agents", "random", "--envs", "CartPole-v1,Acrobot-v1", "--seeds", "3", "--frames", "1000", "--name", "dry",
            "--throttle", "2", "--time", "30", "--cpus-per-task", "1", "--mem", "100M", "--sbatch-arg", "--comment=colony-test",
            "--max-array-size", "4", "--dry-run")
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/runs/dry"), "a dry run writes nothing")
        let scripts = run.output.components(separatedBy: "# --- ").dropFirst().map { $0.split(separator: "\n", maxSplits: 1).map(String.init)[1] }
        XCTAssertEqual(scripts.count, 2, "6 cells with MaxArraySize 4: two arrays\n\(run.output)")
        XCTAssertTrue(scripts[0].contains("#SBATCH --array=0-3%2\n"))
        XCTAssertTrue(scripts[1].contains("#SBATCH --array=0-1%2\n"))
        XCTAssertTrue(scripts[1].contains("index=$(( SLURM_ARRAY_TASK_ID + 4 ))"))
        for script in scripts {
            for line in ["#SBATCH --time=30", "#SBATCH --mem=100M", "#SBATCH --comment=colony-test", "#SBATCH --signal=B:USR1@120", "#SBATCH --requeue",
                         "#SBATCH --output=\(root)/runs/dry/slurm/logs/%A_%a.out", "#SBATCH --chdir=\(root)"] {
                XCTAssertTrue(script.contains(line + "\n"), "missing \(line)")
            }
            XCTAssertTrue(script.contains("exec \(colonyPath) experiment cell \(root)/runs/dry \"$index\""), script)
            // The cluster itself checks the script (sbatch --test-only submits nothing).
            let path = root + "/check.sbatch"
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            let check = try LocalCluster.shell(["sbatch", "--test-only", path], in: root)
            XCTAssertEqual(check.status, 0, check.output)
            XCTAssertTrue(check.output.contains("to start at"), check.output)
        }
        XCTAssertFalse(try LocalCluster.client.queue().contains { $0.jobName == "colony-dry" })
    }

    /// A cell on a `gym:` environment: the compute node runs the environment host with the Python the
    /// grid's `[env]` table names, and the cell trains and finishes like a native one.
    func testGymCellTrainsOnTheCluster() throws {
        guard let python = EnvironmentHostTesting.python else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        try """
        name = "gym"
        agents = ["ppo"]
        envs = ["gym:CartPole-v1"]
        seeds = 1
        frames = 8000
        test_episodes = 3

        [env]
        python = "\(python)"
        hosts = 1
        """.write(toFile: root + "/grid.toml", atomically: true, encoding: .utf8)
        let submit = try colony("experiment", "submit", "--grid", "grid.toml")
        XCTAssertEqual(submit.status, 0, submit.output)
        let experiment = try SlurmExperiment(directory: root + "/runs/gym", client: LocalCluster.client)
        XCTAssertEqual(experiment.grid.cells.map(\.overrides), [["env.python=\"\(python)\"", "env.hosts=1"]])
        try waitFor("the gym cell to be done", timeout: 180) { try experiment.report().cells.allSatisfy { $0.state == .done || $0.state == .failed } }
        let cell = experiment.grid.cells[0]
        let directory = RunDirectory(path: cell.runDirectory)
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: experiment.logDirectory))?.compactMap {
            try? String(contentsOfFile: experiment.logDirectory + "/" + $0, encoding: .utf8)
        }.joined(separator: "\n") ?? ""
        XCTAssertEqual(try experiment.report().cells[0].state, .done, logs)
        XCTAssertTrue(cell.runDirectory.hasSuffix("/ppo/gym-CartPole-v1/seed-1"), cell.runDirectory)
        XCTAssertEqual(RunStatus.read(directory.status)?.frames, 8000)
        XCTAssertFalse(try ReturnsCSV.read(directory.returns100).isEmpty)
        let configuration = try String(contentsOfFile: directory.configuration, encoding: .utf8)
        XCTAssertTrue(configuration.contains(python), "the run records the Python it used:\n\(configuration)")
    }

    // MARK: Helpers

    @discardableResult
    private func colony(_ arguments: String...) throws -> LocalCluster.Result {
        try LocalCluster.shell([colonyPath] + arguments, in: root)
    }

    private func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let queue = (try? LocalCluster.shell(["squeue", "--states=all", "--array"]).output) ?? ""
        throw ClusterError("timed out after \(Int(timeout)) s waiting for \(what); squeue:\n\(queue)")
    }
}
