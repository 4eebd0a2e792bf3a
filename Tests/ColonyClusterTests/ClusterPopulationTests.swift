import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// `colony pbt run --cluster FILE`: every member is a cluster (coordinator, learner, worker) of real processes; a
/// losing member's learner resumes from its donor's checkpoint with the mutated configuration.
final class ClusterPopulationTests: ExecutableTestCase {
    private func clusterFile(_ name: String, algorithm: String = "impala", coordinator: String? = nil, extra: String = "") throws -> String {
        let path = directory + "/\(name).toml"
        let coordinator = try coordinator ?? freeEndpoint()
        try AtomicFile.write("""
            algorithm = "\(algorithm)"
            env = "CartPole-v1"
            frames = 12000
            seed = 3

            [cluster]
            coordinator = "\(coordinator)"
            host = "127.0.0.1"
            workers = 1
            envs_per_worker = 8

            [agent]
            learning_rate = 0.001
            \(extra)

            """, to: path)
        return path
    }

    /// Ape-X members: each member's colony-replay checkpoints its table to the member's replay.h5 when its cluster
    /// ends; a losing member takes its donor's table with its donor's learner checkpoint and its replay server
    /// restores exactly those items when the next interval starts.
    func testApeXMembersCarryTheirReplayAcrossBoundariesAndAnExploitCopiesIt() throws {
        let cluster = try clusterFile("apex", algorithm: "apex_dqn", extra: "learning_starts = 500\nbuffer_size = 20000")
        let result = try run("colony", [
            "pbt", "run", "--cluster", cluster, "--population", "2", "--interval", "3000", "--generations", "2",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", directory, "--name", "apex",
        ])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        let population = directory + "/pbt/apex"
        let records = try LineageRecord.read(population + "/lineage.jsonl")
        XCTAssertEqual(records.count, 4, "2 generations × 2 members")
        let exploit = try XCTUnwrap(records.first { $0.action == "exploit" }, "⌈2 × 0.25⌉ = 1 member replaced at the boundary")
        let donor = try XCTUnwrap(exploit.donorSlot)
        let saved = population + "/boundaries/generation-1/slot-\(donor)-replay.h5"
        let items = try ReplayTableSnapshot.read(from: saved).keys.count
        XCTAssertGreaterThan(items, 0, "the donor's table was saved at the boundary")
        XCTAssertTrue(result.output.contains("slot \(exploit.slot) (lineage \(exploit.lineage)): [replay]")
                      && result.output.contains("restored \(items) items from \(population)/members/slot-\(exploit.slot)/replay.h5"),
                      "slot \(exploit.slot) did not start from its donor's \(items) items:\n\(result.output.suffix(4000))")
        // The recipient's table at the end still begins with the donor's items (the buffer outlasts both intervals).
        let (given, final) = (try ReplayTableSnapshot.read(from: saved),
                              try ReplayTableSnapshot.read(from: population + "/members/slot-\(exploit.slot)/replay.h5"))
        XCTAssertGreaterThan(final.keys.count, given.keys.count, "the recipient inserted on top of its donor's table")
        XCTAssertEqual(Array(final.keys.prefix(given.keys.count)), given.keys)
        XCTAssertEqual(Array(final.payloads.prefix(given.payloads.count)), given.payloads)
    }

    func testMembersTrainAsClustersAndALoserResumesItsDonorsCheckpoint() throws {
        let cluster = try clusterFile("impala")
        let result = try run("colony", [
            "pbt", "run", "--cluster", cluster, "--population", "3", "--interval", "4000", "--generations", "3",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "3", "--runs-dir", directory, "--name", "clusters",
        ])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        XCTAssertTrue(result.output.contains("population done: best member slot"), String(result.output.suffix(3000)))
        let population = directory + "/pbt/clusters"
        let records = try LineageRecord.read(population + "/lineage.jsonl")
        XCTAssertEqual(records.count, 9, "3 generations × 3 members")
        XCTAssertTrue(records.allSatisfy { $0.fitness != nil }, "every member's learner checkpoint was evaluated: \(records.map(\.fitness))")
        let exploits = records.filter { $0.action == "exploit" }
        XCTAssertEqual(exploits.count, 2, "⌈3 × 0.25⌉ = 1 member replaced at each of 2 boundaries")
        for exploit in exploits {
            guard let donor = exploit.donorSlot else {
                XCTFail("an exploit names its donor")
                continue
            }
            let saved = population + "/boundaries/generation-\(exploit.generation)/slot-\(donor).h5"
            XCTAssertEqual(try SHA256.hex(ofFile: saved), exploit.checkpointSHA256, "the recipient took the donor's checkpoint as saved")
            let donorFrames = try LearnerCheckpointEvaluation.frames(checkpoint: saved)
            // The recipient's learner resumed there, in its next interval, with the mutated learning rate in its file.
            XCTAssertTrue(result.output.contains("slot \(exploit.slot) (lineage \(exploit.lineage)): [learner]")
                          && result.output.contains("members/slot-\(exploit.slot)/checkpoints/latest.h5 at frame \(donorFrames)"),
                          "slot \(exploit.slot) did not resume from frame \(donorFrames)")
            let change = try XCTUnwrap(exploit.changes.first { $0.key == "learning_rate" })
            if exploit.generation == 2 {
                let file = try String(contentsOfFile: population + "/members/slot-\(exploit.slot)/cluster.toml", encoding: .utf8)
                XCTAssertTrue(file.contains("learning_rate = \(change.new)\n"), file)
            }
        }
        // Each member's learner writes the values it trains with beside its returns in TensorBoard.
        for slot in 0..<3 {
            let member = population + "/members/slot-\(slot)"
            let events = try FileManager.default.contentsOfDirectory(atPath: member).filter { $0.hasPrefix("events.out.tfevents.") }
            XCTAssertTrue(try events.contains { try Data(contentsOf: URL(fileURLWithPath: member + "/" + $0)).range(of: Data("hyperparameters/learning_rate".utf8)) != nil },
                          "slot \(slot): \(events)")
        }
        let status = try run("colony", ["pbt", "status", population])
        XCTAssertTrue(status.output.contains("impala on CartPole-v1") && status.output.contains("generation 3 of 3")
                      && status.output.contains("members as clusters of \(URL(fileURLWithPath: cluster).standardizedFileURL.path)"), status.output)
    }

    /// `--parallel 2`: each member's cluster runs in its own child process at the same time as the other's, slot k's
    /// coordinator on the file's port + k; the boundary evaluates and evolves them as in turn.
    func testMembersTrainSideBySideWithParallel() throws {
        let base = try freeEndpoint()
        let port = try XCTUnwrap(Int(base.split(separator: ":").last ?? ""))
        let cluster = try clusterFile("parallel", coordinator: "tcp://127.0.0.1:\(port)")
        let result = try run("colony", [
            "pbt", "run", "--cluster", cluster, "--population", "2", "--interval", "4000", "--generations", "2", "--parallel", "2",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", directory, "--name", "parallel",
        ])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        let population = directory + "/pbt/parallel"
        let records = try LineageRecord.read(population + "/lineage.jsonl")
        XCTAssertEqual(records.count, 4, "2 generations × 2 members")
        XCTAssertTrue(records.allSatisfy { $0.fitness != nil }, "\(records.map(\.fitness))")
        for slot in 0..<2 {
            let file = try String(contentsOfFile: population + "/members/slot-\(slot)/cluster.toml", encoding: .utf8)
            XCTAssertTrue(file.contains("coordinator = \"tcp://127.0.0.1:\(port + slot)\""), file)
        }
        // The first interval's log lines of each member, by their timestamps: the two clusters ran at the same time.
        let firstInterval = result.output.components(separatedBy: "generation 1 of 2")[0]
        func span(_ slot: Int) throws -> (Date, Date) {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let stamps = firstInterval.split(separator: "\n").filter { $0.hasPrefix("slot \(slot) (") }.compactMap { line in
                line.split(separator: " ").lazy.compactMap { formatter.date(from: String($0)) }.first
            }
            return (try XCTUnwrap(stamps.min(), "no timestamped lines of slot \(slot)"), try XCTUnwrap(stamps.max()))
        }
        let (a, b) = (try span(0), try span(1))
        XCTAssertTrue(a.0 < b.1 && b.0 < a.1, "the members' first intervals did not overlap: \(a), \(b)")
    }

    func testWhatAClusterPopulationCannotDoIsOneLineError() throws {
        let impala = try clusterFile("impala")
        let sharedReplay = try clusterFile("apex", algorithm: "apex_dqn", extra: "\n[replay]\ncheckpoint_path = \"\(directory!)/replay.h5\"")
        for (arguments, expected) in [
            (["--cluster", sharedReplay], "would put every member's replay in one file"),
            (["--cluster", impala, "--agent", "impala"], "drop them"),
            (["--cluster", try clusterFile("ipc", coordinator: "ipc://\(directory!)/coordinator"), "--parallel", "2"], "needs a tcp port"),
            (["--cluster", impala, "--parameter-noise", "0.1"], "--parameter-noise is for members in one process"),
            (["--cluster", directory + "/missing.toml"], "missing.toml"),
            ([String](), "--agent is required (or --cluster FILE)"),
        ] {
            let result = try run("colony", ["pbt", "run", "--population", "2", "--runs-dir", directory] + arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.output)")
            XCTAssertTrue(result.output.contains(expected), "\(arguments): \(result.output)")
            XCTAssertEqual(result.output.split(separator: "\n").count, 1, result.output)
        }
    }
}
