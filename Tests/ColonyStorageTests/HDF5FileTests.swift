import Foundation
import XCTest
@testable import ColonyStorage

final class HDF5FileTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-hdf5-\(UUID().uuidString)"
        try AtomicFile.createDirectories(directory)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Objects carry no modification times: the same content written a second later is the same bytes
    /// (population lineages identify checkpoints by SHA-256).
    func testTheSameContentWrittenAtAnotherTimeIsTheSameBytes() throws {
        func write(_ path: String) throws -> Data {
            let file = try HDF5File.create(path)
            try file.write([Float](repeating: 0.5, count: 7), at: "agent/network/parameters")
            try file.writeString("dqn", at: "header/agent")
            try file.writeScalar(Int64(42), at: "extra/frames")
            file.close()
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let first = try write(directory + "/first.h5")
        Thread.sleep(forTimeInterval: 1.1)  // times have a resolution of one second
        XCTAssertEqual(try write(directory + "/second.h5"), first)
    }

    func testNumericDatasetsRoundTripWithShapeAndIntermediateGroups() throws {
        let path = directory + "/a.h5"
        let file = try HDF5File.create(path)
        let weights: [Float] = (0..<12).map { Float($0) * 0.5 - 1 }
        try file.write(weights, shape: [3, 4], at: "network/policy/weights")
        try file.write([Int64.min, 0, Int64.max], at: "counters/values")
        try file.write([UInt64.max, 1], at: "rng/state")
        try file.writeScalar(3.25 as Double, at: "scalars/learning_rate")
        file.close()

        let reopened = try HDF5File.open(path)
        let (values, shape) = try reopened.read(Float.self, at: "network/policy/weights")
        XCTAssertEqual(values, weights)
        XCTAssertEqual(shape, [3, 4])
        XCTAssertEqual(try reopened.read(Int64.self, at: "counters/values").values, [Int64.min, 0, Int64.max])
        XCTAssertEqual(try reopened.read(UInt64.self, at: "rng/state").values, [UInt64.max, 1])
        XCTAssertEqual(try reopened.readScalar(Double.self, at: "scalars/learning_rate"), 3.25)
        XCTAssertEqual(try reopened.read(Double.self, at: "scalars/learning_rate").shape, [])
        XCTAssertEqual(try reopened.members(), ["counters", "network", "rng", "scalars"])
        XCTAssertEqual(try reopened.members(of: "network/policy"), ["weights"])
        XCTAssertTrue(reopened.contains("network/policy/weights"))
        XCTAssertFalse(reopened.contains("network/value/weights"))
    }

    func testOverwritingADatasetReplacesIt() throws {
        let file = try HDF5File.create(directory + "/b.h5")
        try file.write([1, 2, 3] as [Float], at: "x")
        try file.write([9] as [Float], at: "x")
        XCTAssertEqual(try file.read(Float.self, at: "x").values, [9])
    }

    func testStringsAndAttributes() throws {
        let file = try HDF5File.create(directory + "/c.h5")
        let text = "agent = \"ppo\"\nlearning_rate = 0.001 # ünïcode\n"
        try file.writeString(text, at: "config/toml")
        try file.writeString("", at: "config/empty")
        try file.setAttribute("format", "colony-checkpoint")
        try file.setAttribute("version", Int64(1))
        try file.setAttribute("frames", Int64(12345), on: "counters")
        XCTAssertEqual(try file.readString(at: "config/toml"), text)
        XCTAssertEqual(try file.readString(at: "config/empty"), "")
        XCTAssertEqual(try file.stringAttribute("format"), "colony-checkpoint")
        XCTAssertEqual(try file.attribute("version", as: Int64.self), 1)
        XCTAssertEqual(try file.attribute("frames", as: Int64.self, on: "counters"), 12345)
    }

    func testErrorsNameTheFileAndObject() throws {
        XCTAssertThrowsError(try HDF5File.open(directory + "/missing.h5")) { error in
            XCTAssertTrue("\(error)".contains("missing.h5"), "\(error)")
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
        let file = try HDF5File.create(directory + "/d.h5")
        XCTAssertThrowsError(try file.read(Float.self, at: "nope")) { error in
            XCTAssertTrue("\(error)".contains("nope"), "\(error)")
        }
        XCTAssertThrowsError(try file.write([1, 2, 3] as [Float], shape: [2, 2], at: "bad")) { error in
            XCTAssertTrue("\(error)".contains("shape [2, 2]"), "\(error)")
        }
        XCTAssertThrowsError(try file.stringAttribute("absent"))
        let notHDF5 = directory + "/plain.txt"
        try AtomicFile.write("hello", to: notHDF5)
        XCTAssertThrowsError(try HDF5File.open(notHDF5))
    }

    func testAtomicWriteReplacesWholeFileAndLeavesNoTemporaries() throws {
        let path = directory + "/latest.h5"
        try HDF5File.writeAtomically(path) { try $0.write([1, 2] as [Float], at: "v") }
        try HDF5File.writeAtomically(path) { try $0.write([3, 4, 5] as [Float], at: "v") }
        XCTAssertEqual(try HDF5File.open(path).read(Float.self, at: "v").values, [3, 4, 5])

        struct Interrupted: Error {}
        XCTAssertThrowsError(try HDF5File.writeAtomically(path) { file in
            try file.write([7] as [Float], at: "v")
            throw Interrupted()
        })
        // The failed write left the previous complete file in place and no temporary behind.
        XCTAssertEqual(try HDF5File.open(path).read(Float.self, at: "v").values, [3, 4, 5])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["latest.h5"])
    }

    func testAtomicTextWrite() throws {
        let path = directory + "/nested/dir/returns100.csv"
        try AtomicFile.createDirectories(directory + "/nested/dir")
        try AtomicFile.write("100,1.0,0.0,1.0,1.0\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "100,1.0,0.0,1.0,1.0\n")
    }

    /// h5py must open what Colony writes: the documented promise to users' own tools.
    func testH5pyReadsTheFile() throws {
        guard let python = ReferencePython.withModules(["h5py", "numpy"]) else {
            throw XCTSkip("no Python with h5py (make test creates .venv-ref)")
        }
        let path = directory + "/py.h5"
        try HDF5File.writeAtomically(path) { file in
            try file.write([0.5, -1.5, 2, 4] as [Float], shape: [2, 2], at: "network/parameters")
            try file.writeString("ppo", at: "config/agent")
            try file.setAttribute("format", "colony-checkpoint")
        }
        let script = """
        import h5py, sys
        f = h5py.File(sys.argv[1], 'r')
        p = f['network/parameters'][()]
        assert p.shape == (2, 2) and p.dtype.name == 'float32', (p.shape, p.dtype)
        assert p.tolist() == [[0.5, -1.5], [2.0, 4.0]], p.tolist()
        assert f['config/agent'][()] == b'ppo', f['config/agent'][()]
        fmt = f.attrs['format']
        assert (fmt.decode() if isinstance(fmt, bytes) else fmt) == 'colony-checkpoint', fmt
        print('ok')
        """
        XCTAssertEqual(try python.run(script, arguments: [path]).trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }
}
