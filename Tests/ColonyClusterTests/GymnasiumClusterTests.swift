import ColonyCluster
import ColonyEnvironments
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest

/// A cluster on a `gym:` environment: workers run their own Python environment hosts, double-buffered
/// (two halves stepped in turn), and a host killed mid-run is replaced while training goes on.
final class GymnasiumClusterTests: ExecutableTestCase {
    /// `make envhost`'s interpreter (or COLONY_PYTHON); the test is skipped, saying why, without one.
    private func python() throws -> String {
        guard let python = EnvironmentHostTesting.python else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        return python
    }

    /// IMPALA with 2 workers × 4 `gym:CartPole-v1` environments (each worker: two lanes of 2, one
    /// host each) learns to a 100-episode mean ≥ 200; a host SIGKILLed mid-run is restarted, its
    /// worker drops the unroll in progress (counted in its status) and keeps training.
    func testIMPALAClusterTrainsOnAGymEnvironmentAndSurvivesAKilledHost() throws {
        let python = try python()
        let coordinator = try freeEndpoint()
        let text = """
        algorithm = "impala"
        env = "gym:CartPole-v1"
        frames = 2000000
        seed = 3
        runs_dir = "\(directory!)/runs"

        [env]
        python = "\(python)"

        [cluster]
        coordinator = "\(coordinator)"
        host = "127.0.0.1"
        workers = 2
        envs_per_worker = 4
        credits = 2
        batch_unrolls = 2
        max_policy_lag = 50

        [agent]
        unroll_length = 20
        """
        let path = directory + "/impala-gym.toml"
        try AtomicFile.write(text, to: path)
        let log = directory + "/cluster.log"
        let cluster = try start("colony", ["cluster", "up", path], log: log)
        let returns = "\(directory!)/runs/impala/gym-CartPole-v1/seed-3/returns100.csv"
        func rows() -> [ReturnsCSV.Row] { (try? ReturnsCSV.read(returns)) ?? [] }
        func output() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        // Once episodes come in, kill one environment host (a grandchild of `colony cluster up`).
        XCTAssertTrue(eventually(timeout: 60) { rows().count >= 5 || !cluster.isRunning }, "no episodes within 60 s\n\(output().suffix(3000))")
        let hosts = hostProcesses(under: cluster.processIdentifier)
        XCTAssertEqual(hosts.count, 4, "2 workers × 2 lanes × 1 host: \(hosts)")
        if let victim = hosts.first { kill(victim, SIGKILL) }

        let deadline = Date().addingTimeInterval(300)
        var dropped = 0.0
        while cluster.isRunning && Date() < deadline {
            let workers = status(coordinator, keys: "\(directory!)/runs/impala/gym-CartPole-v1/seed-3/keys")?.members.filter { $0.role == .worker } ?? []
            dropped = max(dropped, workers.compactMap { $0.stats.extra["dropped_unrolls"] }.reduce(0, +))
            if dropped >= 1, rows().contains(where: { $0.mean >= 200 }) { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        let reached = rows().first { $0.mean >= 200 }
        kill(cluster.processIdentifier, SIGINT)
        cluster.waitUntilExit()
        let text2 = output()
        XCTAssertNotNil(reached, "no 100-episode mean ≥ 200; rows: \(rows().map { Int($0.mean) })\n\(text2.suffix(3000))")
        XCTAssertGreaterThanOrEqual(dropped, 1, "the worker whose host was killed reports a dropped unroll\n\(text2.suffix(3000))")
        XCTAssertTrue(text2.contains("restarting the environment host"), String(text2.suffix(3000)))
        XCTAssertTrue(text2.contains("double-buffered"), String(text2.prefix(3000)))
        XCTAssertTrue(hostProcesses(under: cluster.processIdentifier).isEmpty, "hosts outlive their workers")
    }

    /// The pids of `python -m colony_envhost` processes descended from `root`.
    private func hostProcesses(under root: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        var commands: [Int32: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 1, let parent = Int32(fields[1]) else { continue }
            parents[pid] = parent
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            commands[pid] = String(decoding: cmdline.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        }
        func descends(_ pid: Int32) -> Bool {
            var current = pid
            for _ in 0..<16 {
                guard let parent = parents[current], parent > 1 else { return false }
                if parent == root { return true }
                current = parent
            }
            return false
        }
        return commands.filter { $0.value.contains("colony_envhost") && descends($0.key) }.map(\.key).sorted()
    }
}
