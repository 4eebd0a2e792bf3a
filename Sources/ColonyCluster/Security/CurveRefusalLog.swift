import ColonyTransport

/// Logs the CURVE clients a context's ZAP handler refused since the last report: how many, and the
/// newest refused keys with their addresses (at most once a second, so a flood is one line a second).
public struct CurveRefusalLog {
    private var reported = 0
    private var lastReport = ContinuousClock.now

    public init() {}

    public mutating func report(_ admissions: CurveAdmissions, to logger: ClusterLogger) {
        guard admissions.refused > reported, ContinuousClock.now - lastReport >= .seconds(1) else { return }
        let fresh = admissions.refused - reported
        let newest = admissions.recentRefusals.suffix(min(fresh, 3)).joined(separator: "; ")
        logger.warning("refused \(fresh) CURVE connection(s) whose key this run does not authorize (\(admissions.refused) in all): \(newest)")
        reported = admissions.refused
        lastReport = ContinuousClock.now
    }
}
