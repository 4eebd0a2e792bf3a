import ColonyNumerics

/// A random source's four state words in a checkpoint, read back with a check.
enum RandomSourceCheckpoint {
    static func write(_ rng: RandomSource, _ name: String, to writer: CheckpointWriter) throws {
        try writer.write(rng.state, name)
    }

    static func read(_ name: String, from reader: CheckpointReader) throws -> RandomSource {
        let state = try reader.uint64s(name)
        guard state.count == 4 else { throw CheckpointError.shapeMismatch(entry: reader.path(name), expected: 4, found: state.count) }
        guard state.contains(where: { $0 != 0 }) else { throw reader.invalid(name, "holds an all-zero generator state") }
        return RandomSource(state: state)
    }
}
