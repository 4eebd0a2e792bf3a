import ColonyAgents
import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import Foundation

/// Everything `colony train` needs to know about one run.
public struct TrainingOptions: Sendable {
    /// The environment's id and, for `gym:` ids, how the Python host builds it.
    public var environmentSettings: EnvironmentSettings
    public var environment: String {
        get { environmentSettings.id }
        set { environmentSettings.id = newValue }
    }
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
    /// The run directory, when not `runs/<agent>/<env>/seed-<s>` (a population member's slot).
    public var explicitDirectory: RunDirectory?
    /// Resume a checkpoint whose configuration differs from this one in the agent's reconfigurable keys
    /// only (population-based training changes them between intervals).
    public var allowsReconfiguration = false
    /// Derive every random stream of the resumed agent and environments afresh (a member that copied another).
    public var reseeding: RandomStreamReseeding?
    /// A population's shared replay buffer: loaded into the agent when the run starts an interval, saved back
    /// when it reaches `frames`.
    public var sharedReplay: SharedReplayExchange?
    /// Gaussian noise for the resumed agent's acting network (a mutated population member).
    public var parameterNoise: ParameterNoise?

    public init(
        environment: String, seed: UInt64, frames: Int, configuration: Configuration, runsDirectory: String = "runs",
        checkpointInterval: Int = 0, keepCheckpoints: Int = RunRecorder.defaultKeepCheckpoints, testEpisodes: Int = 100, fresh: Bool = false,
        environmentSettings: EnvironmentSettings? = nil
    ) {
        self.environmentSettings = environmentSettings ?? EnvironmentSettings(id: environment)
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
    public var directory: RunDirectory {
        explicitDirectory ?? RunDirectory(runsDirectory: runsDirectory, agent: agent, environment: environment, seed: seed)
    }
}

/// Where a population member finds the buffer its members share, and the frame at which it takes it: the
/// start of its interval (a member resumed in the middle of one continues with its own checkpoint's copy).
public struct SharedReplayExchange: Sendable, Equatable {
    public var path: String
    public var importFrame: Int

    public init(path: String, importFrame: Int) { (self.path, self.importFrame) = (path, importFrame) }
}

/// σ and the seed of the noise a population member's acting network takes when it resumes after a boundary.
public struct ParameterNoise: Sendable, Equatable {
    public var standardDeviation: Float
    public var seed: UInt64

    public init(standardDeviation: Float, seed: UInt64) { (self.standardDeviation, self.seed) = (standardDeviation, seed) }
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

    public func run() throws -> TrainingResult { try run(holding: nil) }

    /// `lock` is the run directory's lock when a first attempt already took it (and started over).
    private func run(holding held: RunDirectoryLock?) throws -> TrainingResult {
        let started = Date().timeIntervalSince1970
        let directory = options.directory
        // Build everything that can refuse the request (spaces, configuration) before touching the disk.
        let environmentCount = options.configuration.int("num_envs")
        let environments = try VectorEnvironments.make(options.environmentSettings, count: environmentCount, seed: options.seed)
        let agent = try Agents.makeParallel(
            options.configuration, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace,
            environments: environmentCount, seed: options.seed)
        try RunDirectory.checkComponent(options.agent, what: "agent")
        try RunDirectory.checkComponent(RunDirectory.directoryName(environment: options.environment), what: "environment")
        // Held until this run returns: a second trainer or learner on the directory is refused.
        let lock = try held ?? RunDirectoryLock(directory)
        defer { withExtendedLifetime(lock) {} }
        if options.fresh { try directory.clear() }
        try directory.create()
        if FileManager.default.fileExists(atPath: directory.returns100) {
            // ReturnsCSV starts empty on a file it cannot read; resuming would then overwrite its rows.
            do { _ = try ReturnsCSV.read(directory.returns100) } catch {
                throw TrainingError("\(error); correct or delete that line, or pass --fresh to start over")
            }
        }
        let returns100 = ReturnsCSV(path: directory.returns100)

        var state = LoopState(frames: 0, episodes: 0, actions: agent.reset(observations: environments.observations))
        var resumedFrom: Int?
        if FileManager.default.fileExists(atPath: directory.latestCheckpoint) {
            let continuesEpisodes: Bool
            do {
                try checkResumable(directory)
                let carried = try checkpointInThisArchitecture(directory, agent: agent, environments: environmentCount)
                defer { if let carried { try? FileManager.default.removeItem(atPath: carried) } }
                continuesEpisodes = try TrainingCheckpoint.load(
                    agent: agent, environments: environments, returns100: returns100, state: &state, from: carried ?? directory.latestCheckpoint,
                    reseeding: options.reseeding)
            } catch let error as TrainingError {
                throw error
            } catch {
                // A damaged latest.h5: say which file and what to do, in the error's one line.
                throw TrainingError(
                    "cannot resume from \(directory.latestCheckpoint): \(error); pass --fresh to start over, or copy an earlier checkpoints/frame-<n>.h5 over latest.h5")
            }
            resumedFrom = state.frames
            log("resuming \(directory.path) from frame \(state.frames) (use --fresh to start over)")
            if !continuesEpisodes {
                state.actions = agent.reset(observations: environments.observations)
                log("\(options.environment) cannot be snapshotted: resuming with fresh episodes")
            }
        } else if !returns100.rows.isEmpty {
            // Files of a run that never checkpointed: start clean rather than mix two runs in one CSV.
            try directory.clear()
            try directory.create()
            return try run(holding: lock)
        }

        if let noise = options.parameterNoise, resumedFrom != nil {
            guard let perturbing = agent as? any ParameterPerturbing else {
                throw TrainingError("\(options.agent) has no network to perturb; drop --parameter-noise")
            }
            var random = RandomSource(seed: noise.seed)
            perturbing.perturbActingParameters(standardDeviation: noise.standardDeviation, random: &random)
        }

        var replaySharing: (any ReplaySharing)?
        if let shared = options.sharedReplay {
            guard let sharing = agent as? any ReplaySharing else {
                throw TrainingError("\(options.agent) has no replay buffer to share; use a population with its own replay (--replay own)")
            }
            replaySharing = sharing
            if state.frames == shared.importFrame, FileManager.default.fileExists(atPath: shared.path) {
                do { try SharedReplayFile.load(shared.path, into: sharing) } catch {
                    throw TrainingError("cannot load the shared replay buffer \(shared.path): \(error)")
                }
            }
        }

        // A finished run started again (a Slurm task the controller ran twice, `colony train` repeated) leaves
        // its files alone: writing status.json as running first would tell its readers the run is not done.
        if resumedFrom != nil, state.frames >= options.frames, let status = RunStatus.read(directory.status),
           status.state == .done, status.frames >= options.frames {
            log("\(directory.path) is already done at frame \(state.frames) of \(options.frames): nothing to train (raise --frames to continue it, or pass --fresh to start over)")
            // A population that stopped between this member's last checkpoint and its hand-over passes the buffer on now.
            if let shared = options.sharedReplay, let replaySharing { try SharedReplayFile.save(replaySharing, to: shared.path) }
            return TrainingResult(
                frames: state.frames, episodes: state.episodes, resumedFrom: resumedFrom, stoppedBySignal: nil, testReturns: [],
                lastReturns100: returns100.rows.last, wallClockSeconds: Date().timeIntervalSince1970 - started)
        }

        let recorder = try RunRecorder(
            directory: directory, returns100: returns100, header: runHeader(), configuration: options.configuration.toml(annotated: true) + options.environmentSettings.tomlTables,
            totalFrames: options.frames, checkpointInterval: options.checkpointInterval, keepCheckpoints: options.keepCheckpoints,
            frames: state.frames)
        try recorder.writeStatus(.running, frames: state.frames, episodes: state.episodes)
        // A population member's values in this interval, beside its returns in TensorBoard.
        if options.allowsReconfiguration { recorder.recordHyperparameters(options.configuration, frame: state.frames) }
        onFirstStep(Date().timeIntervalSince1970, state.frames)

        func checkpoint() throws {
            try recorder.checkpoint(frames: state.frames, episodes: state.episodes) { path in
                try TrainingCheckpoint.save(agent: agent, environments: environments, returns100: returns100, state: state, environment: options.environmentSettings, to: path)
            }
        }

        var stopReason: StopReason
        while true {
            if let reason = recorder.stopReason(frames: state.frames) { stopReason = reason; break }
            try environments.step(state.actions)
            state.frames += environments.count
            let step = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations)
            state.actions = step.actions
            recorder.add(step.info)
            for episode in environments.completedEpisodes {
                state.episodes += 1
                try recorder.recordEpisode(return: episode.episodeReturn, length: episode.length, frame: state.frames)
            }
            recorder.closeThroughputWindow(frames: state.frames)
            progress.update(frames: state.frames, total: options.frames, framesPerSecond: recorder.framesPerSecond, recentMeanReturn: recorder.recentMeanReturn)
            if recorder.isCheckpointDue(frames: state.frames) { try checkpoint() }
        }
        recorder.writeMetrics(step: state.frames)
        progress.update(frames: state.frames, total: options.frames, framesPerSecond: recorder.framesPerSecond, recentMeanReturn: recorder.recentMeanReturn, force: true)
        progress.finish()
        try checkpoint()

        var testReturns: [Double] = []
        if let signal = stopReason.signal {
            log("stopped by signal \(signal) at frame \(state.frames); checkpoint written, rerun the same command to resume")
        } else {
            if let shared = options.sharedReplay, let replaySharing { try SharedReplayFile.save(replaySharing, to: shared.path) }
            if options.testEpisodes > 0 {
                testReturns = try AgentRunner.evaluate(agent, environment: options.environmentSettings, episodes: options.testEpisodes, seed: options.seed &+ 1_000_003)
                let row = ReturnsCSV.Row(frame: state.frames, returns: testReturns)
                try ReturnsCSV.writeSingleRow(row, to: directory.returnsTest)
                recorder.board.scalar("summary/returns-test/mean", row.mean, step: state.frames)
                log(String(format: "test returns over %d episodes: %.2f ± %.2f (standard error)", testReturns.count, row.mean, row.std / Double(testReturns.count).squareRoot()))
            }
            try recorder.writeStatus(
                .done, frames: state.frames, episodes: state.episodes, lastMeanReturn: recorder.lastMeanReturn ?? recorder.recentMeanReturn,
                testMeanReturn: testReturns.isEmpty ? nil : testReturns.reduce(0, +) / Double(testReturns.count))
        }
        try recorder.flush()
        return TrainingResult(
            frames: state.frames, episodes: state.episodes, resumedFrom: resumedFrom, stoppedBySignal: stopReason.signal, testReturns: testReturns,
            lastReturns100: returns100.rows.last, wallClockSeconds: Date().timeIntervalSince1970 - started)
    }

    private func runHeader() -> String {
        "# effective configuration of \(options.agent) on \(options.environment), seed \(options.seed), \(options.frames) frames\n"
            + "# every key with its value; '# set' marks a value given in a file or --set, '# default' one left at its default\n"
    }

    /// Where the latest checkpoint was saved under another architecture (a population member whose `hidden_sizes`
    /// mutated), a copy of it in this agent's shapes, next to it, that the caller removes; nil where it fits as it is.
    private func checkpointInThisArchitecture(_ directory: RunDirectory, agent: any ParallelAgent, environments: Int) throws -> String? {
        guard options.allowsReconfiguration, let resizing = agent as? any ArchitectureResizing else { return nil }
        let header = try AgentCheckpoint.Header(path: directory.latestCheckpoint)
        let saved = ArchitectureCarry.changedValues(savedConfiguration: header.configurationTOML, for: agent)
        guard !saved.isEmpty else { return nil }
        let carried = directory.latestCheckpoint + ".architecture.h5"
        try ArchitectureCarry.carry(checkpoint: directory.latestCheckpoint, savedValues: saved, into: carried, for: resizing,
                                    environments: environments, seed: options.seed)
        log("carrying \(directory.latestCheckpoint) into the new architecture: "
            + saved.keys.sorted().map { "\($0) \(saved[$0]!) → \(agent.configuration.value($0))" }.joined(separator: ", ")
            + " (overlapping weights and optimizer moments kept)")
        return carried
    }

    /// A run directory may only be resumed by the same algorithm and configuration.
    private func checkResumable(_ directory: RunDirectory) throws {
        let header = try AgentCheckpoint.Header(path: directory.latestCheckpoint)
        guard header.agent == options.agent else {
            throw TrainingError("\(directory.latestCheckpoint) belongs to a \(header.agent) run; use --fresh to replace it or another --runs-dir")
        }
        // Population members may change their reconfigurable and resizable keys between intervals: compare the rest.
        let schema = options.configuration.schema
        let ignored = options.allowsReconfiguration ? schema.reconfigurable.union(schema.resizable) : []
        func comparable(_ toml: String) -> [Substring] {
            toml.split(separator: "\n").filter { line in !ignored.contains { line.hasPrefix("\($0) = ") } }
        }
        guard comparable(header.configurationTOML) == comparable(options.configuration.toml(annotated: false)) else {
            throw TrainingError("\(directory.path) holds a run with a different configuration; rerun with the same settings to resume, or --fresh to start over")
        }
    }
}

/// The loop's own state, saved with the agent so a resumed run continues exactly.
struct LoopState {
    var frames: Int
    var episodes: Int
    var actions: [Action]
}
