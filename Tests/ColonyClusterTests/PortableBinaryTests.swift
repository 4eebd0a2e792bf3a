import ColonyTestSupport
import Foundation
import XCTest

/// Release binaries run on every x86-64 node a cluster may hold: the executables built here carry no
/// AVX (VEX-encoded) instruction, which a pre-AVX node would stop on with SIGILL. OpenBLAS, linked
/// dynamically, picks its own kernels for the CPU it runs on. Checked with objdump on the binaries this
/// build produced; skipped for debug builds, for builds tuned with COLONY_TARGET_CPU and without objdump.
final class PortableBinaryTests: XCTestCase {
    func testReleaseExecutablesNeedNothingBeyondX86_64V2() throws {
        #if !arch(x86_64)
        throw XCTSkip("the x86-64 baseline applies to x86-64 builds")
        #else
        guard CommandLine.arguments[0].contains("/release/") else { throw XCTSkip("a debug build is not what ships") }
        guard ProcessInfo.processInfo.environment["COLONY_TARGET_CPU"].map({ $0.isEmpty }) ?? true else {
            throw XCTSkip("COLONY_TARGET_CPU tunes this build for one CPU")
        }
        guard let objdump = ["/usr/bin/objdump", "/usr/local/bin/objdump"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no objdump (binutils) to read the binaries with")
        }
        let names = ["colony", "colony-coordinator", "colony-learner", "colony-worker", "colony-replay"]
        let paths = names.compactMap(BuiltExecutable.path)
        guard !paths.isEmpty else { throw XCTSkip("the executables are not built next to the tests") }
        // A VEX-encoded instruction names an xmm/ymm/zmm register with a v-prefixed mnemonic (or is vzeroupper).
        let vex = try NSRegularExpression(pattern: #"^\s*[0-9a-f]+:\s+(v\S+\s.*%[xyz]mm|vzero)"#, options: [.anchorsMatchLines])
        for path in paths {
            let listing = try disassemble(path, with: objdump)
            XCTAssertGreaterThan(listing.utf8.count, 100_000, "objdump printed almost nothing for \(path)")
            let range = NSRange(listing.startIndex..., in: listing)
            let count = vex.numberOfMatches(in: listing, range: range)
            let first = vex.firstMatch(in: listing, range: range).flatMap { Range($0.range, in: listing) }.map { String(listing[$0]) } ?? ""
            XCTAssertEqual(count, 0, "\(path) holds \(count) AVX instructions (first: \(first)): it would stop with SIGILL on a pre-AVX node")
        }
        #endif
    }

    private func disassemble(_ path: String, with objdump: String) throws -> String {
        let listing = NSTemporaryDirectory() + "colony-objdump-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: listing) }
        _ = FileManager.default.createFile(atPath: listing, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: objdump)
        process.arguments = ["-d", "--no-show-raw-insn", path]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: listing))
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "objdump failed on \(path)")
        return try String(contentsOfFile: listing, encoding: .utf8)
    }
}
