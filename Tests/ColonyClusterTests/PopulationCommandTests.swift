import ColonyExperiments
import Foundation
import XCTest

/// `colony pbt` as a user runs it: members in child processes (`--parallel`), a stop signal, bad flags.
final class PopulationCommandTests: ExecutableTestCase {
    private func arguments(_ name: String, _ extra: [String] = []) -> [String] {
        ["pbt", "run", "--agent", "dqn", "--env", "CartPole-v1", "--population", "4", "--interval", "2000", "--generations", "3",
         "--mutate", "learning_rate=log:1e-5..1e-1", "--set", "learning_starts=500", "--eval-episodes", "3", "--quiet",
         "--runs-dir", directory, "--name", name] + extra
    }

    private func lineage(_ name: String) -> String {
        (try? String(contentsOfFile: "\(directory!)/pbt/\(name)/lineage.jsonl", encoding: .utf8)) ?? "(no lineage of \(name))"
    }

    /// Two members at a time in child processes write the history one process writes; SIGTERM stops the
    /// children at a checkpoint and the rerun finishes with that same history.
    func testParallelMembersStoppedAndResumedWriteTheSequentialHistory() throws {
        let sequential = try run("colony", arguments("sequential"))
        XCTAssertEqual(sequential.status, 0, sequential.output)
        XCTAssertTrue(sequential.output.contains("population done: best member slot"), sequential.output)

        let parallel = try start("colony", arguments("parallel", ["--parallel", "2"]), log: directory + "/parallel.log")
        Thread.sleep(forTimeInterval: 2)
        kill(parallel.processIdentifier, SIGTERM)
        parallel.waitUntilExit()
        let said = (try? String(contentsOfFile: directory + "/parallel.log", encoding: .utf8)) ?? ""
        if parallel.terminationStatus == 130 {
            XCTAssertTrue(said.contains("rerun the same command to resume"), said)
        }
        let resumed = try run("colony", arguments("parallel", ["--parallel", "2"]))
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(lineage("parallel"), lineage("sequential"), said + resumed.output)

        // A target every member reaches ends the run at the first boundary and says so.
        let target = try run("colony", arguments("target", ["--target-fitness", "-1", "--replay", "shared"]))
        XCTAssertEqual(target.status, 0, target.output)
        XCTAssertTrue(target.output.contains("population reached the target at generation 1 (2000 frames per member)"), target.output)

        let status = try run("colony", ["pbt", "status", "\(directory!)/pbt/sequential"])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.output.contains("generation 3 of 3") && status.output.contains("learning_rate"), status.output)
    }

    func testBadFlagsAreOneLineErrors() throws {
        for (extra, expected) in [
            (["--mutate", "buffer_size=int:1000..2000"], "cannot change buffer_size while it trains"),
            (["--parallel", "0"], "--parallel must be at least 1"),
            (["--selection", "best"], "--selection must be truncation or tournament"),
            (["--name", "../escape"], "cannot name a directory"),
            (["--replay", "shared", "--parallel", "2"], "drop --parallel or use --replay own"),
            (["--replay", "everyone"], "--replay must be own or shared"),
            (["--parameter-noise", "20"], "--parameter-noise must be in 0...10"),
        ] {
            let result = try run("colony", arguments("bad", extra))
            XCTAssertEqual(result.status, 1, result.output)
            XCTAssertTrue(result.output.contains(expected), "\(extra): \(result.output)")
            XCTAssertEqual(result.output.split(separator: "\n").count, 1, result.output)
        }
        var submit = arguments("bad", ["--replay", "shared"])
        submit[1] = "submit"
        submit.removeAll { $0 == "--quiet" }
        let refused = try run("colony", submit)
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("--replay shared trains members in turn"), refused.output)
        let missing = try run("colony", ["pbt", "status", directory + "/nothing"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.output.contains("cannot read"), missing.output)
    }
}
