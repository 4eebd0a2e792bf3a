import ColonyAgents
import ColonyExperiments
import ColonyStorage
import Foundation

/// Population members that train as clusters (`colony pbt run --cluster FILE`: impala, a3c, and the replay-based
/// apex_dqn and apex_sac, whose colony-replay checkpoints its table to the member's `replay.h5` at each boundary, and
/// an exploit copies it with the learner's checkpoint). Without `keepsClustersUp` (`colony pbt member`, Slurm's member
/// tasks), every interval a member's cluster (coordinator, learner, replay server, the file's workers) is started with the
/// member's file, `members/slot-<k>/cluster.toml`: the population's cluster file with the member's frame target, seed,
/// run directory (the slot) and `[agent]` table (the member's configuration, mutated values included). The learner
/// resumes the slot's checkpoint, which a losing member has replaced with its donor's, and publishes its parameters
/// to the new workers as the run's next version; at the frame target it checkpoints and the cluster ends. Members
/// train in turn, one cluster at a time, on the file's coordinator address; with `portPerSlot` (`--parallel`, members'
/// clusters side by side in child processes) slot k's coordinator listens on the file's port + k. Every member shares
/// the population's CURVE keys (`keys/` in its directory), made on first use unless `keysDirectory` names others.
///
/// With `keepsClustersUp` (`colony pbt run --cluster`) each member's cluster starts once and stays up: its learner
/// holds at every frame target (`[cluster] hold_at_target`) and the next interval releases it (`LearnerHold`), after
/// which it resumes `latest.h5` (the donor's, after an exploit) with the member's new `[agent]` table and publishes a
/// new parameter version, which its workers already follow (A3C's workers, which compute the loss, and Ape-X's, which
/// write n-step transitions with γ, take the new table with it). An Ape-X member's replay server holds with its
/// learner, its table written to `replay.h5`, and reloads that file at the release: its own table, or the donor's
/// (`ReplayHold`). Every member then
/// has its own coordinator (the file's port + slot, or its ipc path + -slot-<k>), and `--parallel P` trains P of them
/// side by side from this process.
public final class ClusterMembers: SideBySideMembers {
    /// The population's cluster file as written.
    public let clusterFile: String
    private let text: String
    private let binaryDirectory: String
    private let keysDirectory: String?
    private let insecure: Bool
    /// Slot k's coordinator on the file's port + k, so members' clusters can run side by side.
    private let portPerSlot: Bool
    /// The file's coordinator (`tcp://host:port`).
    private let coordinator: String
    /// Members' clusters stay up across boundaries, their learners holding at each target.
    public let holdsClusters: Bool
    /// Held clusters train side by side from this process; clusters started per interval, in child processes.
    public var trainsSideBySide: Bool { holdsClusters }
    private let held = HeldClusters()

    /// Whether members run colony-replay, whose table an exploit copies.
    private let usesReplay: Bool
    /// The replay checkpoint in a member's directory (ReplayClusterSettings' default path).
    static let replayFile = "replay.h5"

    public var carriedFiles: [String] { usesReplay ? [Self.replayFile] : [] }

    /// Top-level keys the member's file sets itself.
    private static let memberKeys: Set<String> = ["frames", "seed", "runs_dir", "run_dir"]

    /// `mutatedKeys`: the `[agent]` keys the population mutates (checked against what a member's cluster can change).
    public init(clusterFile: String, binaryDirectory: String, keysDirectory: String? = nil, insecure: Bool = false, portPerSlot: Bool = false,
                keepsClustersUp: Bool = false, mutatedKeys: [String] = []) throws {
        let settings = try ClusterSettings(path: clusterFile)
        if settings.usesReplay, let key = mutatedKeys.first(where: { ReplayClusterSettings.tableKeys.contains($0) }) {
            throw PopulationError("--mutate \(key): \(settings.algorithm) members' replay servers derive their tables' capacity, min_size and "
                + "samples_per_insert from \(ReplayClusterSettings.tableKeys.sorted().joined(separator: ", ")), and a member keeps its table "
                + "across intervals; mutate another key (learning_rate, gamma, ...)")
        }
        holdsClusters = keepsClustersUp
        // Held clusters take the file's ipc path + -slot-<k> as well (below); clusters in child processes need the port.
        if portPerSlot, !holdsClusters, (Self.port(of: settings.coordinator) ?? 0) <= 0 {
            throw PopulationError("\(clusterFile): --parallel gives member k the coordinator port + k, so [cluster] coordinator needs a tcp port, "
                + "not \(settings.coordinator)")
        }
        if holdsClusters, (Self.port(of: settings.coordinator) ?? 0) <= 0, !settings.coordinator.hasPrefix("ipc://") {
            throw PopulationError("\(clusterFile): members' clusters stay up side by side, each with its own coordinator (the file's port + slot, "
                + "or its ipc path + -slot-<k>), so [cluster] coordinator needs a tcp port or an ipc path, not \(settings.coordinator)")
        }
        coordinator = settings.coordinator
        self.portPerSlot = portPerSlot
        if let replay = settings.replay, replay.checkpointPath != settings.runDirectory.path + "/" + Self.replayFile {
            throw PopulationError("\(clusterFile): [replay] checkpoint_path would put every member's replay in one file; leave it out (each member "
                + "keeps \(Self.replayFile) in its directory)")
        }
        usesReplay = settings.usesReplay
        self.clusterFile = clusterFile
        text = try String(contentsOfFile: clusterFile, encoding: .utf8)
        self.binaryDirectory = binaryDirectory
        self.keysDirectory = keysDirectory
        self.insecure = insecure
    }

    /// The agent whose keys the members' configurations hold, and the population settings' base: the cluster file's.
    public static func baseSettings(clusterFile: String) throws -> (algorithm: String, agent: String, environment: String, overrides: [String]) {
        let settings = try ClusterSettings(path: clusterFile)
        let configuration = settings.configuration
        return (settings.algorithm, configuration.agent, settings.environment,
                configuration.explicitValues.keys.sorted().map { "\($0)=\(configuration.explicitValues[$0]!)" })
    }

    /// The port of a `tcp://host:port` endpoint.
    private static func port(of endpoint: String) -> Int? {
        guard endpoint.hasPrefix("tcp://"), let colon = endpoint.lastIndex(of: ":") else { return nil }
        return Int(endpoint[endpoint.index(after: colon)...])
    }

    /// The member's cluster file: the population's, with the member's top-level keys and `[agent]` table (and, with
    /// `portPerSlot`, its own coordinator port).
    func memberFile(slot: Int, population directory: String, state: PopulationState, frames: Int) throws -> String {
        let member = state.members[slot]
        let configuration = try PopulationRun.configuration(of: member, settings: state.settings)
        // The member's own [cluster] lines: its coordinator port, and the hold of a cluster kept up.
        var clusterLines: [String] = []
        let ownCoordinator = portPerSlot || holdsClusters
        if ownCoordinator, let port = Self.port(of: coordinator), port > 0 {
            let host = coordinator.dropLast(String(port).count)
            clusterLines.append("coordinator = \(ConfigurationValue.string(host + String(port + slot)))  # the file's port + slot")
        } else if ownCoordinator {
            clusterLines.append("coordinator = \(ConfigurationValue.string(coordinator + "-slot-\(slot)"))  # the file's path + slot")
        }
        if holdsClusters { clusterLines.append("hold_at_target = true  # the cluster stays up across boundaries") }
        var kept: [String] = []
        var table: String?
        var wroteClusterLines = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") { table = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")) }
            if table == "agent" { continue }
            let key = trimmed.split(separator: "=").first?.trimmingCharacters(in: .whitespaces)
            if table == nil, let key, Self.memberKeys.contains(key) { continue }
            if table == "cluster", let key, (ownCoordinator && key == "coordinator") || key == "hold_at_target" { continue }
            kept.append(String(line))
            if table == "cluster" && trimmed.hasPrefix("[") {
                kept += clusterLines
                wroteClusterLines = true
            }
        }
        if !wroteClusterLines && !clusterLines.isEmpty { kept += ["", "[cluster]"] + clusterLines }
        let memberDirectory = PopulationRun.memberDirectory(population: directory, slot: slot)
        let header = [
            "# slot \(slot) (lineage \(member.lineage)) of the population \(directory), written for its interval to frame \(frames)",
            // TOML integers are signed 64-bit: the member's seed without its top bit.
            "frames = \(frames)", "seed = \(member.seed >> 1)", "run_dir = \(ConfigurationValue.string(memberDirectory.path))",
        ]
        let agentTable = ["", "[agent]"] + configuration.explicitValues.keys.sorted().map { "\($0) = \(configuration.explicitValues[$0]!)" }
        let path = memberDirectory.path + "/cluster.toml"
        try memberDirectory.create()
        try AtomicFile.write((header + kept + agentTable).joined(separator: "\n") + "\n", to: path)
        return path
    }

    public func train(slot: Int, of population: PopulationRun, to frames: Int, progress: ProgressReporter.Style,
                      log: @escaping (String) -> Void) throws -> Int32? {
        guard holdsClusters else {
            return try train(slot: slot, population: population.directory, state: population.state, to: frames, progress: progress, log: log)
        }
        try beginTraining(slot: slot, of: population, to: frames, progress: progress, log: log)
        return try finishTraining(slot: slot, of: population, to: frames)
    }

    /// Writes the member's file for the interval to `frames`, then releases its held learner, or starts its cluster (the
    /// first interval, or after its cluster ended). Only with `holdsClusters`; otherwise `train` does the interval.
    public func beginTraining(slot: Int, of population: PopulationRun, to frames: Int, progress: ProgressReporter.Style,
                              log: @escaping (String) -> Void) throws {
        guard holdsClusters else { throw PopulationError("members whose clusters restart every interval train with train(slot:)") }
        let directory = population.memberDirectory(slot)
        let path = try memberFile(slot: slot, population: population.directory, state: population.state, frames: frames)
        try prepareCheckpoint(of: population.state.members[slot], population: population.state.settings, memberFile: path, log: log)
        try LearnerHold.clearHeld(in: directory)
        if held.isRunning(slot) {
            held.log(of: slot)?.redirect(log)
            return try LearnerHold.release(directory, to: frames)
        }
        if held.outcome(of: slot) != nil { held.remove(slot) }
        // A new learner starts from its file's target: a release left by an earlier cluster is spent, and so is its
        // replay server's record.
        try LearnerHold.remove(LearnerHold.releasePath(directory))
        try ReplayHold.clear(in: directory)
        let keys = try keys(population: population.directory)
        if let keys { _ = try ProcessKeys.install(directory: keys) }
        held.start(slot: slot, settingsPath: path, settings: try ClusterSettings(path: path), binaryDirectory: binaryDirectory, keysDirectory: keys,
                   log: ClusterLog(log, quiet: progress == .quiet))
    }

    /// Waits until the member's learner holds at `frames` (its checkpoint written) and, for a replay-based member, its
    /// replay server too (its table written); returns the signal that stopped the population meanwhile (every cluster
    /// stops on it, each learner checkpointing). Throws when its cluster ended.
    public func finishTraining(slot: Int, of population: PopulationRun, to frames: Int) throws -> Int32? {
        let directory = population.memberDirectory(slot)
        while true {
            if let signal = StopSignal.requested { return signal }
            if let hold = LearnerHold.held(in: directory), hold.target == frames, !usesReplay || ReplayHold.isHeld(at: frames, in: directory) {
                return nil
            }
            if let outcome = held.outcome(of: slot) {
                held.remove(slot)
                let status = try outcome.get()
                if let signal = StopSignal.requested { return signal }
                throw PopulationError("its cluster ended with status \(status) before its learner held at frame \(frames) (its log lines above say why)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Stops the members' clusters kept up across boundaries (their learners hold at a checkpoint).
    public func close() { held.stopAll() }

    /// `train` from the population's directory and state, for a child process of `--parallel` (`colony pbt member`).
    public func train(slot: Int, population directory: String, state: PopulationState, to frames: Int, progress: ProgressReporter.Style,
                      log: @escaping (String) -> Void) throws -> Int32? {
        let path = try memberFile(slot: slot, population: directory, state: state, frames: frames)
        try prepareCheckpoint(of: state.members[slot], population: state.settings, memberFile: path, log: log)
        let settings = try ClusterSettings(path: path)
        let keys = try keys(population: directory)
        if let keys { _ = try ProcessKeys.install(directory: keys) }
        let forward = ClusterLog(log, quiet: progress == .quiet)
        let status = try LocalClusterLauncher(settingsPath: path, settings: settings, binaryDirectory: binaryDirectory, keysDirectory: keys,
                                              output: { line in forward(line) }).run()
        if let signal = StopSignal.requested { return signal }
        guard status == 0 else { throw PopulationError("its cluster ended with status \(status) (its log lines above say why)") }
        let reached = try LearnerCheckpointEvaluation.frames(checkpoint: settings.runDirectory.latestCheckpoint)
        guard reached >= frames else { throw PopulationError("its learner stopped at frame \(reached) of \(frames)") }
        return nil
    }

    /// Readies the checkpoint a member's learner resumes for the interval its file (`path`) was just written for, as
    /// a member in one process readies itself: the population, the directory's owner, does it after an exploit copied
    /// the donor's checkpoint there. A mutated `hidden_sizes` carries the file into the new shapes (overlapping weights
    /// and moments kept); `--parameter-noise` then adds noise to the acting network, from the seed derived for the
    /// member's lineage and generation.
    private func prepareCheckpoint(of member: PopulationState.Member, population: PopulationSettings, memberFile path: String,
                                   log: (String) -> Void) throws {
        let settings = try ClusterSettings(path: path)
        let checkpoint = settings.runDirectory.latestCheckpoint
        guard FileManager.default.fileExists(atPath: checkpoint) else { return }
        let carried = try LearnerCheckpoint.carryIntoArchitecture(checkpoint: checkpoint, settings: settings)
        if !carried.isEmpty {
            log("carried \(checkpoint) into the new architecture: "
                + carried.keys.sorted().map { "\($0) \(carried[$0]!) → \(settings.configuration.value($0))" }.joined(separator: ", ")
                + " (overlapping weights and optimizer moments kept)")
        }
        guard let seed = member.parameterNoiseSeed, population.parameterNoise > 0 else { return }
        try LearnerCheckpoint.perturbActingParameters(
            checkpoint: checkpoint, settings: settings, noise: ParameterNoise(standardDeviation: Float(population.parameterNoise), seed: seed))
        log("parameter noise: N(0, \(population.parameterNoise)²) added to the acting network in \(checkpoint)")
    }

    public func evaluate(slot: Int, of population: PopulationRun) throws -> [Double] {
        let settings = try ClusterSettings(path: population.memberDirectory(slot).path + "/cluster.toml")
        return try LearnerCheckpointEvaluation(checkpoint: population.memberDirectory(slot).latestCheckpoint, settings: settings)
            .returns(episodes: population.state.settings.evaluationEpisodes, seed: population.state.settings.evaluationSeed)
    }

    /// The CURVE key directory every member's processes use: the given one, or the population's own (made here on
    /// first use; `--parallel` makes it before its children start); nil with `insecure`.
    public func keys(population directory: String) throws -> String? {
        if insecure { return nil }
        if let keysDirectory { return keysDirectory }
        let own = directory + "/keys"
        try RunKeys(directory: own).createUnlessPresent()
        return own
    }
}
