import ColonyNumerics
import ColonyStorage

/// Something that saves everything it needs to continue exactly where it left off (Acme's `Saveable`).
public protocol Checkpointable: AnyObject {
    func save(to writer: CheckpointWriter) throws
    func restore(from reader: CheckpointReader) throws
}

/// Writes named tensors and counters under a group prefix of an HDF5 checkpoint file.
public struct CheckpointWriter {
    public let file: HDF5File
    public let prefix: String

    public init(file: HDF5File, prefix: String = "") {
        self.file = file
        self.prefix = prefix
    }

    public func path(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    /// A writer for a sub-group ("policy", "replay", ...).
    public func group(_ name: String) -> CheckpointWriter { CheckpointWriter(file: file, prefix: path(name)) }

    public func write(_ values: [Float], shape: [Int]? = nil, _ name: String) throws { try file.write(values, shape: shape, at: path(name)) }
    public func write(_ values: [Double], _ name: String) throws { try file.write(values, at: path(name)) }
    public func write(_ values: [Int64], _ name: String) throws { try file.write(values, at: path(name)) }
    public func write(_ values: [UInt64], _ name: String) throws { try file.write(values, at: path(name)) }
    public func write(_ values: [UInt8], _ name: String) throws { try file.write(values, at: path(name)) }
    public func write(_ value: Int, _ name: String) throws { try file.writeScalar(Int64(value), at: path(name)) }
    public func write(_ value: Double, _ name: String) throws { try file.writeScalar(value, at: path(name)) }
    public func write(_ value: String, _ name: String) throws { try file.writeString(value, at: path(name)) }
    public func write(_ values: [Int], _ name: String) throws { try file.write(values.map(Int64.init), at: path(name)) }
    public func write(_ values: [Bool], _ name: String) throws { try file.write(values.map { UInt8($0 ? 1 : 0) }, at: path(name)) }
}

/// Reads what a `CheckpointWriter` wrote; a missing or mis-shaped entry is an error naming it.
public struct CheckpointReader {
    public let file: HDF5File
    public let prefix: String

    /// Derive every random stream afresh instead of reading it (see `RandomStreamReseeding`).
    public let reseeding: RandomStreamReseeding?

    public init(file: HDF5File, prefix: String = "", reseeding: RandomStreamReseeding? = nil) {
        self.file = file
        self.prefix = prefix
        self.reseeding = reseeding
    }

    public func path(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }
    public func group(_ name: String) -> CheckpointReader { CheckpointReader(file: file, prefix: path(name), reseeding: reseeding) }
    public func contains(_ name: String) -> Bool { file.contains(path(name)) }

    /// The largest count or index a checkpoint may hold (about 10^12): far beyond any run's frames,
    /// small enough that sizes computed from it (count × observation size) cannot overflow.
    public static let largestCount = 1 << 40

    // Every value is checked before the agent sees it: a checkpoint is read on resume and by
    // `colony eval`, and a damaged or edited file must be an error naming the entry, never a trap
    // in the arithmetic that follows or a policy that silently acts on NaN parameters.

    /// Finite floats (parameters, optimizer moments, observations, rewards).
    public func floats(_ name: String) throws -> [Float] { try finite(file.read(Float.self, at: path(name)).values, name) }
    /// Finite doubles.
    public func doubles(_ name: String) throws -> [Double] { try finite(file.read(Double.self, at: path(name)).values, name) }
    public func uint64s(_ name: String) throws -> [UInt64] { try file.read(UInt64.self, at: path(name)).values }
    public func bytes(_ name: String) throws -> [UInt8] { try file.read(UInt8.self, at: path(name)).values }
    /// Counts and indices: each in 0...largestCount.
    public func ints(_ name: String) throws -> [Int] {
        let values = try file.read(Int64.self, at: path(name)).values
        if let index = values.firstIndex(where: { !(0...Int64(Self.largestCount)).contains($0) }) {
            throw invalid(name, "holds \(values[index]) at index \(index), but counts and indices lie in 0...\(Self.largestCount)")
        }
        return values.map { Int($0) }
    }
    /// Indices each below `bound` (discrete actions, table states).
    public func indices(_ name: String, below bound: Int) throws -> [Int] {
        let values = try ints(name)
        if let index = values.firstIndex(where: { $0 >= bound }) { throw invalid(name, "holds \(values[index]) at index \(index), but only 0..<\(bound) are valid") }
        return values
    }
    public func bools(_ name: String) throws -> [Bool] { try bytes(name).map { $0 != 0 } }
    /// A generator saved as its four state words, checked (a damaged entry is an error, not a trap); with
    /// `reseeding`, the stream derived for this entry instead of the saved one.
    public func randomSource(_ name: String) throws -> RandomSource {
        let state = try uint64s(name)
        guard state.count == 4 else { throw CheckpointError.shapeMismatch(entry: path(name), expected: 4, found: state.count) }
        guard state.contains(where: { $0 != 0 }) else { throw invalid(name, "holds an all-zero generator state") }
        return reseeding?.source(for: path(name)) ?? RandomSource(state: state)
    }
    public func int(_ name: String) throws -> Int { try single(ints(name), name) }
    public func double(_ name: String) throws -> Double { try single(doubles(name), name) }
    public func string(_ name: String) throws -> String { try file.readString(at: path(name)) }

    /// Checks that discrete actions stored as floats are whole numbers in 0..<`actionCount`.
    public func checkDiscreteActions(_ values: [Float], actionCount: Int, entry name: String) throws {
        if let index = values.firstIndex(where: { !($0 >= 0 && $0 < Float(actionCount) && $0.rounded() == $0) }) {
            throw invalid(name, "holds action \(values[index]) at index \(index), which is not one of the \(actionCount) discrete actions")
        }
    }

    /// The error for entry `name` holding something no Colony run writes.
    public func invalid(_ name: String, _ problem: String) -> CheckpointError {
        .invalidValue(path: file.path, entry: path(name), problem: problem)
    }

    private func finite<T: BinaryFloatingPoint>(_ values: [T], _ name: String) throws -> [T] {
        if let index = values.firstIndex(where: { !$0.isFinite }) { throw invalid(name, "holds \(values[index]) at index \(index)") }
        return values
    }

    private func single<T>(_ values: [T], _ name: String) throws -> T {
        guard values.count == 1 else { throw invalid(name, "holds \(values.count) values where one is expected") }
        return values[0]
    }

    /// Reads floats that must have exactly `count` values (a network of the same shape).
    public func floats(_ name: String, count: Int) throws -> [Float] {
        let values = try floats(name)
        guard values.count == count else {
            throw CheckpointError.shapeMismatch(entry: path(name), expected: count, found: values.count)
        }
        return values
    }
}

/// A checkpoint that cannot be loaded into this agent; the message says why and what to do.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    case notAColonyCheckpoint(path: String)
    /// A cluster learner's checkpoint where a single-process run's was expected.
    case learnerCheckpoint(path: String, algorithm: String)
    case wrongAgent(path: String, expected: String, found: String)
    case shapeMismatch(entry: String, expected: Int, found: Int)
    case incompatibleSpaces(path: String, expected: String, found: String)
    case unsupportedVersion(path: String, version: Int)
    /// An entry holds a value no run writes (NaN, a negative count, an action outside the space).
    case invalidValue(path: String, entry: String, problem: String)

    public var description: String {
        switch self {
        case .notAColonyCheckpoint(let path):
            "'\(path)' is not a Colony checkpoint (no format attribute); pass a file from a run's checkpoints/ folder"
        case .learnerCheckpoint(let path, let algorithm):
            "'\(path)' is a cluster learner's checkpoint (\(algorithm)): evaluate it with the cluster file it trained with, "
                + "`colony eval --checkpoint \(path) --cluster <file>.toml`"
        case .wrongAgent(let path, let expected, let found):
            "'\(path)' holds a \(found) agent, not \(expected); use --agent \(found) or another checkpoint"
        case .shapeMismatch(let entry, let expected, let found):
            "checkpoint entry '\(entry)' has \(found) values where this agent needs \(expected): it was saved with a different network or environment"
        case .incompatibleSpaces(let path, let expected, let found):
            "'\(path)' was saved for spaces \(found), but this environment has \(expected)"
        case .unsupportedVersion(let path, let version):
            "'\(path)' has checkpoint format version \(version), which this Colony cannot read"
        case .invalidValue(let path, let entry, let problem):
            "'\(path)' is damaged: entry '\(entry)' \(problem)"
        }
    }
}
