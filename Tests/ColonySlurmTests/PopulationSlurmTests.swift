import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// `colony pbt submit` on the real local Slurm: intervals as array jobs chained by controller jobs, a
/// cancelled member's task replaced by the best member.
final class PopulationSlurmTests: XCTestCase {
    private var colonyPath = ""
    private var root = ""

    override func setUpWithError() throws {
        try LocalCluster.ensureUp()
        colonyPath = try LocalCluster.colonyBinary()
        root = NSTemporaryDirectory() + "colony-slurm-tests/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        // Whatever the test left queued goes: every job of this population is named pbt-population-*.
        if let queue = try? LocalCluster.client.queue() {
            let jobs = Set(queue.filter { $0.jobName.hasPrefix("pbt-population-") }.map(\.arrayJobID))
            if !jobs.isEmpty { _ = try? LocalCluster.client.cancel(jobIDs: jobs.sorted()) }
        }
        if testRun?.hasSucceeded == true { try? FileManager.default.removeItem(atPath: root) }
    }

    /// The population's state once it reached `generation`, or as it was when `timeout` seconds passed.
    private func waitForGeneration(_ generation: Int, of directory: String, timeout: TimeInterval) -> PopulationState? {
        let deadline = Date().addingTimeInterval(timeout)
        var state: PopulationState?
        while Date() < deadline {
            state = try? PopulationState.read(directory + "/population.json")
            if state?.generation == generation { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return state
    }

    /// Every job log of the population, each under its name, for failure messages.
    private func slurmLogs(_ directory: String) -> String {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/slurm/logs")) ?? []).sorted().map { name in
            "--- \(name)\n" + ((try? String(contentsOfFile: directory + "/slurm/logs/" + name, encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
    }

    func testIntervalsRunAsChainedArraysAndACancelledMemberIsReplaced() throws {
        let directory = root + "/runs/pbt/population"
        let submit = try LocalCluster.shell([
            colonyPath, "pbt", "submit", "--agent", "dqn", "--env", "CartPole-v1", "--population", "4", "--interval", "2000", "--generations", "2",
            "--mutate", "learning_rate=log:1e-5..1e-1", "--set", "learning_starts=500", "--eval-episodes", "3", "--runs-dir", root + "/runs",
            "--name", "population",
        ], in: root)
        XCTAssertEqual(submit.status, 0, submit.output)
        let array = try XCTUnwrap(submit.output.firstMatch(of: /members array job (\d+)/)?.1, submit.output)
        // Cancel member 2's task of the first interval at once: it ends before its frame target.
        let cancel = try LocalCluster.shell(["scancel", "\(array)_2"])
        XCTAssertEqual(cancel.status, 0, cancel.output)

        let state = waitForGeneration(2, of: directory, timeout: 240)
        let logs = slurmLogs(directory)
        XCTAssertEqual(state?.generation, 2, "the population did not finish its 2 intervals\n" + logs.suffix(4000))

        let records = try LineageRecord.read(directory + "/lineage.jsonl")
        XCTAssertEqual(records.count, 8, logs.suffix(3000).description)
        let cancelled = try XCTUnwrap(records.first { $0.generation == 1 && $0.slot == 2 })
        XCTAssertNil(cancelled.fitness)
        XCTAssertTrue(cancelled.failure?.contains("Slurm task ended") ?? false, "\(cancelled)")
        XCTAssertEqual(cancelled.action, "exploit")
        let first = records.filter { $0.generation == 1 }
        XCTAssertEqual(cancelled.donorSlot, SelectionRule.ranking(first.map(\.fitness)).first)
        for exploit in first where exploit.action == "exploit" {
            let saved = directory + "/boundaries/generation-1/slot-\(exploit.donorSlot!).h5"
            XCTAssertEqual(try SHA256.hex(ofFile: saved), exploit.checkpointSHA256, "the copied checkpoint's hash is its donor's")
        }
        XCTAssertNotNil(records.first { $0.generation == 2 && $0.slot == 2 }?.fitness, "the replaced member trained the second interval")
        let jobs = try String(contentsOfFile: directory + "/slurm/jobs.txt", encoding: .utf8)
        XCTAssertTrue(jobs.contains("interval 1: ") && jobs.contains("interval 2: "), jobs)
        let status = try LocalCluster.shell([colonyPath, "pbt", "status", directory])
        XCTAssertTrue(status.output.contains("generation 2 of 2"), status.output)
    }

    /// `colony pbt submit --cluster FILE`: each member task runs the member's own cluster (coordinator, learner, worker
    /// processes) on its node, slot k's coordinator on the file's port + k, with the population's keys made before any
    /// task started; the controllers evaluate the learners' checkpoints and copy a donor's into the loser's slot.
    /// An IMPALA cluster file on CartPole (one worker), its coordinator on a random loopback port.
    private func impalaClusterFile(checkpointEvery: Int = 100_000) throws -> (path: String, port: Int) {
        // Below Linux's ephemeral ports (32768 and up): slot k's coordinator on port + k must not meet an outgoing connection.
        let port = Int.random(in: 22_000..<30_000)
        let path = root + "/impala.toml"
        try AtomicFile.write("""
            algorithm = "impala"
            env = "CartPole-v1"
            frames = 12000
            seed = 3

            [cluster]
            coordinator = "tcp://127.0.0.1:\(port)"
            host = "127.0.0.1"
            workers = 1
            envs_per_worker = 8
            checkpoint_every = \(checkpointEvery)

            [agent]
            learning_rate = 0.001

            """, to: path)
        return (path, port)
    }

    func testClusterMembersTrainInTheirTasks() throws {
        let (cluster, port) = try impalaClusterFile()
        let directory = root + "/runs/pbt/population-clusters"
        let submit = try LocalCluster.shell([
            colonyPath, "pbt", "submit", "--cluster", cluster, "--population", "2", "--interval", "3000", "--generations", "2",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", root + "/runs", "--name", "population-clusters",
        ], in: root)
        XCTAssertEqual(submit.status, 0, submit.output)
        let arguments = try String(contentsOfFile: directory + "/slurm/member-arguments.json", encoding: .utf8)
        XCTAssertTrue(arguments.contains("--keys"), arguments)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/keys"), "the keys exist before the first task starts")

        let state = waitForGeneration(2, of: directory, timeout: 300)
        let logs = slurmLogs(directory)
        XCTAssertEqual(state?.generation, 2, "the population did not finish its 2 intervals\n" + logs.suffix(4000))
        let records = try LineageRecord.read(directory + "/lineage.jsonl")
        XCTAssertEqual(records.count, 4, logs.suffix(3000).description)
        XCTAssertTrue(records.allSatisfy { $0.fitness != nil }, "\(records.map(\.fitness))\n" + logs.suffix(3000))
        for slot in 0..<2 {
            let file = try String(contentsOfFile: directory + "/members/slot-\(slot)/cluster.toml", encoding: .utf8)
            XCTAssertTrue(file.contains("coordinator = \"tcp://127.0.0.1:\(port + slot)\""), file)
            let log = try String(contentsOfFile: directory + "/slurm/logs/interval-1-\(slot).out", encoding: .utf8)
            XCTAssertTrue(log.contains("starting impala on CartPole-v1: coordinator tcp://127.0.0.1:\(port + slot), learner, 1 workers"),
                          "slot \(slot)'s task ran its own cluster:\n" + log.suffix(2000))
        }
        for exploit in records.filter({ $0.generation == 1 && $0.action == "exploit" }) {
            let saved = directory + "/boundaries/generation-1/slot-\(exploit.donorSlot!).h5"
            XCTAssertEqual(try SHA256.hex(ofFile: saved), exploit.checkpointSHA256, "the copied learner checkpoint's hash is its donor's")
        }
    }

    /// The pre-timeout signal sent to a cluster member's task mid-interval: the member stops its cluster (the learner
    /// checkpoints), requeues its own task, and the restarted task trains the member to the end of its interval.
    func testASignalledClusterMemberRequeuesItselfAndFinishesItsInterval() throws {
        let (cluster, _) = try impalaClusterFile(checkpointEvery: 5_000)
        let directory = root + "/runs/pbt/population-cluster-requeue"
        let submit = try LocalCluster.shell([
            colonyPath, "pbt", "submit", "--cluster", cluster, "--population", "2", "--interval", "100000", "--generations", "1",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", root + "/runs", "--name", "population-cluster-requeue",
        ], in: root)
        XCTAssertEqual(submit.status, 0, submit.output)
        let array = try XCTUnwrap(submit.output.firstMatch(of: /members array job (\d+)/)?.1, submit.output)
        let log = directory + "/slurm/logs/interval-1-1.out"
        func said() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // Once member 1's learner has checkpointed part of the interval, signal its batch shell.
        let checkpoints = PopulationRun.memberDirectory(population: directory, slot: 1).path + "/checkpoints"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && ((try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []).isEmpty {
            Thread.sleep(forTimeInterval: 0.2)
        }
        let signal = try LocalCluster.shell(["scancel", "--signal=USR1", "--batch", "\(array)_1"])
        XCTAssertEqual(signal.status, 0, signal.output)

        let state = waitForGeneration(1, of: directory, timeout: 240)
        let out = said()
        XCTAssertEqual(state?.generation, 1, "the population did not finish\n" + out.suffix(3000))
        let stopFrame = try XCTUnwrap(out.firstMatch(of: /requeued at frame (\d+)/)?.1, "the member requeued its task\n" + out.suffix(3000))
        XCTAssertLessThan(Int(stopFrame) ?? .max, 100_000, "its learner stopped inside the interval\n" + out.suffix(3000))
        XCTAssertTrue(out.contains("restart 1"), "the same task started again\n" + out.suffix(3000))
        let records = try LineageRecord.read(directory + "/lineage.jsonl")
        XCTAssertNotNil(records.first { $0.slot == 1 }?.fitness, "the requeued member finished its interval and was evaluated\n" + out.suffix(3000))
        XCTAssertEqual(RunStatus.read(PopulationRun.memberDirectory(population: directory, slot: 1).status)?.frames, 100_000)
    }

    /// What Slurm sends before a member task's time limit (`--signal=B:USR1@S`), sent mid-interval: the member
    /// checkpoints, requeues its own task and resumes from that checkpoint; the controller waits for the requeued
    /// task, and the member ranks with a fitness like the others.
    func testASignalledMemberTaskRequeuesItselfAndResumes() throws {
        let directory = root + "/runs/pbt/requeued"
        let submit = try LocalCluster.shell([
            colonyPath, "pbt", "submit", "--agent", "dqn", "--env", "CartPole-v1", "--population", "2", "--interval", "30000", "--generations", "1",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", root + "/runs", "--name", "requeued",
        ], in: root)
        XCTAssertEqual(submit.status, 0, submit.output)
        let array = try XCTUnwrap(submit.output.firstMatch(of: /members array job (\d+)/)?.1, submit.output)
        let log = directory + "/slurm/logs/interval-1-1.out"
        func said() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        // Once member 1's task is training (its run directory holds a status), signal its batch shell.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && RunStatus.read(directory + "/members/slot-1/status.json") == nil { Thread.sleep(forTimeInterval: 0.2) }
        let signal = try LocalCluster.shell(["scancel", "--signal=USR1", "--batch", "\(array)_1"])
        XCTAssertEqual(signal.status, 0, signal.output)

        let state = waitForGeneration(1, of: directory, timeout: 240)
        XCTAssertEqual(state?.generation, 1, "the population did not finish\n" + said())
        let out = said()
        let stopFrame = try XCTUnwrap(out.firstMatch(of: /requeued at frame (\d+)/)?.1, out)
        XCTAssertLessThan(Int(stopFrame) ?? 0, 30_000, "it stopped inside the interval")
        XCTAssertTrue(out.contains("restart 1"), "the same task started again\n" + out)
        XCTAssertTrue(out.contains("resuming") && out.contains("from frame \(stopFrame)"), "the next start resumed from the checkpoint\n" + out)
        let records = try LineageRecord.read(directory + "/lineage.jsonl")
        XCTAssertNotNil(records.first { $0.slot == 1 }?.fitness, "the requeued member finished its interval and was evaluated")
        XCTAssertEqual(RunStatus.read(directory + "/members/slot-1/status.json")?.frames, 30_000)
    }
}
