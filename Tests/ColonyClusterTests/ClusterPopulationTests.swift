import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation
import XCTest

/// `colony pbt run --cluster FILE`: every member is a cluster (coordinator, learner, worker) of real processes; a
/// losing member's learner resumes from its donor's checkpoint with the mutated configuration. Members' clusters stay
/// up across boundaries: their learners (and Ape-X's replay servers) hold at each target.
final class ClusterPopulationTests: ExecutableTestCase {
    /// The pids of the processes that registered with a coordinator in `log` (learners and workers).
    private func registeredProcesses(_ log: String) -> Set<Int32> {
        Set(log.split(separator: "\n").filter { $0.contains("coordinator info: registered") }.compactMap { line -> Int32? in
            guard let range = line.range(of: "pid ") else { return nil }
            return Int32(line[range.upperBound...].prefix { $0.isNumber })
        })
    }

    private func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

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

    /// Ape-X members' clusters stay up too: each member's colony-replay holds with its learner at every boundary, its
    /// table written to the member's replay.h5; a losing member takes its donor's table with its donor's learner
    /// checkpoint, and its replay server reloads exactly those items at the release. With `--parallel 2` both members'
    /// clusters run at once, slot k's coordinator on the file's port + k.
    func testApeXMembersHoldTheirClustersAndAnExploitCopiesTheDonorsTable() throws {
        let cluster = try clusterFile("apex", algorithm: "apex_dqn", coordinator: "tcp://127.0.0.1:\(try freePorts(2))",
                                      extra: "learning_starts = 500\nbuffer_size = 20000")
        let result = try run("colony", [
            "pbt", "run", "--cluster", cluster, "--population", "2", "--interval", "3000", "--generations", "2", "--parallel", "2",
            "--mutate", "learning_rate=log:1e-4..1e-2", "--mutate", "hidden_sizes=mlp:1..2,16..64", "--eval-episodes", "2",
            "--runs-dir", directory, "--name", "apex",
        ])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        let population = directory + "/pbt/apex"
        let records = try LineageRecord.read(population + "/lineage.jsonl")
        XCTAssertEqual(records.count, 4, "2 generations × 2 members")
        // Each member's cluster started once: one learner, one worker and one replay server each, none alive after the run.
        let starts = result.output.split(separator: "\n").filter { $0.contains("): starting apex_dqn on CartPole-v1") }
        XCTAssertEqual(starts.count, 2, starts.joined(separator: "\n"))
        let processes = registeredProcesses(result.output)
        XCTAssertEqual(processes.count, 6, "2 learners, 2 workers and 2 replay servers registered, none restarted: \(processes)")
        XCTAssertTrue(processes.allSatisfy { !isAlive($0) }, "the run ended its members' clusters: \(processes.filter(isAlive))")
        for slot in 0..<2 {
            let mine = result.output.split(separator: "\n").filter { $0.hasPrefix("slot \(slot) (") }
            XCTAssertEqual(mine.filter { $0.contains("[replay]") && $0.contains("holding at frame 3000 with the learner") }.count, 1, mine.joined(separator: "\n"))
            XCTAssertEqual(mine.filter { $0.contains("follows its learner's release to frame 6000") }.count, 1, mine.joined(separator: "\n"))
        }
        let exploit = try XCTUnwrap(records.first { $0.action == "exploit" }, "⌈2 × 0.25⌉ = 1 member replaced at the boundary")
        let donor = try XCTUnwrap(exploit.donorSlot)
        // The recipient's Q-network took a new shape: its learner resumed the carried checkpoint, and its worker reattached
        // with an actor of that shape (its release line above).
        let resized = try XCTUnwrap(exploit.changes.first { $0.key == "hidden_sizes" }, "\(exploit.changes)")
        XCTAssertNotEqual(resized.old, resized.new)
        XCTAssertTrue(result.output.contains("slot \(exploit.slot) (lineage \(exploit.lineage)): carried ")
                      && result.output.contains("into the new architecture: hidden_sizes \(resized.old) → \(resized.new)"), String(result.output.suffix(4000)))
        let saved = population + "/boundaries/generation-1/slot-\(donor)-replay.h5"
        let items = try ReplayTableSnapshot.read(from: saved).keys.count
        XCTAssertGreaterThan(items, 0, "the donor's table was saved at the boundary")
        XCTAssertTrue(result.output.contains("slot \(exploit.slot) (lineage \(exploit.lineage)): [replay]")
                      && result.output.contains("released to frame 6000: \(items) items from \(population)/members/slot-\(exploit.slot)/replay.h5"),
                      "slot \(exploit.slot) did not go on from its donor's \(items) items:\n\(result.output.suffix(4000))")
        // The recipient's table at the last hold still begins with the donor's items (the buffer outlasts both intervals).
        let (given, final) = (try ReplayTableSnapshot.read(from: saved),
                              try ReplayTableSnapshot.read(from: population + "/members/slot-\(exploit.slot)/replay.h5"))
        XCTAssertGreaterThan(final.keys.count, given.keys.count, "the recipient inserted on top of its donor's table")
        XCTAssertEqual(Array(final.keys.prefix(given.keys.count)), given.keys)
        XCTAssertEqual(Array(final.payloads.prefix(given.payloads.count)), given.payloads)
    }

    func testMembersTrainAsClustersAndALoserResumesItsDonorsCheckpoint() throws {
        // An ipc coordinator: each member's held cluster listens on the path + -slot-<k> (no port of another test in the way).
        let cluster = try clusterFile("impala", coordinator: "ipc://\(directory!)/coordinator")
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
        // Each member's cluster started once and stayed up for its 3 intervals: one learner and one worker each.
        let starts = result.output.split(separator: "\n").filter { $0.contains("): starting impala on CartPole-v1") }
        XCTAssertEqual(starts.count, 3, starts.joined(separator: "\n"))
        for slot in 0..<3 {
            XCTAssertTrue(result.output.contains("coordinator ipc://\(directory!)/coordinator-slot-\(slot),"), "slot \(slot)'s own coordinator")
        }
        let processes = registeredProcesses(result.output)
        XCTAssertEqual(processes.count, 6, "3 learners and 3 workers registered, none restarted: \(processes)")
        XCTAssertTrue(processes.allSatisfy { !isAlive($0) }, "the run ended its members' clusters: \(processes.filter(isAlive))")
        func version(_ pattern: String, slot: Int, lineage: Int) -> Int? {
            result.output.split(separator: "\n").first { $0.hasPrefix("slot \(slot) (lineage \(lineage)): [learner]") && $0.contains(pattern) }
                .flatMap { line in line.components(separatedBy: "parameter version ").last.flatMap { Int($0.prefix { $0.isNumber }) } }
        }
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
            // Its held learner took the donor's networks and version and published the next version to its own workers.
            let donorLineage = try XCTUnwrap(records.first { $0.generation == exploit.generation && $0.slot == donor }?.lineage)
            let donorVersion = try XCTUnwrap(version("holding at frame \(donorFrames) ", slot: donor, lineage: donorLineage), result.output)
            XCTAssertEqual(version("resuming from", slot: exploit.slot, lineage: exploit.lineage), donorVersion, result.output)
            let published = try XCTUnwrap(version("released to frame", slot: exploit.slot, lineage: exploit.lineage), result.output)
            XCTAssertGreaterThan(published, donorVersion)
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

    /// `--parallel 2`: the members' held clusters train at the same time, slot k's coordinator on the file's port + k;
    /// the boundary evaluates and evolves them as in turn.
    func testMembersTrainSideBySideWithParallel() throws {
        let port = try freePorts(2)
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

    /// A stop signal while the members' clusters are up stops every process (each learner at a checkpoint); the rerun
    /// starts the clusters again from their checkpoints and finishes the population.
    func testHeldClustersStopAtASignalAndTheRerunResumes() throws {
        let cluster = try clusterFile("stop", coordinator: "ipc://\(directory!)/coordinator")
        let arguments = ["pbt", "run", "--cluster", cluster, "--population", "2", "--interval", "60000", "--generations", "4",
                         "--mutate", "learning_rate=log:1e-4..1e-2", "--eval-episodes", "2", "--runs-dir", directory!, "--name", "stop"]
        let population = try start("colony", arguments, log: directory + "/stop.log")
        let said = { (try? String(contentsOfFile: self.directory + "/stop.log", encoding: .utf8)) ?? "" }
        XCTAssertTrue(eventually(timeout: 120) { said().contains("generation 1 of 4") }, said())
        kill(population.processIdentifier, SIGINT)
        population.waitUntilExit()
        let stopped = said()
        XCTAssertEqual(population.terminationStatus, 130, String(stopped.suffix(3000)))
        XCTAssertTrue(stopped.contains("rerun the same command to resume"), String(stopped.suffix(3000)))
        let processes = registeredProcesses(stopped)
        XCTAssertEqual(processes.count, 4, "2 learners and 2 workers: \(processes)\n" + String(stopped.suffix(4000)))
        XCTAssertTrue(processes.allSatisfy { !isAlive($0) }, "the signal ended every member's cluster: \(processes.filter(isAlive))")

        let resumed = try run("colony", arguments)
        XCTAssertEqual(resumed.status, 0, String(resumed.output.suffix(3000)))
        let records = try LineageRecord.read(directory + "/pbt/stop/lineage.jsonl")
        XCTAssertEqual(records.map(\.generation), [1, 1, 2, 2, 3, 3, 4, 4], "every generation once")
        for slot in 0..<2 {
            XCTAssertTrue(resumed.output.contains("members/slot-\(slot)/checkpoints/latest.h5 at frame"), "slot \(slot) resumed its checkpoint")
        }
    }

    /// A learner with `hold_at_target` checkpoints at its target and holds with its cluster up; a release whose frame
    /// target its reread file does not set stops it with an error that says so, instead of training on a guess.
    func testAHeldLearnerRefusesAReleaseItsFileDoesNotMatch() throws {
        let (path, runDirectory) = (directory + "/held.toml", RunDirectory(path: directory + "/held"))
        func write(frames: Int) throws {
            try AtomicFile.write("""
                algorithm = "impala"
                env = "CartPole-v1"
                frames = \(frames)
                run_dir = "\(runDirectory.path)"

                [cluster]
                coordinator = "\(try freeEndpoint())"
                workers = 1
                hold_at_target = true

                """, to: path)
        }
        try write(frames: 2000)
        let log = directory + "/held.log"
        let cluster = try start("colony", ["cluster", "up", path], log: log)
        let said = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        XCTAssertTrue(eventually(timeout: 60) { LearnerHold.held(in: runDirectory)?.target == 2000 }, said())
        // Longer than a worker waits for a learner that neither grants credits nor publishes (5 s): the held learner
        // publishes, so its worker waits attached instead of looking for it again.
        Thread.sleep(forTimeInterval: 7)
        XCTAssertTrue(cluster.isRunning, "the cluster stays up while its learner holds: " + said())
        XCTAssertTrue(FileManager.default.fileExists(atPath: runDirectory.latestCheckpoint))
        XCTAssertFalse(said().contains("stopped answering"), said())
        XCTAssertEqual(said().components(separatedBy: "attached to learner").count - 1, 1, said())

        try write(frames: 5000)
        try LearnerHold.release(runDirectory, to: 4000)
        XCTAssertTrue(eventually(timeout: 30) { !cluster.isRunning }, said())
        cluster.waitUntilExit()
        XCTAssertNotEqual(cluster.terminationStatus, 0, said())
        XCTAssertTrue(said().contains("sets frames = 5000: the population writes the file before it releases the learner"), said())
    }

    /// An A3C worker of a held cluster takes each interval's values from the releases in the run directory: where that
    /// directory is not (another machine without a shared file system) it stops with an error that says so, rather
    /// than compute gradients with values the learner has moved past.
    func testAHeldA3CWorkerWithoutTheRunDirectoryStopsWithAnError() throws {
        let coordinator = try freeEndpoint()
        func file(_ name: String, runDirectory: String, workers: Int) throws -> String {
            let path = directory + "/\(name).toml"
            try AtomicFile.write("""
                algorithm = "a3c"
                env = "CartPole-v1"
                frames = 1000000
                run_dir = "\(runDirectory)"

                [cluster]
                coordinator = "\(coordinator)"
                host = "127.0.0.1"
                workers = \(workers)
                hold_at_target = true

                """, to: path)
            return path
        }
        let keys = directory + "/keys"
        XCTAssertEqual(try run("colony", ["keys", "new", keys]).status, 0)
        let cluster = try start("colony", ["cluster", "up", try file("learner", runDirectory: directory + "/run", workers: 1), "--keys", keys],
                                log: directory + "/cluster.log")
        let elsewhere = try file("elsewhere", runDirectory: directory + "/not-on-this-machine", workers: 1)
        let worker = try start("colony-worker", ["--config", elsewhere, "--index", "1", "--keys", keys], log: directory + "/worker.log")
        defer {
            for process in [worker, cluster] where process.isRunning {
                kill(process.processIdentifier, SIGINT)
                if !eventually(timeout: 20, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
            }
        }
        let said = { (try? String(contentsOfFile: self.directory + "/worker.log", encoding: .utf8)) ?? "" }
        XCTAssertTrue(eventually(timeout: 60) { !worker.isRunning }, said())
        guard !worker.isRunning else { return }
        XCTAssertEqual(worker.terminationStatus, 1, said())
        XCTAssertTrue(said().contains("not-on-this-machine, which is not on this machine"), said())
        XCTAssertTrue(cluster.isRunning, "the learner and its own worker go on")
    }

    /// A3C members' clusters stay up too, side by side with `--parallel 2`: their workers compute the loss, so at each
    /// release they take the member's mutated `[agent]` values (here ent_coef, a worker's key) with the new version.
    func testA3CMembersHoldTheirClustersAndTheirWorkersFollowEachRelease() throws {
        // An ipc coordinator: each held cluster listens on the path + -slot-<k>, where no other test's port can be.
        let cluster = try clusterFile("a3c", algorithm: "a3c", coordinator: "ipc://\(directory!)/coordinator", extra: "ent_coef = 0.01")
        let result = try run("colony", [
            "pbt", "run", "--cluster", cluster, "--population", "2", "--interval", "4000", "--generations", "3", "--parallel", "2",
            "--mutate", "ent_coef=log:1e-4..1e-1", "--mutate", "hidden_sizes=mlp:1..3,16..128", "--parameter-noise", "0.01",
            "--eval-episodes", "2", "--runs-dir", directory!, "--name", "a3c",
        ])
        XCTAssertEqual(result.status, 0, String(result.output.suffix(3000)))
        let records = try LineageRecord.read(directory + "/pbt/a3c/lineage.jsonl")
        XCTAssertEqual(records.count, 6, "3 generations × 2 members")
        XCTAssertTrue(records.allSatisfy { $0.fitness != nil }, "no member failed: \(records.map(\.failure))")
        let lines = result.output.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("): starting a3c on CartPole-v1") }.count, 2, "each member's cluster started once")
        let processes = registeredProcesses(result.output)
        XCTAssertEqual(processes.count, 4, "2 learners and 2 workers registered, none restarted: \(processes)")
        XCTAssertTrue(processes.allSatisfy { !isAlive($0) }, "the run ended its members' clusters: \(processes.filter(isAlive))")
        // At each release a member's worker took the file its learner took: the same [agent] values changed (an exploit
        // changes ent_coef unless the member already had the donor's perturbed value).
        // A member mutated at a boundary begins the next interval from its checkpoint with parameter noise, added by
        // the population before its held learner resumes the file (LearnerCheckpointNoiseTests checks the values).
        let noisy = records.filter { $0.parameterNoise != nil }
        XCTAssertEqual(noisy.count, 2, "one member mutated at each of 2 boundaries: \(records.map(\.parameterNoise))")
        for record in noisy {
            let line = lines.filter { $0.hasPrefix("slot \(record.slot) (lineage \(record.lineage)): parameter noise: N(0, 0.01²) added to the acting network in ") }
            XCTAssertEqual(line.count, 1, "generation \(record.generation), slot \(record.slot): " + String(result.output.suffix(4000)))
        }
        // A mutated architecture: the population carried the checkpoint into the new shapes before the release, and the
        // learner and worker went on with them (the worker's release lines below).
        let resized = records.filter { $0.changes.contains { $0.key == "hidden_sizes" && $0.old != $0.new } }
        XCTAssertFalse(resized.isEmpty, "an exploit changed hidden_sizes: \(records.map(\.changes))")
        for record in resized {
            let change = record.changes.first { $0.key == "hidden_sizes" }!
            let line = lines.filter { $0.hasPrefix("slot \(record.slot) (lineage \(record.lineage)): carried ")
                && $0.contains("into the new architecture: hidden_sizes \(change.old) → \(change.new)") }
            XCTAssertEqual(line.count, 1, "generation \(record.generation), slot \(record.slot): " + String(result.output.suffix(4000)))
        }
        func agentChanges(_ line: Substring) -> String { line.components(separatedBy: "; [agent] ").dropFirst().first ?? "" }
        for slot in 0..<2 {
            for target in [8000, 12000] {
                let mine = lines.filter { $0.hasPrefix("slot \(slot) (") }
                let learner = mine.filter { $0.contains("released to frame \(target): publishing parameter version") }
                let worker = mine.filter { $0.contains("follows its learner's release to frame \(target)") }
                XCTAssertEqual(learner.count, 1, "slot \(slot), release to \(target): " + String(result.output.suffix(4000)))
                XCTAssertEqual(worker.count, 1, "slot \(slot), release to \(target): " + String(result.output.suffix(4000)))
                guard let learnerLine = learner.first, let workerLine = worker.first else { continue }
                XCTAssertEqual(workerLine.components(separatedBy: ": [agent] ").dropFirst().first ?? "", agentChanges(learnerLine), "\(workerLine)\n\(learnerLine)")
            }
        }
    }

    func testWhatAClusterPopulationCannotDoIsOneLineError() throws {
        let impala = try clusterFile("impala")
        let sharedReplay = try clusterFile("apex", algorithm: "apex_dqn", extra: "\n[replay]\ncheckpoint_path = \"\(directory!)/replay.h5\"")
        for (arguments, expected) in [
            (["--cluster", sharedReplay], "would put every member's replay in one file"),
            (["--cluster", impala, "--agent", "impala"], "drop them"),
            (["--cluster", try clusterFile("apex-own", algorithm: "apex_dqn"), "--mutate", "batch_size=int:32..128"],
             "--mutate batch_size: apex_dqn members' replay servers derive their tables' capacity"),
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
