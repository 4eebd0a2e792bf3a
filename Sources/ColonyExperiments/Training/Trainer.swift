import ColonyAgents
import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import Foundation

/// Everything `colony train` needs to know about one run.
public struct TrainingOptions: Sendable {
    public var environment: String
    public var seed: UInt64
    public var frames: Int
    public var configuration: Configuration
    public var runsDirectory: String
    /// Frames between checkpoints (0: only at the end).
    public var checkpointInterval: Int
    /// Numbered checkpoints kept besides `latest.h5`.
    public var keepCheckpoints: Int
    public var testEpisodes: Int
    /// Start over even when the run directory holds a checkpoint.
    public var fresh: Bool

    public init(
        environment: String, seed: UInt64, frames: Int, configuration: Configuration, runsDirectory: String = "runs",
        checkpointInterval: Int = 0, keepCheckpoints: Int = 3, testEpisodes: Int = 100, fresh: Bool = false
    ) {
        self.environment = environment
        self.seed = seed
        self.frames = frames
        self.configuration = configuration
        self.runsDirectory = runsDirectory
        self.checkpointInterval = checkpointInterval > 0 ? checkpointInterval : max(10_000, frames / 10)
        self.keepCheckpoints = keepCheckpoints
        self.testEpisodes = testEpisodes
        self.fresh = fresh
    }

    public var agent: String { configuration.agent }
    public var directory: RunDirectory { RunDirectory(runsDirectory: runsDirectory, agent: agent, environment: environment, seed: seed) }
}

/// What a finished (or stopped) run reports.
public struct TrainingResult: Sendable {
    public var frames: Int
    public var episodes: Int
    public var resumedFrom: Int?
    public var stoppedBySignal: Int32?
    public var testReturns: [Double]
    public var lastReturns100: ReturnsCSV.Row?
    public var wallClockSeconds: Double
}

public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The single-process training loop: N environments, one agent, the run directory's files.
/// Resumes from `checkpoints/latest.h5` when it exists (unless `fresh`), checkpoints every
/// `checkpointInterval` frames and on SIGINT/SIGTERM, and evaluates at the end.
public final class Trainer {
    public let options: TrainingOptions
    private let progress: ProgressReporter
    private let log: (String) -> Void
    /// Called once, just before the first training step, with the time and the frame it starts from
    /// (the resumed checkpoint's, or 0): a Slurm cell records when and where each start began.
    private let onFirstStep: (Double, Int) -> Void

    public init(options: TrainingOptions, progress: ProgressReporter, log: @escaping (String) -> Void = { print($0) },
                onFirstStep: @escaping (Double, Int) -> Void = { _, _ in }) {
        self.options = options
        self.progress = progress
        self.log = log
        self.onFirstStep = onFirstStep
    }

    public func run() throws -> TrainingResult {
        let started = Date().timeIntervalSince1970
        let directory = options.directory
        // Build everything that can refuse the request (spaces, configuration) before touching the disk.
        let environmentCount = options.configuration.int("num_envs")
        let environments = try VectorEnvironments.make(id: options.environment, count: environmentCount, seed: options.seed)
        let agent = try Agents.makeParallel(
            options.configuration, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
            environments: environmentCount, seed: options.seed)
        if options.fresh { try directory.clear() }
        try directory.create()
        let returns100 = ReturnsCSV(path: directory.returns100)

        var state = LoopState(frames: 0, episodes: 0, actions: agent.reset(observations: environments.observations))
        var resumedFrom: Int?
        if FileManager.default.fileExists(atPath: directory.latestCheckpoint) {
            try checkResumable(directory)
            let continuesEpisodes = try TrainingCheckpoint.load(
                agent: agent, environments: environments, returns100: returns100, state: &state, from: directory.latestCheckpoint)
            resumedFrom = state.frames
            log("resuming \(directory.path) from frame \(state.frames) (use --fresh to start over)")
            if !continuesEpisodes {
                state.actions = agent.reset(observations: environments.observations)
                log("the checkpoint holds no environment snapshot for \(options.environment): resuming with fresh episodes")
            }
        } else if !returns100.rows.isEmpty {
            // Files of a run that never checkpointed: start clean rather than mix two runs in one CSV.
            try directory.clear()
            try directory.create()
            return try run()
        }

        try AtomicFile.write(runHeader() + options.configuration.toml(annotated: true), to: directory.configuration)
        let board = try TensorBoardWriter(directory: directory.path)
        board.text("config", "```\n" + options.configuration.toml(annotated: true) + "```", step: state.frames)
        try RunStatus(state: .running, frames: state.frames, totalFrames: options.frames, episodes: state.episodes).write(to: directory.status)
        onFirstStep(Date().timeIntervalSince1970, state.frames)

        var metrics = MetricAccumulator()
        var recentReturns: [Double] = []
        var nextCheckpoint = (state.frames / options.checkpointInterval + 1) * options.checkpointInterval
        var rateWindow = (frames: state.frames, time: Date().timeIntervalSince1970)
        var framesPerSecond = 0.0
        var stopped: Int32?

        while state.frames < options.frames {
            if let signal = StopSignal.requested { stopped = signal; break }
            try environments.step(state.actions)
            state.frames += environments.count
            let step = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations)
            state.actions = step.actions
            metrics.add(step.info)

            for episode in environments.completedEpisodes {
                state.episodes += 1
                board.scalar("charts/episodic_return", episode.episodeReturn, step: state.frames)
                board.scalar("charts/episodic_length", Double(episode.length), step: state.frames)
                recentReturns.append(episode.episodeReturn)
                if recentReturns.count > 100 { recentReturns.removeFirst(recentReturns.count - 100) }
                if let row = try returns100.record(episodeReturn: episode.episodeReturn, frame: state.frames) {
                    for (name, value) in [("mean", row.mean), ("std", row.std), ("max", row.max), ("min", row.min)] {
                        board.scalar("summary/returns100/\(name)", value, step: state.frames)
                    }
                }
            }

            let now = Date().timeIntervalSince1970
            if now - rateWindow.time >= 1 {
                framesPerSecond = Double(state.frames - rateWindow.frames) / (now - rateWindow.time)
                rateWindow = (state.frames, now)
                board.scalar("charts/SPS", framesPerSecond, step: state.frames)
                metrics.write(to: board, step: state.frames)
            }
            progress.update(frames: state.frames, total: options.frames, framesPerSecond: framesPerSecond, recentMeanReturn: mean(recentReturns))

            if state.frames >= nextCheckpoint {
                try checkpoint(agent, environments, returns100, state, board)
                nextCheckpoint += options.checkpointInterval
            }
        }
        metrics.write(to: board, step: state.frames)
        progress.update(frames: state.frames, total: options.frames, framesPerSecond: framesPerSecond, recentMeanReturn: mean(recentReturns), force: true)
        progress.finish()
        try checkpoint(agent, environments, returns100, state, board)

        var testReturns: [Double] = []
        if stopped == nil {
            if options.testEpisodes > 0 {
                testReturns = try AgentRunner.evaluate(agent, environment: options.environment, episodes: options.testEpisodes, seed: options.seed &+ 1_000_003)
                let row = ReturnsCSV.Row(frame: state.frames, returns: testReturns)
                try ReturnsCSV.writeSingleRow(row, to: directory.returnsTest)
                board.scalar("summary/returns-test/mean", row.mean, step: state.frames)
                log(String(format: "test returns over %d episodes: %.2f ± %.2f (standard error)", testReturns.count, row.mean, row.std / Double(testReturns.count).squareRoot()))
            }
            try RunStatus(
                state: .done, frames: state.frames, totalFrames: options.frames, episodes: state.episodes,
                lastMeanReturn: returns100.rows.last?.mean ?? mean(recentReturns), testMeanReturn: testReturns.isEmpty ? nil : mean(testReturns)
            ).write(to: directory.status)
        } else {
            log("stopped by signal \(stopped!) at frame \(state.frames); checkpoint written, rerun the same command to resume")
        }
        try board.flush()
        return TrainingResult(
            frames: state.frames, episodes: state.episodes, resumedFrom: resumedFrom, stoppedBySignal: stopped, testReturns: testReturns,
            lastReturns100: returns100.rows.last, wallClockSeconds: Date().timeIntervalSince1970 - started)
    }

    private func runHeader() -> String {
        "# effective configuration of \(options.agent) on \(options.environment), seed \(options.seed), \(options.frames) frames\n"
            + "# every key with its value; '# set' marks a value given in a file or --set, '# default' one left at its default\n"
    }

    /// A run directory may only be resumed by the same algorithm and configuration.
    private func checkResumable(_ directory: RunDirectory) throws {
        let header = try AgentCheckpoint.Header(path: directory.latestCheckpoint)
        guard header.agent == options.agent else {
            throw TrainingError("\(directory.latestCheckpoint) belongs to a \(header.agent) run; use --fresh to replace it or another --runs-dir")
        }
        let expected = options.configuration.toml(annotated: false)
        guard header.configurationTOML == expected else {
            throw TrainingError("\(directory.path) holds a run with a different configuration; rerun with the same settings to resume, or --fresh to start over")
        }
    }

    private func checkpoint(_ agent: any ParallelAgent, _ environments: any VectorEnvironment, _ returns100: ReturnsCSV, _ state: LoopState, _ board: TensorBoardWriter) throws {
        let directory = options.directory
        let numbered = directory.numberedCheckpoint(frame: state.frames)
        try TrainingCheckpoint.save(agent: agent, environments: environments, returns100: returns100, state: state, environment: options.environment, to: numbered)
        try AtomicFile.replace(directory.latestCheckpoint) { temporary in
            try FileManager.default.copyItem(atPath: numbered, toPath: temporary)
        }
        for old in directory.numberedCheckpoints().dropLast(options.keepCheckpoints) { try? FileManager.default.removeItem(atPath: old) }
        try RunStatus(
            state: .running, frames: state.frames, totalFrames: options.frames, episodes: state.episodes, lastMeanReturn: returns100.rows.last?.mean
        ).write(to: directory.status)
        try board.flush()
    }

    private func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
}

/// The loop's own state, saved with the agent so a resumed run continues exactly.
struct LoopState {
    var frames: Int
    var episodes: Int
    var actions: [Action]
}

/// Averages an agent's (or learner's) info scalars between TensorBoard writes.
public struct MetricAccumulator: Sendable {
    private var sums: [String: Double] = [:]
    private var counts: [String: Int] = [:]

    public init() {}

    public mutating func add(_ info: AgentInfo) {
        for (key, value) in info.scalars where value.isFinite {
            sums[key, default: 0] += value
            counts[key, default: 0] += 1
        }
    }

    public mutating func write(to board: TensorBoardWriter, step: Int) {
        for (key, sum) in sums { board.scalar(key, sum / Double(counts[key]!), step: step) }
        sums.removeAll(keepingCapacity: true)
        counts.removeAll(keepingCapacity: true)
    }
}
