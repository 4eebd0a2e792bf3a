import ColonyStorage
import Foundation
import Synchronization

/// One `sbatch` of a grid's array: which cells it runs and how it was asked for.
public struct SubmittedArray: Codable, Sendable, Equatable {
    /// The array's job id (`SLURM_ARRAY_JOB_ID` of its tasks).
    public var jobID: String
    public var jobName: String
    public var array: SlurmArray
    /// The script, relative to the experiment directory (slurm/array.sbatch, slurm/resubmit-1.sbatch...).
    public var script: String
    /// Seconds since 1970 when sbatch accepted it.
    public var submitted: Double
    /// 0 for `submit`, then 1, 2... for each `resubmit`.
    public var batch: Int
    public var options: SlurmOptions
    /// When `colony experiment cancel` cancelled it.
    public var cancelled: Double?

    /// The task id of a grid index in this array, nil when the array does not run it.
    public func taskID(of index: Int) -> Int? {
        let id = index - array.offset
        return array.taskIDs.contains(id) ? id : nil
    }
}

/// `runs/NAME/slurm/jobs.json`: every array submitted for the grid, oldest first. The last array that
/// runs a cell is the one `status` asks the queue about.
public struct SlurmJobRecord: Codable, Sendable, Equatable {
    public var arrays: [SubmittedArray] = []

    public init() {}

    public static func read(_ path: String) throws -> SlurmJobRecord {
        guard let data = FileManager.default.contents(atPath: path) else { return SlurmJobRecord() }
        do { return try JSONDecoder().decode(SlurmJobRecord.self, from: data) } catch {
            throw SlurmError("\(path) is not a valid job record: \(error)")
        }
    }

    public func write(to path: String) throws { try writeJSON(self, to: path) }

    /// The latest array that runs `index`, with the cell's task id in it.
    public func latest(for index: Int) -> (array: SubmittedArray, taskID: Int)? {
        for array in arrays.reversed() {
            if let taskID = array.taskID(of: index) { return (array, taskID) }
        }
        return nil
    }

    public var nextBatch: Int { (arrays.map(\.batch).max() ?? -1) + 1 }
}

/// `runs/NAME/slurm/cells/INDEX.json`: what a cell wrote about each of its starts under Slurm — the
/// job, node and restart count, when training began (its first frame), where it started and stopped,
/// and how the start ended. Written by the cell alone, so no two writers share a file.
public struct SlurmCellRecord: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable { case running, done, requeued, stopped, failed }

    public struct Attempt: Codable, Sendable, Equatable {
        /// `SLURM_JOB_ID`: an array task's own job id.
        public var jobID: String?
        public var arrayJobID: String?
        public var taskID: Int?
        /// `SLURM_RESTART_COUNT`: 0 on the first start, +1 on each requeue.
        public var restart: Int
        public var node: String?
        /// When the cell process started (seconds since 1970).
        public var started: Double
        /// When the trainer took its first step (the time of its first status.json of this start).
        public var firstFrame: Double?
        /// The frame training started from: 0, or the checkpoint's frame when resuming.
        public var startFrame: Int?
        public var ended: Double?
        public var endFrame: Int?
        public var outcome: Outcome
        public var message: String?
    }

    public var index: Int
    public var attempts: [Attempt] = []

    public init(index: Int) { self.index = index }

    public static func read(_ path: String) -> SlurmCellRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(SlurmCellRecord.self, from: data)
    }
}

/// The cell's record as it runs: the trainer's thread and the first-frame watcher both update the
/// current attempt, and every update is written at once (a killed job keeps what it had).
final class CellJournal: Sendable {
    let path: String
    private let record: Mutex<SlurmCellRecord>

    init(path: String, index: Int, attempt: SlurmCellRecord.Attempt) throws {
        self.path = path
        var loaded = SlurmCellRecord.read(path) ?? SlurmCellRecord(index: index)
        loaded.attempts.append(attempt)
        record = Mutex(loaded)
        try writeJSON(loaded, to: path)
    }

    func update(_ change: (inout SlurmCellRecord.Attempt) -> Void) {
        record.withLock { record in
            change(&record.attempts[record.attempts.count - 1])
            try? writeJSON(record, to: path)  // under the lock: one writer at a time; a lost update never stops training
        }
    }
}

/// Pretty, sorted JSON written atomically, like the manifest and status.json.
func writeJSON(_ value: some Encodable, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.createDirectories((path as NSString).deletingLastPathComponent)
    try AtomicFile.write(Array(try encoder.encode(value)) + [10], to: path)
}
