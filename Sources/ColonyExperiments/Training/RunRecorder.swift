import ColonyAgents
import ColonyStorage
import Foundation

/// What every training loop (`Trainer`, the cluster learners) records in its run directory, so the
/// files read the same whoever wrote them: `config.toml`, the episodes (TensorBoard and
/// returns100.csv), frames and updates per second with the averaged agent metrics once a second,
/// `status.json`, and checkpoints every `checkpointInterval` frames, rotated to `keepCheckpoints`.
/// Owned by the loop's thread.
public final class RunRecorder {
    /// Numbered checkpoints kept besides `latest.h5` unless a run says otherwise.
    public static let defaultKeepCheckpoints = 3

    public let directory: RunDirectory
    public let board: TensorBoardWriter
    public let returns100: ReturnsCSV
    public let totalFrames: Int
    private let checkpointInterval: Int
    private let rotation: CheckpointRotation
    private var nextCheckpoint: Int
    private var window: ThroughputWindow
    private var metrics = MetricAccumulator()
    private var recentReturns: [Double] = []
    /// Where status.json takes the run's dropped network messages from (per reason), if anywhere.
    public var droppedMessages: (() -> [String: Int])?
    /// Frames per second over the last closed window (0 before the first).
    public private(set) var framesPerSecond = 0.0

    /// Writes `config.toml` (`header` lines, then the annotated `configuration`) and opens TensorBoard
    /// with the configuration as text at `frames`, where the run starts (0, or its checkpoint's frame).
    /// `returns100` is the run's CSV, already restored from a checkpoint when resuming.
    public init(directory: RunDirectory, returns100: ReturnsCSV, header: String, configuration: String, totalFrames: Int,
                checkpointInterval: Int, keepCheckpoints: Int, frames: Int, updates: Int = 0) throws {
        self.directory = directory
        self.returns100 = returns100
        self.totalFrames = totalFrames
        self.checkpointInterval = checkpointInterval
        rotation = CheckpointRotation(directory: directory, keep: keepCheckpoints)
        // A run killed while checkpointing left its temporary file; this run is the writer now.
        AtomicFile.removeStaleTemporaries(in: directory.path)
        AtomicFile.removeStaleTemporaries(in: directory.checkpoints)
        nextCheckpoint = (frames / checkpointInterval + 1) * checkpointInterval
        try AtomicFile.write(header + configuration, to: directory.configuration)
        board = try TensorBoardWriter(directory: directory.path)
        board.text("config", "```\n" + configuration + "```", step: frames)
        window = ThroughputWindow(frames: frames, updates: updates)
    }

    /// Why the loop should stop at `frames`, if it should (see `StopReason.check`).
    public func stopReason(frames: Int, requested: Bool = false, shutdownOrdered: Bool = false) -> StopReason? {
        StopReason.check(frames: frames, budget: totalFrames, requested: requested, shutdownOrdered: shutdownOrdered)
    }

    // MARK: Episodes

    /// Records one finished episode at `frame`: TensorBoard, the recent window, and returns100.csv
    /// (with its summary scalars) when it completes a block of 100.
    public func recordEpisode(return episodeReturn: Double, length: Int, frame: Int) throws {
        board.scalar("charts/episodic_return", episodeReturn, step: frame)
        board.scalar("charts/episodic_length", Double(length), step: frame)
        recentReturns.append(episodeReturn)
        if recentReturns.count > 100 { recentReturns.removeFirst(recentReturns.count - 100) }
        if let row = try returns100.record(episodeReturn: episodeReturn, frame: frame) {
            for (name, value) in [("mean", row.mean), ("std", row.std), ("max", row.max), ("min", row.min)] {
                board.scalar("summary/returns100/\(name)", value, step: frame)
            }
        }
    }

    /// Mean of the last 100 recorded episodes (of this process: not restored on resume).
    public var recentMeanReturn: Double? { recentReturns.isEmpty ? nil : recentReturns.reduce(0, +) / Double(recentReturns.count) }

    /// The mean of the last returns100.csv row.
    public var lastMeanReturn: Double? { returns100.rows.last?.mean }

    // MARK: Throughput and metrics

    /// Adds an update's (or step's) info scalars to the averages written once a second.
    public func add(_ info: AgentInfo) { metrics.add(info) }

    /// Once a second (nil before): writes `charts/SPS`, `charts/updates_per_second` when `updates` is
    /// given, then the averaged metrics, and returns the window's rates.
    @discardableResult
    public func closeThroughputWindow(frames: Int, updates: Int? = nil) -> ThroughputWindow.Rates? {
        guard let rates = window.close(frames: frames, updates: updates ?? 0) else { return nil }
        framesPerSecond = rates.framesPerSecond
        board.scalar("charts/SPS", rates.framesPerSecond, step: frames)
        if updates != nil { board.scalar("charts/updates_per_second", rates.updatesPerSecond, step: frames) }
        metrics.write(to: board, step: frames)
        return rates
    }

    /// Writes the metrics averaged since the last window (at the end of a run).
    public func writeMetrics(step: Int) { metrics.write(to: board, step: step) }

    // MARK: Checkpoints and status

    /// Whether `frames` has reached the next checkpoint.
    public func isCheckpointDue(frames: Int) -> Bool { frames >= nextCheckpoint }

    /// Writes a checkpoint of `frames` with `write` (given the numbered file's path; see
    /// `CheckpointRotation`), then status.json as running, and flushes TensorBoard. The next one is
    /// due at the following multiple of the interval.
    public func checkpoint(frames: Int, episodes: Int, testMeanReturn: Double? = nil, write: (String) throws -> Void) throws {
        try rotation.save(frame: frames, write: write)
        try writeStatus(.running, frames: frames, episodes: episodes, lastMeanReturn: lastMeanReturn, testMeanReturn: testMeanReturn)
        try board.flush()
        nextCheckpoint = (frames / checkpointInterval + 1) * checkpointInterval
    }

    /// Writes status.json (grids, Slurm cells and `colony experiment status` read it).
    public func writeStatus(_ state: RunStatus.State, frames: Int, episodes: Int, lastMeanReturn: Double? = nil,
                            testMeanReturn: Double? = nil, message: String? = nil) throws {
        try RunStatus(
            state: state, frames: frames, totalFrames: totalFrames, episodes: episodes, lastMeanReturn: lastMeanReturn,
            testMeanReturn: testMeanReturn, message: message, droppedMessages: droppedMessages?()
        ).write(to: directory.status)
    }

    public func flush() throws { try board.flush() }
}

extension RunRecorder {
    /// TensorBoard scalars `hyperparameters/<key>` of the values a population may change between intervals (its
    /// reconfigurable and resizable keys; a layer list as `/layers` and `/units`) at `frame`, where a run starts.
    public func recordHyperparameters(_ configuration: Configuration, frame: Int) {
        let schema = configuration.schema
        for key in schema.reconfigurable.union(schema.resizable).sorted() {
            switch configuration.value(key) {
            case .int(let value): board.scalar("hyperparameters/\(key)", Double(value), step: frame)
            case .double(let value): board.scalar("hyperparameters/\(key)", value, step: frame)
            case .bool(let value): board.scalar("hyperparameters/\(key)", value ? 1 : 0, step: frame)
            case .intList(let sizes):
                board.scalar("hyperparameters/\(key)/layers", Double(sizes.count), step: frame)
                board.scalar("hyperparameters/\(key)/units", Double(sizes.reduce(0, +)), step: frame)
            case .string: break
            }
        }
    }
}
