import Foundation

/// Frames and updates per second, measured over windows of at least a second.
public struct ThroughputWindow: Sendable {
    public struct Rates: Sendable {
        public var framesPerSecond: Double
        public var updatesPerSecond: Double
    }

    private var frames: Int
    private var updates: Int
    private var time = Date().timeIntervalSince1970

    public init(frames: Int, updates: Int = 0) {
        self.frames = frames
        self.updates = updates
    }

    /// The rates since the window opened, once a second has passed (and a new window opens); nil before.
    public mutating func close(frames: Int, updates: Int = 0) -> Rates? {
        let now = Date().timeIntervalSince1970
        guard now - time >= 1 else { return nil }
        defer { (self.frames, self.updates, time) = (frames, updates, now) }
        return Rates(framesPerSecond: Double(frames - self.frames) / (now - time), updatesPerSecond: Double(updates - self.updates) / (now - time))
    }
}
