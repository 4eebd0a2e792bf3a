import ColonyEnvironments
import Foundation

/// What the tests that run real Python environment hosts share: the interpreter (`make envhost`'s
/// venv or `COLONY_PYTHON`), settings that use it, and `python/tests` (the `colony_testenvs`
/// module) on the hosts' `PYTHONPATH`. Where no interpreter exists, `settings` returns nil and the
/// test skips with `missingPython`.
public enum EnvironmentHostTesting {
    /// Why a host test skips.
    public static let missingPython = "no Python for the environment host (run `make envhost` or set COLONY_PYTHON)"

    /// The interpreter the tests use, if it exists.
    public static var python: String? {
        let venv = (PythonInterpreter.packageDirectory ?? "") + "/.venv/bin/python"
        let python = ProcessInfo.processInfo.environment["COLONY_PYTHON"] ?? venv
        return FileManager.default.isExecutableFile(atPath: python) ? python : nil
    }

    /// Settings for `id` that run on `python`, with `python/tests` on the hosts' `PYTHONPATH`
    /// (hosts inherit the test process's environment); nil without an interpreter.
    public static func settings(_ id: String) -> EnvironmentSettings? {
        guard let python else { return nil }
        setenv("PYTHONPATH", testEnvironments, 1)
        var settings = EnvironmentSettings(id: id)
        settings.python = python
        return settings
    }

    /// `python/tests`: `colony_testenvs` and the reference scripts.
    public static var testEnvironments: String { (PythonInterpreter.packageDirectory ?? "python") + "/tests" }

    /// Runs the test interpreter with `arguments` (a script in `python/tests` and its arguments, say),
    /// `colony_envhost` and `python/tests` on `PYTHONPATH`, and returns its standard output; throws
    /// with its standard error when it fails.
    public static func runPython(_ arguments: [String]) throws -> Data {
        guard let python else { throw PythonScriptError(message: missingPython) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = [testEnvironments, PythonInterpreter.packageDirectory].compactMap { $0 }.joined(separator: ":")
        process.environment = environment
        // Standard error goes to a file, so a chatty script cannot block on a full pipe.
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("colony-python-\(UUID().uuidString).err").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        guard let errorFile = FileHandle(forWritingAtPath: errorPath) else { throw PythonScriptError(message: "cannot write \(errorPath)") }
        defer { try? errorFile.close() }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errorFile
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw PythonScriptError(message: "python exited with \(process.terminationStatus): \(errors)")
        }
        return data
    }

    public struct PythonScriptError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
