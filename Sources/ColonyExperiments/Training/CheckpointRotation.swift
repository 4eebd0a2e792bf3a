import ColonyStorage
import Foundation

/// A run's checkpoint files: each checkpoint is written as `checkpoints/frame-<n>.h5`, copied over
/// `checkpoints/latest.h5` (atomically: a reader or a resume never sees half a file), and only the
/// newest `keep` numbered ones stay.
public struct CheckpointRotation: Sendable {
    public let directory: RunDirectory
    public let keep: Int

    public init(directory: RunDirectory, keep: Int) {
        self.directory = directory
        self.keep = keep
    }

    /// Writes the checkpoint of `frame` with `write` (given the numbered file's path), makes it the
    /// latest and removes the numbered ones beyond `keep`.
    public func save(frame: Int, write: (String) throws -> Void) throws {
        let numbered = directory.numberedCheckpoint(frame: frame)
        try write(numbered)
        try AtomicFile.replace(directory.latestCheckpoint) { temporary in
            try FileManager.default.copyItem(atPath: numbered, toPath: temporary)
        }
        for old in directory.numberedCheckpoints().dropLast(keep) { try? FileManager.default.removeItem(atPath: old) }
    }
}
