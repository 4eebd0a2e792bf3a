import ColonyAgents
import ColonyExperiments
import ColonyStorage
import Foundation

/// Population members that train as clusters (`colony pbt run --cluster FILE`: impala, a3c, and the replay-based
/// apex_dqn and apex_sac, whose colony-replay checkpoints its table to the member's `replay.h5` when the cluster
/// ends, restores it when the next starts, and an exploit copies it with the learner's checkpoint): every interval, a
/// member's cluster (coordinator, learner, replay server, the file's workers) is started with the
/// member's file, `members/slot-<k>/cluster.toml`: the population's cluster file with the member's frame target, seed,
/// run directory (the slot) and `[agent]` table (the member's configuration, mutated values included). The learner
/// resumes the slot's checkpoint, which a losing member has replaced with its donor's, and publishes its parameters
/// to the new workers as the run's next version; at the frame target it checkpoints and the cluster ends. Members
/// train in turn, one cluster at a time, on the file's coordinator address; with `portPerSlot` (`--parallel`, members'
/// clusters side by side in child processes) slot k's coordinator listens on the file's port + k. Every member shares
/// the population's CURVE keys (`keys/` in its directory), made on first use unless `keysDirectory` names others.
public final class ClusterMembers: PopulationMembers {
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

    /// Whether members run colony-replay, whose table an exploit copies.
    private let usesReplay: Bool
    /// The replay checkpoint in a member's directory (ReplayClusterSettings' default path).
    static let replayFile = "replay.h5"

    public var carriedFiles: [String] { usesReplay ? [Self.replayFile] : [] }

    /// Top-level keys the member's file sets itself.
    private static let memberKeys: Set<String> = ["frames", "seed", "runs_dir", "run_dir"]

    public init(clusterFile: String, binaryDirectory: String, keysDirectory: String? = nil, insecure: Bool = false, portPerSlot: Bool = false) throws {
        let settings = try ClusterSettings(path: clusterFile)
        if portPerSlot, (Self.port(of: settings.coordinator) ?? 0) <= 0 {
            throw PopulationError("\(clusterFile): --parallel gives member k the coordinator port + k, so [cluster] coordinator needs a tcp port, "
                + "not \(settings.coordinator)")
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
        var kept: [String] = []
        var table: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") { table = trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")) }
            if table == "agent" { continue }
            let key = trimmed.split(separator: "=").first?.trimmingCharacters(in: .whitespaces)
            if table == nil, let key, Self.memberKeys.contains(key) { continue }
            if portPerSlot, table == "cluster", key == "coordinator", let port = Self.port(of: coordinator) {
                let host = coordinator.dropLast(String(port).count)
                kept.append("coordinator = \(ConfigurationValue.string(host + String(port + slot)))  # the file's port + slot (--parallel)")
                continue
            }
            kept.append(String(line))
        }
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
        try train(slot: slot, population: population.directory, state: population.state, to: frames, progress: progress, log: log)
    }

    /// `train` from the population's directory and state, for a child process of `--parallel` (`colony pbt member`).
    public func train(slot: Int, population directory: String, state: PopulationState, to frames: Int, progress: ProgressReporter.Style,
                      log: @escaping (String) -> Void) throws -> Int32? {
        let path = try memberFile(slot: slot, population: directory, state: state, frames: frames)
        let settings = try ClusterSettings(path: path)
        let keys = try keys(population: directory)
        if let keys { _ = try ProcessKeys.install(directory: keys) }
        let forward = SerializedLog(log)
        // Quiet: the launcher's own lines (start, a process that failed, the end), not every process's log.
        let quiet = progress == .quiet
        let status = try LocalClusterLauncher(settingsPath: path, settings: settings, binaryDirectory: binaryDirectory, keysDirectory: keys,
                                              output: { line in if !quiet || !line.hasPrefix("[") { forward(line) } }).run()
        if let signal = StopSignal.requested { return signal }
        guard status == 0 else { throw PopulationError("its cluster ended with status \(status) (its log lines above say why)") }
        let reached = try LearnerCheckpointEvaluation.frames(checkpoint: settings.runDirectory.latestCheckpoint)
        guard reached >= frames else { throw PopulationError("its learner stopped at frame \(reached) of \(frames)") }
        return nil
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

/// The population's log, called with the cluster's lines from the threads that read its processes' output, one line
/// at a time: the lock serializes every call, and the population's own thread waits inside the launcher meanwhile.
private final class SerializedLog: @unchecked Sendable {
    private let lock = NSLock()
    private let log: (String) -> Void

    init(_ log: @escaping (String) -> Void) { self.log = log }

    func callAsFunction(_ line: String) { lock.withLock { log(line) } }
}
