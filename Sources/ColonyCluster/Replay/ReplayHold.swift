import ColonyExperiments
import Foundation

/// How the replay server of a held member's cluster (`[cluster] hold_at_target`, Ape-X) takes part in a hold:
/// `replay-hold.json` in the run directory, written atomically by the server alone.
///
/// - When the learner holds (`LearnerHold`'s `hold.json` at the server's frame target), the server stops serving,
///   writes its table to the run's `replay.h5` and records `heldAt`. The population waits for both files before it
///   evaluates, so an exploit copies a donor's table as it was at the boundary.
/// - When the population releases the learner, the server reads `replay.h5` again (its own table, or the donor's the
///   population put there), drops the requests it held from before the boundary and records `releasedTo`. The learner
///   samples, and the workers insert, only once that is recorded: nothing from one interval lands in the next table.
public enum ReplayHold {
    public struct Record: Codable, Sendable, Equatable {
        /// The frame target of the hold whose table `replay.h5` holds.
        public var heldAt: Int
        /// The frame target the server was released to, once it reloaded its table; nil while it holds.
        public var releasedTo: Int?
    }

    public static func path(_ directory: RunDirectory) -> String { directory.path + "/replay-hold.json" }

    /// The server's record, or nil before its first hold.
    public static func record(in directory: RunDirectory) -> Record? { LearnerHold.read(Record.self, path(directory)) }

    static func write(_ record: Record, in directory: RunDirectory) throws { try LearnerHold.write(record, path(directory)) }

    /// Whether the server has written its table for the hold at `target`.
    public static func isHeld(at target: Int, in directory: RunDirectory) -> Bool { record(in: directory)?.heldAt == target }

    /// Whether the server has reloaded its table for a release to `target` (or a later one).
    static func isReleased(to target: Int, in directory: RunDirectory) -> Bool { (record(in: directory)?.releasedTo ?? Int.min) >= target }

    /// Forgets an earlier cluster's record, before a new cluster starts in `directory`.
    public static func clear(in directory: RunDirectory) throws { try LearnerHold.remove(path(directory)) }
}

/// What a replay server needs to take part in its member's holds: the run directory it watches, the frame target it
/// starts at, and how to read its table's configuration again at a release (the member's file with the next
/// interval's `[agent]` values).
public struct ReplayServerHold: Sendable {
    public var runDirectory: RunDirectory
    public var target: Int
    public var rereadTable: @Sendable () throws -> (table: ReplayTableConfiguration, target: Int)

    public init(runDirectory: RunDirectory, target: Int, rereadTable: @escaping @Sendable () throws -> (table: ReplayTableConfiguration, target: Int)) {
        self.runDirectory = runDirectory
        self.target = target
        self.rereadTable = rereadTable
    }
}
