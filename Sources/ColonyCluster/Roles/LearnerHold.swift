import ColonyExperiments
import ColonyStorage
import Foundation

/// How a learner whose cluster stays up across a population's boundaries (`[cluster] hold_at_target`) and the
/// population that drives it meet: two small JSON files in the learner's run directory, each written atomically.
///
/// - `hold.json`, from the learner: it reached `target`, checkpointed (`latest.h5`) and waits, its workers attached.
/// - `release.json`, from the population: train on to `target`. Written after the member's cluster file has that
///   frame target and its next `[agent]` table, and, for a losing member, after the donor's checkpoint was put in
///   `checkpoints/latest.h5`: the learner rereads both and publishes the result as a new parameter version.
///
/// Files rather than network messages: like the run's checkpoints and cluster file they belong to the directory's
/// owner, so no peer that reaches the cluster's sockets can move a learner to another interval or configuration.
public enum LearnerHold {
    public struct Held: Codable, Sendable, Equatable {
        /// Frames trained, at least `target`.
        public var frames: Int
        /// The frame target the learner holds at.
        public var target: Int
        /// The parameter version its workers hold.
        public var version: Int
    }

    public struct Release: Codable, Sendable, Equatable {
        /// The next frame target; a release at or below the target the learner holds at is an old one and ignored.
        public var target: Int
    }

    public static func heldPath(_ directory: RunDirectory) -> String { directory.path + "/hold.json" }
    public static func releasePath(_ directory: RunDirectory) -> String { directory.path + "/release.json" }

    /// The learner's hold, or nil while it trains (or before it first held).
    public static func held(in directory: RunDirectory) -> Held? { read(Held.self, heldPath(directory)) }

    static func recordHeld(_ held: Held, in directory: RunDirectory) throws { try write(held, heldPath(directory)) }

    /// Releases a held learner (or a learner yet to hold) to train on to `target`.
    public static func release(_ directory: RunDirectory, to target: Int) throws { try write(Release(target: target), releasePath(directory)) }

    /// The release waiting in `directory`, if one does. Throws for a file that is there but not a release: the
    /// population writes it atomically, so a damaged one is nobody's to guess at.
    static func pendingRelease(in directory: RunDirectory) throws -> Release? {
        let path = releasePath(directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(Release.self, from: data) } catch {
            throw TrainingError("\(path) is not a release ({\"target\": <frames>}): \(error); remove it and release the learner again")
        }
    }

    /// The settings a released member's learner or worker goes on with: `reread` (its cluster file read again), checked
    /// against `current`, what it ran with. The file must already set a frame target of at least the release's (the
    /// population writes the file before the release; a worker may read it after the next interval's rewrite, the
    /// learner reads it at once and needs exactly the release's) and may change only frames, seed and `[agent]`.
    static func settings(after release: Release, current: ClusterSettings, reread: ClusterSettings, exactTarget: Bool) throws -> ClusterSettings {
        let file = "the cluster file reread for the release to frame \(release.target)"
        guard exactTarget ? reread.frames == release.target : reread.frames >= release.target else {
            throw TrainingError("\(file) sets frames = \(reread.frames): the population writes the file before it releases the learner")
        }
        guard reread.algorithm == current.algorithm, reread.environment == current.environment,
              reread.runDirectory.path == current.runDirectory.path, reread.holdsAtTarget else {
            throw TrainingError("\(file) changed what the member is (algorithm, env, run directory or hold_at_target); "
                + "only frames, seed and [agent] may change between intervals")
        }
        return reread
    }

    /// The `[agent]` values `next` changes from `current`, as `key = value (was old)`, sorted by key.
    static func changedAgentValues(from current: ClusterSettings, to next: ClusterSettings) -> [String] {
        let keys = Set(current.configuration.explicitValues.keys).union(next.configuration.explicitValues.keys)
        return keys.sorted().compactMap { key in
            let (old, new) = (current.configuration.value(key), next.configuration.value(key))
            return old == new ? nil : "\(key) = \(new) (was \(old))"
        }
    }

    /// What a worker logs when it follows its learner's release from `current` to `next`.
    static func followed(worker name: String, from current: ClusterSettings, to next: ClusterSettings) -> String {
        let changes = changedAgentValues(from: current, to: next)
        return "\(name) follows its learner's release to frame \(next.frames)" + (changes.isEmpty ? "" : ": [agent] \(changes.joined(separator: ", "))")
    }

    /// A worker that follows releases reads them, and its file, from the run directory: it must be on this machine.
    static func checkWorkerReachesRunDirectory(_ settings: ClusterSettings) throws {
        guard !FileManager.default.fileExists(atPath: settings.runDirectory.path) else { return }
        throw TrainingError("[cluster] hold_at_target: this \(settings.algorithm) worker takes each interval's configuration from "
            + "the releases in the run directory \(settings.runDirectory.path), which is not on this machine; run it where that "
            + "directory is (a shared file system), or without hold_at_target")
    }

    /// Forgets an earlier interval's hold, before the population waits for the next one.
    public static func clearHeld(in directory: RunDirectory) throws { try remove(heldPath(directory)) }

    // The hold files' I/O, shared with the replay server's record (ReplayHold): JSON, written atomically.

    static func read<Value: Decodable>(_ type: Value.Type, _ path: String) -> Value? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(type, from: $0) }
    }

    static func write<Value: Encodable>(_ value: Value, _ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(value)) + [10], to: path)
    }

    static func remove(_ path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }
}
