import CHDF5
import Foundation
import XCTest
@testable import ColonyStorage

/// What a checkpoint reader must refuse rather than load: values whose bytes changed after they were
/// written, datasets another program rewrote with another dtype, shapes that promise more values
/// than the file holds; and what it must still load: files written before checksums existed.
final class HDF5IntegrityTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-hdf5-integrity-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Overwrites `bytes` at `offset` of the file, as h5py's `dataset[...] = x` or a bad disk would.
    private func patch(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
    }

    func testValuesChangedInPlaceFailTheirChecksum() throws {
        let path = directory + "/c.h5"
        try HDF5File.writeAtomically(path) { file in
            try file.write([0.5, -1.5, 2, 4] as [Float], shape: [2, 2], at: "agent/parameters")
            try file.writeString("lr = 0.001", at: "config")
        }
        let offset = try XCTUnwrap(try HDF5File.open(path).dataOffset(of: "agent/parameters"))
        try patch(path, at: offset + 4, with: withUnsafeBytes(of: Float.nan) { Array($0) })
        XCTAssertThrowsError(try HDF5File.open(path).read(Float.self, at: "agent/parameters")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path) && message.contains("agent/parameters") && message.contains("checksum"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        let text = try XCTUnwrap(try HDF5File.open(path).dataOffset(of: "config"))
        try patch(path, at: text + 5, with: Array("9".utf8))
        XCTAssertThrowsError(try HDF5File.open(path).readString(at: "config")) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
    }

    func testADatasetOfAnotherDtypeIsRefusedUnlessTheCallerAcceptsIt() throws {
        let path = directory + "/d.h5"
        try HDF5File.writeAtomically(path) { file in
            try file.write([0.25, 3] as [Double], at: "parameters")  // what h5py's astype(float64) leaves
            try file.write([1, 2] as [Int32], at: "counts")
        }
        let file = try HDF5File.open(path)
        XCTAssertThrowsError(try file.read(Float.self, at: "parameters")) { error in
            XCTAssertTrue("\(error)".contains("stored as 64-bit float where Colony writes 32-bit float"), "\(error)")
        }
        XCTAssertThrowsError(try file.read(Int64.self, at: "counts")) { error in
            XCTAssertTrue("\(error)".contains("32-bit signed integer"), "\(error)")
        }
        XCTAssertThrowsError(try file.read(UInt64.self, at: "parameters"))
        XCTAssertEqual(try file.read(Float.self, at: "parameters", convertingFrom: [Double.self]).values, [0.25, 3])
    }

    /// Files from before checksums (and files other tools write) have no checksum attribute: they load.
    func testDatasetsWithoutAChecksumStillLoad() throws {
        let path = directory + "/old.h5"
        try HDF5File.writeAtomically(path) { try $0.write([1, 2, 3] as [Float], at: "v") }
        let id = H5Fopen(path, colony_h5f_acc_rdwr(), colony_h5p_default())
        XCTAssertGreaterThanOrEqual(id, 0)
        XCTAssertGreaterThanOrEqual(H5Adelete_by_name(id, "v", DatasetChecksum.attribute, colony_h5p_default()), 0)
        H5Fclose(id)
        let file = try HDF5File.open(path)
        XCTAssertThrowsError(try file.attribute(DatasetChecksum.attribute, as: UInt64.self, on: "v"))
        XCTAssertEqual(try file.read(Float.self, at: "v").values, [1, 2, 3])
    }

    /// A flipped byte anywhere in the file is an error or leaves the values as written: never a
    /// crash, never different values (metadata and values are both checksummed).
    func testEveryFlippedByteIsAnErrorOrHarmless() throws {
        let path = directory + "/flip.h5"
        let values = (0..<64).map { Float($0) * 0.5 - 3 }
        try HDF5File.writeAtomically(path) { file in
            try file.setAttribute("format", "colony-checkpoint")
            try file.write(values, shape: [8, 8], at: "agent/network/parameters")
            try file.write([5, 7] as [Int64], at: "extra/counters")
        }
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let mutated = directory + "/mutated.h5"
        var refused = 0
        for offset in 0..<original.count {
            var bytes = original
            bytes[offset] ^= 0x5A
            try bytes.write(to: URL(fileURLWithPath: mutated))
            do {
                let file = try HDF5File.open(mutated)
                let parameters = try file.read(Float.self, at: "agent/network/parameters").values
                let counters = try file.read(Int64.self, at: "extra/counters").values
                XCTAssertEqual(parameters, values, "byte \(offset)")
                XCTAssertEqual(counters, [5, 7], "byte \(offset)")
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, original.count / 4, "most bytes of a small file are metadata or values")
    }

    /// The dataset checksum is CRC-32C: the standard check value, and the same for every length and
    /// alignment as the byte-at-a-time loop TensorBoard's framing uses.
    func testTheFastChecksumIsCRC32C() {
        let check = Array("123456789".utf8)
        XCTAssertEqual(check.withUnsafeBytes { CRC32C.checksum($0) }, 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum(check), 0xE306_9283)
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        for start in 0..<9 {
            for end in stride(from: start, through: bytes.count, by: 13) {
                let slice = Array(bytes[start..<end])
                XCTAssertEqual(slice.withUnsafeBytes { CRC32C.checksum($0) }, CRC32C.checksum(slice as [UInt8]), "\(start)..<\(end)")
            }
        }
    }

    func testAReturnsFileWithAnImpossibleFrameNamesTheLine() throws {
        let path = directory + "/returns100.csv"
        for frame in ["1e23", "-5", "2.5", "nan", "inf"] {
            try AtomicFile.write("100,1.0,0.0,1.0,1.0\n\(frame),2.0,0.0,2.0,2.0\n", to: path)
            XCTAssertThrowsError(try ReturnsCSV.read(path)) { error in
                XCTAssertEqual(error as? FileFormatError, FileFormatError(
                    source: path, line: 2, message: "frame \(Double(frame)!) is not a whole number in 0...\(1 << 53)"))
            }
        }
        try AtomicFile.write("100,inf,nan,1.0,1.0\n", to: path)
        XCTAssertEqual(try ReturnsCSV.read(path).first?.frame, 100, "statistics may be anything a diverged run wrote")
    }
}
