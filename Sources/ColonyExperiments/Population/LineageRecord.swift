import ColonyStorage
import Foundation

/// One line of lineage.jsonl: what happened to one slot at one generation boundary. Lines carry no
/// times, so two runs with one seed write the same file.
public struct LineageRecord: Codable, Sendable, Equatable {
    /// A mutated key: its value before and after, and the operation (`perturb*0.8`, `resample`, ...).
    public struct Change: Codable, Sendable, Equatable {
        public var key: String
        public var old: String
        public var new: String
        public var operation: String
    }

    /// The boundary (1 = after the first interval).
    public var generation: Int
    /// Frames every member had trained at this boundary.
    public var frame: Int
    public var slot: Int
    /// The member's lineage id after the boundary.
    public var lineage: Int
    /// The lineage it continues from: its own, or the donor's when it copied one.
    public var parent: Int
    public var donorSlot: Int?
    /// `continue` (kept as it was), `elite` (kept, never mutated), `mutate` (kept and mutated),
    /// `exploit` (copied the donor's checkpoint, then mutated).
    public var action: String
    public var changes: [Change]
    /// σ of the Gaussian noise added to the member's acting network after the boundary (`--parameter-noise`).
    public var parameterNoise: Double? = nil
    /// The member's fitness at this boundary, before selection (nil: it failed).
    public var fitness: Double?
    public var failure: String?
    public var evaluationSeed: UInt64
    public var evaluationEpisodes: Int
    /// SHA-256 of the checkpoint the member continues from (for a copy: the donor's, as saved at the boundary).
    public var checkpointSHA256: String

    /// Appends `records` to the file at `path` (rewritten whole through a temporary file).
    public static func append(_ records: [LineageRecord], to path: String) throws {
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for record in records { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
        try AtomicFile.write(text, to: path)
    }

    /// Every record of the file; a damaged line is an error naming it.
    public static func read(_ path: String) throws -> [LineageRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PopulationError("cannot read \(path): \(error.localizedDescription)")
        }
        return try text.split(separator: "\n", omittingEmptySubsequences: true).enumerated().map { index, line in
            do { return try JSONDecoder().decode(LineageRecord.self, from: Data(line.utf8)) } catch {
                throw PopulationError("\(path):\(index + 1) is not a lineage record (\(error))")
            }
        }
    }
}
