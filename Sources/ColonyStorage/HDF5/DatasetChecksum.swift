/// The CRC-32C that `HDF5File` stores beside every dataset it writes (attribute `colony_crc32c`)
/// and checks on every read: HDF5's own checksums cover a file's structure, not the values in it,
/// so a flipped bit in a parameter would otherwise load as a slightly different network.
enum DatasetChecksum {
    static let attribute = "colony_crc32c"

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 { UInt64(CRC32C.checksum(bytes)) }

    /// The number of values of a dataset of `shape`, or nil when the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, dimension >= 0 else { return nil }
            count = product
        }
        return count
    }
}
