import ColonyStorage

/// An agent whose replay buffer members of a population can share (AgileRL's and SEARL's shared replay): one
/// buffer that every member fills and samples from. The trainer loads the population's buffer into a member
/// before its interval and saves it back after (`SharedReplayFile`).
public protocol ReplaySharing: ParallelAgent {
    func saveReplay(to writer: CheckpointWriter) throws
    /// Replaces the buffer's contents; checks what it reads as a checkpoint restore does.
    func restoreReplay(from reader: CheckpointReader) throws
}

/// The file that carries a population's shared replay buffer from one member to the next. Layout (h5py):
/// attributes format = "colony-shared-replay", agent, observation_space, action_space on "/", the buffer in
/// `replay/...` exactly as a checkpoint stores it. Written atomically.
public enum SharedReplayFile {
    public static let format = "colony-shared-replay"

    public static func save(_ agent: any ReplaySharing, to path: String) throws {
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", format)
            try AgentCheckpoint.writeIdentity(of: agent, to: file)
            try agent.saveReplay(to: CheckpointWriter(file: file, prefix: "replay"))
        }
    }

    /// Loads the buffer in `path` into `agent`, which must be of the same kind and spaces.
    public static func load(_ path: String, into agent: any ReplaySharing) throws {
        let file = try HDF5File.open(path)
        guard (try? file.stringAttribute("format")) == format else {
            throw CheckpointError.invalidValue(
                path: path, entry: "/", problem: "is not a shared replay buffer Colony wrote (no format = \"\(format)\" attribute); delete it to start the buffer over")
        }
        try AgentCheckpoint.checkIdentity(
            path: path, agent: try file.stringAttribute("agent"), observationSpace: try file.stringAttribute("observation_space"),
            actionSpace: try file.stringAttribute("action_space"), against: agent)
        try agent.restoreReplay(from: CheckpointReader(file: file, prefix: "replay"))
    }
}
