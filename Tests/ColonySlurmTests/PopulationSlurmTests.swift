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

        let deadline = Date().addingTimeInterval(240)
        var state: PopulationState?
        while Date() < deadline {
            state = try? PopulationState.read(directory + "/population.json")
            if state?.generation == 2 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let logs = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/slurm/logs")) ?? []).sorted().map { name in
            "--- \(name)\n" + ((try? String(contentsOfFile: directory + "/slurm/logs/" + name, encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
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
}
