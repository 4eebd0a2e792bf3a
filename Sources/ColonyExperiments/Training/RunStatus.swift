import ColonyStorage
import Foundation

/// What a run says about itself in `status.json`, so grids and Slurm jobs can be followed without
/// reading logs (and after a job has left the queue).
public struct RunStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case running, done, failed, requeued }

    public var state: State
    public var frames: Int
    public var totalFrames: Int
    public var episodes: Int
    public var lastMeanReturn: Double?
    public var testMeanReturn: Double?
    public var message: String?
    /// Network messages a cluster learner dropped, per reason (`"out of range": 3`); nil when none
    /// were dropped or the run is not a cluster learner (docs/wire.md, "Meaning").
    public var droppedMessages: [String: Int]?
    public var updated: Double

    public init(state: State, frames: Int, totalFrames: Int, episodes: Int, lastMeanReturn: Double? = nil, testMeanReturn: Double? = nil, message: String? = nil,
                droppedMessages: [String: Int]? = nil) {
        self.state = state
        self.frames = frames
        self.totalFrames = totalFrames
        self.episodes = episodes
        self.lastMeanReturn = lastMeanReturn
        self.testMeanReturn = testMeanReturn
        self.message = message
        self.droppedMessages = droppedMessages?.isEmpty == true ? nil : droppedMessages
        updated = Date().timeIntervalSince1970
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // A non-finite mean return (a diverged run) is written as a string rather than failing the write.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(Array(try encoder.encode(self)) + [10], to: path)
    }

    public static func read(_ path: String) -> RunStatus? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try? decoder.decode(RunStatus.self, from: data)
    }
}
