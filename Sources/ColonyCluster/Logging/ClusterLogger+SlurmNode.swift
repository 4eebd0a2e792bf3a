import Foundation

extension ClusterLogger {
    /// Logs the Slurm node this process runs on (`SLURMD_NODENAME`; nothing outside Slurm), so the log of a
    /// multi-node job shows where each role ran: `learner on Slurm node node1`.
    public func logSlurmNode(of role: String) {
        if let node = ProcessInfo.processInfo.environment["SLURMD_NODENAME"] { info("\(role) on Slurm node \(node)") }
    }
}
