import ColonyExperiments
import Foundation
import Synchronization

/// Population members' clusters kept up across boundaries: each runs in a `LocalClusterLauncher` on a thread of its
/// own, its learner holding at every interval's frame target (`[cluster] hold_at_target`) until the population
/// releases it (`LearnerHold`). Used from the population's thread only; the launchers' threads share nothing with it
/// but their stop flags, outcomes and log.
final class HeldClusters {
    private var running: [Int: HeldCluster] = [:]

    /// Whether slot `slot`'s cluster is up.
    func isRunning(_ slot: Int) -> Bool {
        guard let cluster = running[slot] else { return false }
        return cluster.outcome == nil
    }

    /// Starts slot `slot`'s cluster from its member file.
    func start(slot: Int, settingsPath: String, settings: ClusterSettings, binaryDirectory: String, keysDirectory: String?,
               log: ClusterLog) {
        running[slot] = HeldCluster(settingsPath: settingsPath, settings: settings, binaryDirectory: binaryDirectory,
                                    keysDirectory: keysDirectory, log: log)
    }

    /// Where slot `slot`'s cluster forwards its lines (the member's label changes with its lineage).
    func log(of slot: Int) -> ClusterLog? { running[slot]?.log }

    /// How slot `slot`'s cluster ended (its learner's exit status, or why it could not start); nil while it runs.
    func outcome(of slot: Int) -> Result<Int32, any Error>? { running[slot]?.outcome }

    /// Forgets an ended cluster, so that the next interval starts a new one.
    func remove(_ slot: Int) { running[slot] = nil }

    /// Stops every cluster (each learner is at a checkpoint already) and waits for their processes to end.
    func stopAll() {
        for cluster in running.values { cluster.stop.store(true, ordering: .relaxed) }
        while running.values.contains(where: { $0.outcome == nil }) { Thread.sleep(forTimeInterval: 0.05) }
        running.removeAll()
    }
}

/// One member's cluster on its launcher thread.
private final class HeldCluster: Sendable {
    let stop = Atomic<Bool>(false)
    let log: ClusterLog
    private let ended = Mutex<Result<Int32, any Error>?>(nil)

    init(settingsPath: String, settings: ClusterSettings, binaryDirectory: String, keysDirectory: String?, log: ClusterLog) {
        self.log = log
        let thread = Thread { [self] in
            let launcher = LocalClusterLauncher(
                settingsPath: settingsPath, settings: settings, binaryDirectory: binaryDirectory, keysDirectory: keysDirectory,
                output: { line in log(line) }, stopRequested: { [self] in stop.load(ordering: .relaxed) })
            let outcome = Result { try launcher.run() }
            ended.withLock { $0 = outcome }
        }
        thread.name = "colony-population-cluster"
        thread.start()
    }

    var outcome: Result<Int32, any Error>? { ended.withLock { $0 } }
}

/// A member's log, called with its cluster's lines from the threads that read its processes' output, one line at a
/// time: the lock serializes every call. `redirect` points it at the member's current label.
final class ClusterLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: (String) -> Void
    private let quiet: Bool

    /// `quiet`: only the launcher's own lines (start, a process that failed, the end), not every process's.
    init(_ log: @escaping (String) -> Void, quiet: Bool) {
        self.log = log
        self.quiet = quiet
    }

    func redirect(_ log: @escaping (String) -> Void) { lock.withLock { self.log = log } }

    func callAsFunction(_ line: String) {
        if quiet && line.hasPrefix("[") { return }
        lock.withLock { log(line) }
    }
}
