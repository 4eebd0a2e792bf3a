import Foundation

/// A Python interpreter that has the given modules, used to check files with the tools users read them with.
/// Looks at COLONY_PYTHON, then the repository's .venv-ref (which `make test` creates), then python3.
struct ReferencePython {
    let executable: String

    static func withModules(_ modules: [String]) -> ReferencePython? {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["COLONY_PYTHON"] { candidates.append(configured) }
        candidates.append(repository.appendingPathComponent(".venv-ref/bin/python").path)
        candidates.append("/usr/bin/python3")
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let python = ReferencePython(executable: candidate)
            if (try? python.run("import " + modules.joined(separator: ", "), arguments: [])) != nil { return python }
        }
        return nil
    }

    struct Failure: Error, CustomStringConvertible {
        let output: String
        var description: String { "python failed: \(output)" }
    }

    func run(_ script: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw Failure(output: output) }
        return output
    }
}
