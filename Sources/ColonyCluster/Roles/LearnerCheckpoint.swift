import ColonyAgents
import ColonyExperiments
import ColonyNumerics
import ColonyStorage
import Foundation

/// A learner's checkpoint file (`RunRecorder` numbers, copies and rotates it): its learning state
/// under `group` (IMPALA/A3C: the networks with their optimizer state; replay-based: the whole
/// learner core), the counters and the current 100-episode window.
enum LearnerCheckpoint {
    /// The group a learner of `settings` keeps its state in: the whole core of a replay learner, the networks otherwise.
    static func group(of settings: ClusterSettings) -> String { settings.usesReplay ? "learner" : "networks" }

    static func save(_ state: any Checkpointable, group: String, counters: LearnerCounters, returns100: ReturnsCSV, settings: ClusterSettings, to path: String) throws {
        try save(state, group: group, counters: counters, window: returns100.pendingReturns, algorithm: settings.algorithm,
                 configurationTOML: settings.configuration.toml(annotated: false), to: path)
    }

    static func save(_ state: any Checkpointable, group: String, counters: LearnerCounters, window: [Double], algorithm: String,
                     configurationTOML: String, to path: String) throws {
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", "colony-learner-checkpoint")
            try file.setAttribute("version", Int64(1))
            try file.setAttribute("algorithm", algorithm)
            try file.writeString(configurationTOML, at: "config")
            let writer = CheckpointWriter(file: file)
            try state.save(to: writer.group(group))
            try writer.write([counters.frames, counters.updates, counters.episodes, counters.version], "counters")
            try writer.write(window, "returns100_window")
        }
    }

    /// Adds `noise` to the acting network saved in the checkpoint at `path` (a population's parameter mutation of a
    /// member that trains as a cluster, applied by the population before the member's learner resumes the file):
    /// the file is rewritten atomically with everything else as it was saved.
    static func perturbActingParameters(checkpoint path: String, settings: ClusterSettings, noise: ParameterNoise) throws {
        let learner = try settings.makeLearner()
        var counters = LearnerCounters()
        let group = group(of: settings)
        let window = try load(learner, group: group, counters: &counters, returns100: nil, settings: settings, from: path)
        let configurationTOML = try HDF5File.open(path).readString(at: "config")
        var random = RandomSource(seed: noise.seed)
        learner.perturbActingParameters(standardDeviation: noise.standardDeviation, random: &random)
        try save(learner, group: group, counters: counters, window: window, algorithm: settings.algorithm, configurationTOML: configurationTOML, to: path)
    }

    /// Carries the checkpoint at `path`, saved under other values of the learner's resizable keys (a population member
    /// whose `hidden_sizes` mutated), into the shapes of `settings`' learner: overlapping weights, targets and optimizer
    /// moments are kept, new units keep the learner's fresh initialization (`ArchitectureCarry`). The file is rewritten
    /// atomically with `settings`' configuration, so carrying it again changes nothing. Returns the saved values that
    /// differed (empty: the file fits as it is).
    static func carryIntoArchitecture(checkpoint path: String, settings: ClusterSettings) throws -> [String: ConfigurationValue] {
        let savedTOML = try HDF5File.open(path).readString(at: "config")
        let changed = ArchitectureCarry.changedValues(savedConfiguration: savedTOML, for: settings.configuration)
        guard !changed.isEmpty else { return [:] }
        let group = group(of: settings)
        let learner = try settings.makeLearner()
        let saved = try settings.makeLearner(configuration: try settings.configuration.overriding(changed))
        let carried = path + ".architecture.h5"
        defer { try? FileManager.default.removeItem(atPath: carried) }
        try ArchitectureCarry.carry(checkpoint: path, group: group, saved: saved.layerStackEntries, into: carried,
                                    entries: learner.layerStackEntries, owner: "\(settings.algorithm) with \(changed)")
        var counters = LearnerCounters()
        let window = try load(learner, group: group, counters: &counters, returns100: nil, settings: settings, from: carried)
        try save(learner, group: group, counters: counters, window: window, algorithm: settings.algorithm,
                 configurationTOML: settings.configuration.toml(annotated: false), to: path)
        return changed
    }

    /// Restores `state` and `counters` from the run's `latest.h5` when there is one; returns the frame
    /// it resumed from, or nil for a fresh start.
    static func resume(_ state: any Checkpointable, group: String, counters: inout LearnerCounters, returns100: ReturnsCSV,
                       settings: ClusterSettings, logger: ClusterLogger) throws -> Int? {
        let latest = settings.runDirectory.latestCheckpoint
        guard FileManager.default.fileExists(atPath: latest) else { return nil }
        do {
            try load(state, group: group, counters: &counters, returns100: returns100, settings: settings, from: latest)
        } catch {
            throw TrainingError(
                "cannot resume from \(latest): \(error); remove the run directory \(settings.runDirectory.path) to start over, or copy an earlier checkpoints/frame-<n>.h5 over latest.h5")
        }
        logger.info("resuming from \(latest) at frame \(counters.frames), parameter version \(counters.version)")
        return counters.frames
    }

    /// `returns100`: the run's CSV, which takes the checkpoint's episode window and loses rows past its frame (nil: an
    /// evaluation, which reads the learning state only). Returns the saved episode window.
    @discardableResult
    static func load(_ state: any Checkpointable, group: String, counters: inout LearnerCounters, returns100: ReturnsCSV?, settings: ClusterSettings,
                     from path: String) throws -> [Double] {
        let file = try HDF5File.open(path)
        guard (try? file.stringAttribute("format")) == "colony-learner-checkpoint" else {
            throw CheckpointError.notAColonyCheckpoint(path: path)
        }
        let algorithm = try file.stringAttribute("algorithm")
        guard algorithm == settings.algorithm else {
            throw CheckpointError.wrongAgent(path: path, expected: settings.algorithm, found: algorithm)
        }
        let reader = CheckpointReader(file: file)
        try state.restore(from: reader.group(group))
        let values = try reader.ints("counters")
        guard values.count == 4 else { throw CheckpointError.shapeMismatch(entry: "counters", expected: 4, found: values.count) }
        counters = LearnerCounters(frames: values[0], updates: values[1], episodes: values[2], version: values[3])
        let window = try reader.doubles("returns100_window")
        guard let returns100 else { return window }
        returns100.pendingReturns = window
        try returns100.truncate(afterFrame: counters.frames)
        return window
    }
}
