import ColonyEnvironments
import ColonyStorage
import Foundation

/// The learner's periodic evaluation of its evaluation policy: `episodes` environments stepped
/// together with one batched decision per step until each has finished one episode (an episode
/// still running after `maximumSteps` counts with its return so far).
enum PolicyEvaluation {
    static func returns(environment: EnvironmentSettings, episodes: Int, seed: UInt64, maximumSteps: Int = 10_000,
                        policy: ([Float], Int) -> [Action]) throws -> [Double] {
        let environments = try VectorEnvironments.make(environment, count: episodes, seed: seed)
        try environments.reset(seed: seed)
        var running = [Double](repeating: 0, count: episodes)
        var finished = [Double?](repeating: nil, count: episodes)
        var remaining = episodes
        for _ in 0..<maximumSteps where remaining > 0 {
            try environments.step(policy(environments.observations, episodes))
            let rewards = environments.rewards, terminated = environments.terminated, truncated = environments.truncated
            for env in 0..<episodes where finished[env] == nil {
                running[env] += rewards[env]
                if terminated[env] || truncated[env] {
                    finished[env] = running[env]
                    remaining -= 1
                }
            }
        }
        return (0..<episodes).map { finished[$0] ?? running[$0] }
    }
}

/// `returns-eval.csv`: one row `frame,mean,std,max,min` per evaluation (the columns of
/// returns100.csv), rewritten atomically on every row.
final class EvaluationLog {
    let path: String
    private(set) var rows: [ReturnsCSV.Row]

    init(path: String) {
        self.path = path
        rows = (try? ReturnsCSV.read(path)) ?? []
    }

    func append(_ row: ReturnsCSV.Row) throws {
        rows.append(row)
        try write()
    }

    /// Drops rows after `frame` (a resumed run evaluates them again).
    func truncate(afterFrame frame: Int) throws {
        let kept = rows.filter { $0.frame <= frame }
        guard kept.count != rows.count else { return }
        rows = kept
        try write()
    }

    private func write() throws {
        try AtomicFile.write(rows.map { $0.line + "\n" }.joined(), to: path)
    }
}
