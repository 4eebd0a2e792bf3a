import ColonyEnvironments
import ColonyStorage

/// Whole-agent checkpoint files. Layout (h5py: `f.attrs['format']`, `f['agent/...']`):
/// - attributes on "/": format = "colony-checkpoint", version = 1, agent = id, observation_space, action_space
/// - `config`: the effective configuration as TOML text
/// - `agent/...`: whatever the algorithm saves (networks' flat parameters, optimizer moments, target
///   networks, replay contents, counters, RNG states)
/// - `extra/...`: the caller's own state (the trainer's frame and episode counters)
/// Files are written atomically: a kill never leaves a truncated file under the final name.
public enum AgentCheckpoint {
    public static let format = "colony-checkpoint"
    public static let version: Int64 = 1

    public static func save(_ agent: any ParallelAgent, to path: String, extra: ((CheckpointWriter) throws -> Void)? = nil) throws {
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", format)
            try file.setAttribute("version", version)
            try writeIdentity(of: agent, to: file)
            try file.writeString(agent.configuration.toml(annotated: false), at: "config")
            try agent.save(to: CheckpointWriter(file: file, prefix: "agent"))
            if let extra { try extra(CheckpointWriter(file: file, prefix: "extra")) }
        }
    }

    /// Checks that `path` is a checkpoint of this agent's kind and spaces, then restores it (with
    /// `reseeding`, every random stream derived afresh rather than continued).
    public static func load(_ agent: any ParallelAgent, from path: String, reseeding: RandomStreamReseeding? = nil,
                            extra: ((CheckpointReader) throws -> Void)? = nil) throws {
        let header = try Header(path: path)
        try checkIdentity(path: path, agent: header.agent, observationSpace: header.observationSpace, actionSpace: header.actionSpace, against: agent)
        let file = try HDF5File.open(path)
        try agent.restore(from: CheckpointReader(file: file, prefix: "agent", reseeding: reseeding))
        if let extra { try extra(CheckpointReader(file: file, prefix: "extra", reseeding: reseeding)) }
    }

    /// The attributes that say which agent and spaces a file was written for (checkpoints, shared replay buffers).
    static func writeIdentity(of agent: any ParallelAgent, to file: HDF5File) throws {
        try file.setAttribute("agent", agent.id)
        try file.setAttribute("observation_space", agent.observationSpace.description)
        try file.setAttribute("action_space", agent.actionSpace.description)
    }

    /// Throws unless a file written for `agent`, `observationSpace` and `actionSpace` fits `target`.
    static func checkIdentity(path: String, agent: String, observationSpace: String, actionSpace: String, against target: any ParallelAgent) throws {
        guard agent == target.id else { throw CheckpointError.wrongAgent(path: path, expected: target.id, found: agent) }
        let expected = "\(target.observationSpace) → \(target.actionSpace)"
        let found = "\(observationSpace) → \(actionSpace)"
        guard expected == found else { throw CheckpointError.incompatibleSpaces(path: path, expected: expected, found: found) }
    }

    /// What a checkpoint says about itself, read without building an agent.
    public struct Header: Sendable {
        public let agent: String
        public let observationSpace: String
        public let actionSpace: String
        public let configurationTOML: String

        public init(path: String) throws {
            let file = try HDF5File.open(path)
            guard (try? file.stringAttribute("format")) == AgentCheckpoint.format else {
                // A cluster learner's checkpoint names its distributed algorithm instead of an agent.
                if let algorithm = try? file.stringAttribute("algorithm") { throw CheckpointError.learnerCheckpoint(path: path, algorithm: algorithm) }
                throw CheckpointError.notAColonyCheckpoint(path: path)
            }
            let version = try file.attribute("version", as: Int64.self)
            guard version == AgentCheckpoint.version else { throw CheckpointError.unsupportedVersion(path: path, version: Int(version)) }
            agent = try file.stringAttribute("agent")
            observationSpace = try file.stringAttribute("observation_space")
            actionSpace = try file.stringAttribute("action_space")
            configurationTOML = try file.readString(at: "config")
        }
    }
}
