import ColonyAgents
import ColonyExperiments
import Foundation

/// A learner's hold at a population's boundary (`[cluster] hold_at_target`), for every learner role.
extension LearnerHost {
    enum HoldOutcome {
        case released(ClusterSettings)
        case stopped(StopReason)
    }

    /// Checkpoints at the interval's target, records the hold (`LearnerHold`) and waits, heartbeating and publishing
    /// `parameters` once a second for late joiners, until the population releases the learner to a later target: then
    /// returns the reread settings, checked against the ones it ran with, once `ready` says the rest of the cluster
    /// (a replay server reloading its table) is ready for them. A stop meanwhile leaves the checkpoint at the target as
    /// it is and asks the coordinator to end the run (workers and coordinator leave with the learner).
    func holdUntilReleased(_ state: any Checkpointable, group: String, counters: LearnerCounters, parameters: [Float],
                           stopRequested: () -> Bool, reread: () throws -> ClusterSettings, logger: ClusterLogger,
                           ready: (ClusterSettings) -> Bool = { _ in true }) throws -> HoldOutcome {
        try hold(state, group: group, counters: counters)
        logger.info("holding at frame \(counters.frames) (target \(settings.frames), parameter version \(counters.version)) for the next interval")
        var released: ClusterSettings?
        while true {
            var stop: StopReason?
            if stopRequested() { stop = .requested }
            if let signal = StopSignal.requested { stop = .signal(signal) }
            if shutdownOrdered { stop = .coordinatorShutdown }
            if let stop {
                logger.info("learner stopped while holding: \(stop) at frame \(counters.frames)")
                if stop != .coordinatorShutdown {
                    client.requestShutdown(reason: "the learner stopped while holding (\(stop))")
                    Thread.sleep(forTimeInterval: 0.5)  // let the request leave before the client closes
                }
                return .stopped(stop)
            }
            if released == nil, let release = try LearnerHold.pendingRelease(in: settings.runDirectory), release.target > settings.frames {
                released = try LearnerHold.settings(after: release, current: settings, reread: try reread(), exactTarget: true)
            }
            if let released, ready(released) { return .released(released) }
            try publishIfSilent(parameters, version: counters.version)
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}
