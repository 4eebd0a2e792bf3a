import Foundation

/// Finds the Python that runs environment hosts and the `colony_envhost` package it runs.
///
/// The interpreter, in order: the settings' `python` (`--python`, `env.python`), `COLONY_PYTHON`,
/// the venv `make envhost` creates (`python/.venv`) in the repository the binary was built in or
/// above the working directory, then `python3` on the PATH. The package is found the same way
/// (`COLONY_ENVHOST_PATH`, else `python/colony_envhost` of that repository) and put first on the
/// host's `PYTHONPATH`, so any interpreter with gymnasium, numpy and pyzmq can run it.
public enum PythonInterpreter {
    /// The interpreter for `settings`, and where the choice came from (for messages).
    public static func resolve(_ settings: EnvironmentSettings) -> String {
        if let python = settings.python { return python }
        if let python = ProcessInfo.processInfo.environment["COLONY_PYTHON"], !python.isEmpty { return python }
        if let repository = repositoryDirectory {
            let venv = repository + "/python/.venv/bin/python"
            if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        }
        return "python3"
    }

    /// The directory holding `colony_envhost/` (goes on the host's `PYTHONPATH`), if found.
    public static var packageDirectory: String? {
        if let path = ProcessInfo.processInfo.environment["COLONY_ENVHOST_PATH"], !path.isEmpty { return path }
        return repositoryDirectory.map { $0 + "/python" }
    }

    /// The nearest directory above the running binary, then above the working directory, that
    /// holds `python/colony_envhost/__main__.py`.
    static let repositoryDirectory: String? = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        for start in [URL(fileURLWithPath: executable).deletingLastPathComponent().path, FileManager.default.currentDirectoryPath] {
            var directory = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                if FileManager.default.fileExists(atPath: directory.path + "/python/colony_envhost/__main__.py") { return directory.path }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }()

    /// The environment for a host process: ours, with the package directory first on `PYTHONPATH`.
    static func hostEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let directory = packageDirectory {
            environment["PYTHONPATH"] = [directory, environment["PYTHONPATH"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ":")
        }
        // Tracebacks and prints reach the log at once, not when a buffer fills.
        environment["PYTHONUNBUFFERED"] = "1"
        return environment
    }

    /// Whether `python` names an executable: a path that exists, or a name found on the PATH.
    static func exists(_ python: String) -> Bool {
        if python.contains("/") { return FileManager.default.isExecutableFile(atPath: python) }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(python)") }
    }

    /// A process that runs `python` with `arguments` and the hosts' environment (`hostEnvironment`):
    /// an absolute path as is, a bare name through `/usr/bin/env` (which searches the PATH and
    /// execs, keeping the pid). The caller sets its standard streams and runs it.
    static func process(_ python: String, _ arguments: [String]) -> Process {
        let process = Process()
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
        }
        process.environment = hostEnvironment()
        return process
    }
}
