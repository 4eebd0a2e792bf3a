import ColonyAgents
import ColonyNumerics
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyExperiments

/// Damaged checkpoints, the way disks, killed copies and hand edits (h5py) damage them: each is
/// resumed by the real `Trainer` (the bulk, in process) or the real `colony` executable (a handful),
/// and each must be refused with one line that names the file, what is wrong and what to do, or, for
/// a byte nobody reads, load values identical to the ones written. A trap kills the test process.
final class CorruptCheckpointTests: XCTestCase {
    private var runs: String!

    override func setUpWithError() throws {
        StopSignal.reset()
        runs = NSTemporaryDirectory() + "colony-corrupt-\(UUID().uuidString)"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: runs)
    }

    // MARK: The real checkpoint and its resume

    /// A short real run; the run directory is kept as `pristine` and restored before every resume.
    private struct Fixture {
        let options: TrainingOptions
        let assignments: [String]
        let pristine: String
        var latest: String { options.directory.latestCheckpoint }
    }

    private func train(_ agent: String, frames: Int, set assignments: [String]) throws -> Fixture {
        let configuration = try ConfigurationSources(assignments: assignments).resolve(agent: agent)
        let options = TrainingOptions(environment: "CartPole-v1", seed: 4, frames: frames, configuration: configuration, runsDirectory: runs,
                                      checkpointInterval: frames / 2, keepCheckpoints: 1, testEpisodes: 1)
        _ = try Trainer(options: options, progress: ProgressReporter(style: .quiet, label: ""), log: { _ in }).run()
        let pristine = runs + "/pristine-\(agent)"
        try FileManager.default.copyItem(atPath: options.directory.path, toPath: pristine)
        return Fixture(options: options, assignments: assignments, pristine: pristine)
    }

    /// Restores the pristine run directory, damages its latest.h5 with `damage`, resumes; the error, or nil.
    private func resume(_ fixture: Fixture, damage: (String) throws -> Void) throws -> Error? {
        let directory = fixture.options.directory.path
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.copyItem(atPath: fixture.pristine, toPath: directory)
        try damage(fixture.latest)
        do {
            _ = try Trainer(options: fixture.options, progress: ProgressReporter(style: .quiet, label: ""), log: { _ in }).run()
            return nil
        } catch {
            return error
        }
    }

    private func assertRefused(_ error: Error?, naming parts: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return XCTFail("\(what): the damaged checkpoint was accepted", file: file, line: line) }
        let message = "\(error)"
        XCTAssertFalse(message.contains("\n"), "\(what): not one line: \(message)", file: file, line: line)
        for part in ["latest.h5", "--fresh"] + parts where !message.contains(part) {
            XCTFail("\(what): the message does not name '\(part)': \(message)", file: file, line: line)
        }
    }

    // MARK: What the checkpoint holds

    private enum Values: Equatable {
        case float([Float]), double([Double]), int64([Int64]), uint64([UInt64]), uint8([UInt8]), string(String)
    }

    /// Every dataset of the file with its values, read by the type it is stored as.
    private func datasets(_ path: String) throws -> [String: (values: Values, shape: [Int])] {
        let file = try HDF5File.open(path)
        var found: [String: (values: Values, shape: [Int])] = [:]
        func visit(_ group: String) throws {
            for name in try file.members(of: group) {
                let object = group == "/" ? name : group + "/" + name
                if (try? file.members(of: object)) != nil { try visit(object); continue }
                if let r = try? file.read(Float.self, at: object) { found[object] = (.float(r.values), r.shape) }
                else if let r = try? file.read(Double.self, at: object) { found[object] = (.double(r.values), r.shape) }
                else if let r = try? file.read(Int64.self, at: object) { found[object] = (.int64(r.values), r.shape) }
                else if let r = try? file.read(UInt64.self, at: object) { found[object] = (.uint64(r.values), r.shape) }
                else if let r = try? file.read(UInt8.self, at: object) { found[object] = (.uint8(r.values), r.shape) }
                else { found[object] = (.string(try file.readString(at: object)), []) }
            }
        }
        try visit("/")
        return found
    }

    /// Rewrites one dataset through Colony's own HDF5 layer (so its checksum is valid again and only
    /// the reader's value checks stand between the file and the agent).
    private func rewrite(_ path: String, _ object: String, _ body: (HDF5File) throws -> Void) throws {
        let file = try HDF5File.open(path, mode: .readWrite)
        defer { file.close() }
        try body(file)
    }

    // MARK: The fuzz

    private func fuzz(_ fixture: Fixture) throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: fixture.latest))
        let contents = try datasets(fixture.latest)
        var rng = RandomSource(seed: 20_261_206)

        // Truncated at many points: a copy cut short, a full disk.
        for length in stride(from: 0, to: original.count, by: max(1, original.count / 40)) {
            assertRefused(try resume(fixture) { try original.prefix(length).write(to: URL(fileURLWithPath: $0)) }, naming: [], "truncated to \(length) bytes")
        }

        // Flipped bytes at seeded offsets: refused, or (an unused byte) every dataset as written.
        var refused = 0, flips = 0
        for _ in 0..<160 {
            let offset = rng.nextInt(below: original.count), mask = UInt8(1 + rng.nextInt(below: 255))
            var bytes = original
            bytes[offset] ^= mask
            flips += 1
            if let error = try resume(fixture, damage: { try bytes.write(to: URL(fileURLWithPath: $0)) }) {
                assertRefused(error, naming: [], "byte \(offset) ^ \(mask)")
                refused += 1
            } else {
                try bytes.write(to: URL(fileURLWithPath: fixture.latest))
                let read = try datasets(fixture.latest)
                XCTAssertEqual(read.count, contents.count, "byte \(offset) ^ \(mask) was accepted but changed the datasets")
                for (object, entry) in contents where read[object]?.values != entry.values {
                    XCTFail("byte \(offset) ^ \(mask) was accepted but changed \(object)")
                }
            }
        }
        XCTAssertGreaterThan(refused, flips / 2, "most bytes of a checkpoint are metadata or values, all checksummed")

        // NaN, ±inf and impossible numbers in every numeric dataset, and every dataset in another dtype.
        for (object, entry) in contents.sorted(by: { $0.key < $1.key }) {
            let shape = entry.shape
            switch entry.values {
            case .float(let values) where !values.isEmpty:
                for bad in [Float.nan, .infinity, -.infinity] {
                    var changed = values
                    changed[values.count / 2] = bad
                    assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(changed, shape: shape, at: object) } },
                                  naming: [object], "\(bad) in \(object)")
                }
                var huge = values
                huge[0] = 1e30
                _ = try resume(fixture) { path in try rewrite(path, object) { try $0.write(huge, shape: shape, at: object) } }  // may be valid; must not trap
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(values.map(Double.init), shape: shape, at: object) } },
                              naming: [object, "stored as 64-bit float"], "\(object) as float64")
            case .double(let values) where !values.isEmpty:
                for bad in [Double.nan, .infinity, -.infinity] {
                    var changed = values
                    changed[values.count / 2] = bad
                    assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(changed, shape: shape, at: object) } },
                                  naming: [object], "\(bad) in \(object)")
                }
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(values.map(Float.init), shape: shape, at: object) } },
                              naming: [object, "stored as 32-bit float"], "\(object) as float32")
            case .int64(let values) where !values.isEmpty:
                for bad in [Int64(-1), Int64.max, Int64(1) << 41] {
                    var changed = values
                    changed[values.count / 2] = bad
                    assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(changed, shape: shape, at: object) } },
                                  naming: [object], "\(bad) in \(object)")
                }
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(values.map(Double.init), shape: shape, at: object) } },
                              naming: [object, "stored as 64-bit float"], "\(object) as float64")
            case .uint64(let values) where !values.isEmpty:
                // Generator states: all zero is the one impossible state.
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write([UInt64](repeating: 0, count: values.count), shape: shape, at: object) } },
                              naming: [object], "zero state in \(object)")
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(values.map { Int64(bitPattern: $0) }, shape: shape, at: object) } },
                              naming: [object, "stored as 64-bit signed integer"], "\(object) as int64")
            default:
                continue
            }
        }

        // Values edited in place (h5py's `dataset[...] = nan` keeps the dataset and its attributes).
        for (object, entry) in contents.sorted(by: { $0.key < $1.key }) {
            guard case .float(let values) = entry.values, !values.isEmpty else { continue }
            assertRefused(try resume(fixture) { path in
                let offset = try XCTUnwrap(try HDF5File.open(path).dataOffset(of: object))
                let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
                try handle.seek(toOffset: UInt64(offset))
                try handle.write(contentsOf: Data(withUnsafeBytes(of: Float.nan) { Array($0) }))
                try handle.close()
            }, naming: [object, "checksum"], "NaN patched into \(object)")
        }
    }

    func testDamagedPPOCheckpointsAreRefusedInOneLine() throws {
        try fuzz(try train("ppo", frames: 1_024, set: ["n_epochs=2"]))
    }

    func testDamagedDQNCheckpointsAreRefusedInOneLine() throws {
        try fuzz(try train("dqn", frames: 600, set: ["buffer_size=300", "learning_starts=100", "batch_size=16", "n_step=3"]))
    }

    /// Discrete actions are indices: a whole number outside the space (or 1e30) in any stored action is refused.
    func testStoredActionsOutsideTheSpaceAreRefused() throws {
        let ppo = try train("ppo", frames: 1_024, set: ["n_epochs=2"])
        let dqn = try train("dqn", frames: 600, set: ["buffer_size=300", "learning_starts=100", "batch_size=16", "n_step=3"])
        let cases: [(Fixture, String)] = [
            (ppo, "extra/pending_actions"), (ppo, "agent/rollout/batch/actions"),
            (dqn, "extra/pending_actions"), (dqn, "agent/replay/actions"), (dqn, "agent/n_step/actions"),
        ]
        for (fixture, object) in cases {
            let entry = try XCTUnwrap(try datasets(fixture.latest)[object], object)
            guard case .float(let values) = entry.values, !values.isEmpty else { XCTFail("\(object) holds no float actions"); continue }
            for bad: Float in [2, 7, -1, 0.5, 1e30] {
                var changed = values
                changed[values.count - 1] = bad
                assertRefused(try resume(fixture) { path in try rewrite(path, object) { try $0.write(changed, shape: entry.shape, at: object) } },
                              naming: [object, "not one of the 2 discrete actions"], "action \(bad) in \(object)")
            }
        }
        let lastActions = "agent/last_actions"
        let entry = try XCTUnwrap(try datasets(dqn.latest)[lastActions])
        guard case .int64(let values) = entry.values else { return XCTFail("\(lastActions) is not int64") }
        assertRefused(try resume(dqn) { path in try rewrite(path, lastActions) { try $0.write(values.map { _ in Int64(2) }, shape: entry.shape, at: lastActions) } },
                      naming: [lastActions, "only 0..<2"], "action 2 in \(lastActions)")
    }

    /// A returns100.csv row with frame 1e23 trapped `Int(...)` on resume; now it is an error naming the line.
    func testAReturnsFileWithAnImpossibleFrameIsRefusedOnResume() throws {
        let fixture = try train("ppo", frames: 1_024, set: ["n_epochs=2"])
        let error = try resume(fixture) { _ in
            try AtomicFile.write("100,20.5,3.0,40.0,9.0\n1e23,22.0,3.0,40.0,9.0\n", to: fixture.options.directory.returns100)
        }
        let message = "\(try XCTUnwrap(error))"
        XCTAssertTrue(message.contains("returns100.csv:2") && message.contains("1e+23") && message.contains("--fresh"), message)
    }

    // MARK: Through the executable

    /// A handful through `colony train` (resume) and `colony eval`: exit status 1, one line on
    /// standard error naming the file and the damage, never a signal.
    func testTheColonyExecutableRefusesDamagedCheckpointsWithOneLine() throws {
        guard BuiltExecutable.path("colony") != nil else { throw XCTSkip("colony is not built next to the tests") }
        let fixture = try train("ppo", frames: 1_024, set: ["n_epochs=2"])
        let contents = try datasets(fixture.latest)
        var policy: (object: String, values: [Float], shape: [Int])?
        for (object, entry) in contents.sorted(by: { $0.key < $1.key }) where object.hasPrefix("agent/networks") && policy == nil {
            if case .float(let values) = entry.values, !values.isEmpty { policy = (object, values, entry.shape) }
        }
        let (parameters, values, shape) = try XCTUnwrap(policy)
        let train: [String] = ["train", "--agent", "ppo", "--env", "CartPole-v1", "--seed", "4", "--frames", "\(fixture.options.frames)", "--runs-dir", runs!,
                     "--test-episodes", "1", "--quiet"] + fixture.assignments.flatMap { ["--set", $0] }
        // What is damaged, what the message must name, whether `colony eval` reads it (eval loads the agent, not the loop's extra/).
        let damages: [(String, [String], Bool, (String) throws -> Void)] = [
            ("NaN parameter", [parameters], true, { path in
                var v = values
                v[0] = .nan
                try self.rewrite(path, parameters) { try $0.write(v, shape: shape, at: parameters) }
            }),
            ("float64 parameters", [parameters, "stored as 64-bit float"], true, { path in
                try self.rewrite(path, parameters) { try $0.write(values.map(Double.init), shape: shape, at: parameters) }
            }),
            ("truncated", [], true, { path in try Data(contentsOf: URL(fileURLWithPath: path)).prefix(5_000).write(to: URL(fileURLWithPath: path)) }),
            ("negative frame counter", ["extra/frames"], false, { path in try self.rewrite(path, "extra/frames") { try $0.writeScalar(Int64(-1), at: "extra/frames") } }),
            ("NaN pending action", ["extra/pending_actions"], false, { path in
                let actions = try HDF5File.open(path).read(Float.self, at: "extra/pending_actions")
                try self.rewrite(path, "extra/pending_actions") { try $0.write(actions.values.map { _ in Float.nan }, shape: actions.shape, at: "extra/pending_actions") }
            }),
        ]
        for (what, parts, evalReads, damage) in damages {
            let directory = fixture.options.directory.path
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.copyItem(atPath: fixture.pristine, toPath: directory)
            try damage(fixture.latest)
            let saved = runs + "/damaged-\(UUID().uuidString).h5"
            try FileManager.default.copyItem(atPath: fixture.latest, toPath: saved)
            var commands: [(String, [String], [String])] = [("train", train, ["latest.h5", "--fresh"])]
            if evalReads { commands.append(("eval", ["eval", "--checkpoint", saved, "--episodes", "1"], [saved, "another checkpoint"])) }
            for (command, arguments, expected) in commands {
                let outcome = try XCTUnwrap(try BuiltExecutable.run("colony", arguments))
                XCTAssertEqual(outcome.reason, .exit, "\(what), colony \(command): killed by signal \(outcome.status): \(outcome.error)")
                XCTAssertEqual(outcome.status, 1, "\(what), colony \(command): \(outcome.error)")
                let lines = outcome.error.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(what), colony \(command): \(outcome.error)")
                let message = String(lines.first ?? "")
                for part in ["error: "] + expected + parts as [String] where !message.contains(part) {
                    XCTFail("\(what), colony \(command): '\(part)' missing from: \(message)")
                }
            }
        }
    }
}
