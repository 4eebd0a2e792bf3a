import ColonyTransport

/// Logs the connections a CURVE context refused since the last report: keys its ZAP handler did not
/// authorize (with the newest keys and addresses) and handshakes that failed before any key was
/// checked (no keys, another run's keys, garbage); at most once a second, so a flood is one line a second.
public struct CurveRefusalLog {
    private var reported = 0
    private var reportedHandshakes = 0
    private var lastReport = ContinuousClock.now

    public init() {}

    public mutating func report(_ admissions: CurveAdmissions, to logger: ClusterLogger) {
        let fresh = admissions.refused - reported, freshHandshakes = admissions.failedHandshakes - reportedHandshakes
        guard fresh > 0 || freshHandshakes > 0, ContinuousClock.now - lastReport >= .seconds(1) else { return }
        if fresh > 0 {
            let newest = admissions.recentRefusals.suffix(min(fresh, 3)).joined(separator: "; ")
            logger.warning("refused \(fresh) CURVE connection(s) whose key this run does not authorize (\(admissions.refused) in all): \(newest)")
        }
        if freshHandshakes > 0 {
            logger.warning("refused \(freshHandshakes) connection(s) without this run's keys: failed CURVE handshakes (\(admissions.failedHandshakes) in all)")
        }
        reported = admissions.refused
        reportedHandshakes = admissions.failedHandshakes
        lastReport = ContinuousClock.now
    }
}
