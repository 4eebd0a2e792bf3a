import ColonyStorage
import Foundation

/// The files of one training run: `runs/<agent>/<env>/seed-<s>/`.
///
/// - `config.toml`: the effective configuration, every key marked set or default
/// - `returns100.csv`: ALL's format, a row per 100 training episodes
/// - `returns-test.csv`: one row over the test episodes after training
/// - `events.out.tfevents.*`: TensorBoard scalars and the configuration as text
/// - `checkpoints/latest.h5` and `checkpoints/frame-<n>.h5` (the last K kept)
/// - `status.json`: state (running, done, failed), frames, last mean return — for grids and Slurm
public struct RunDirectory: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    public init(runsDirectory: String, agent: String, environment: String, seed: UInt64) {
        path = "\(runsDirectory)/\(agent)/\(Self.directoryName(environment: environment))/seed-\(seed)"
    }

    /// One path component per environment: `gym:ALE/Pong-v5` → `gym-ALE-Pong-v5` (native ids are as they are).
    public static func directoryName(environment: String) -> String {
        String(environment.map { $0 == "/" || $0 == ":" ? "-" : $0 })
    }

    public var configuration: String { path + "/config.toml" }
    public var returns100: String { path + "/returns100.csv" }
    public var returnsTest: String { path + "/returns-test.csv" }
    public var checkpoints: String { path + "/checkpoints" }
    public var latestCheckpoint: String { checkpoints + "/latest.h5" }
    public var status: String { path + "/status.json" }
    /// What `RunDirectoryLock` locks while a trainer or learner writes the directory.
    public var lock: String { path + "/run.lock" }

    public func numberedCheckpoint(frame: Int) -> String {
        checkpoints + "/frame-" + String(repeating: "0", count: max(0, 10 - String(frame).count)) + String(frame) + ".h5"
    }

    /// Numbered checkpoints, oldest first.
    public func numberedCheckpoints() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
        return names.filter { $0.hasPrefix("frame-") && $0.hasSuffix(".h5") }.sorted().map { checkpoints + "/" + $0 }
    }

    public func create() throws {
        try AtomicFile.createDirectories(checkpoints)
    }

    /// Removes everything the run wrote (for `--fresh`), except the lock file: the process that
    /// clears holds it.
    public func clear() throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names where path + "/" + name != lock { try FileManager.default.removeItem(atPath: path + "/" + name) }
    }

    /// Checks that `value` can name one directory of a run's path: a grid name, an agent or an
    /// environment must not climb out of the runs directory ("..", "/") or vanish (".", "").
    public static func checkComponent(_ value: String, what: String) throws {
        guard !value.isEmpty, value != ".", value != "..", !value.contains("/"), !value.contains("\0") else {
            throw TrainingError("\(what) '\(value)' cannot name a directory inside the runs directory: use letters, digits, '-', '_' or '.' without '/' (and not '.' or '..')")
        }
    }
}
