extension HDF5File {
    /// Writes a complete HDF5 file at a temporary path and renames it over `path`, so a kill
    /// mid-write never leaves a truncated checkpoint where a reader expects a whole one.
    public static func writeAtomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        try AtomicFile.replace(path) { temporary in
            let file = try HDF5File.create(temporary)
            defer { file.close() }
            try body(file)
        }
    }
}
