import Foundation

/// What a worker reports of its own progress: frames per second over the last second or more, and
/// the mean of its last 100 episode returns. Shared by the rollout and the replay workers.
struct WorkerProgress {
    private var window = (frames: 0, time: Date().timeIntervalSince1970)
    private var recentReturns: [Double] = []

    mutating func record(returns: [Double]) {
        recentReturns += returns
        if recentReturns.count > 100 { recentReturns.removeFirst(recentReturns.count - 100) }
    }

    /// Once at least a second has passed since the last report: the rate since then and the mean
    /// return (nil before the first episode); nil before that.
    mutating func report(frames: Int, now: Double = Date().timeIntervalSince1970) -> (framesPerSecond: Double, meanReturn: Double?)? {
        guard now - window.time >= 1 else { return nil }
        let rate = Double(frames - window.frames) / (now - window.time)
        window = (frames, now)
        return (rate, recentReturns.isEmpty ? nil : recentReturns.reduce(0, +) / Double(recentReturns.count))
    }
}
