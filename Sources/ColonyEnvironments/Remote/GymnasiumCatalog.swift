import Foundation
import Synchronization

/// What a Python interpreter offers the environment host (`python -m colony_envhost --list`): its
/// Gymnasium version, the environment families installed and every registered id.
public struct GymnasiumCatalog: Sendable, Decodable {
    public var gymnasiumVersion: String
    public var python: String
    /// Family module → version, nil where not installed (`ale_py`, `mujoco`, `minigrid`, `box2d`).
    public var packages: [String: String?]
    public var ids: [String]

    enum CodingKeys: String, CodingKey {
        case gymnasiumVersion = "gymnasium_version", python, packages, ids
    }

    /// Asks `python` (nil: as `PythonInterpreter.resolve` chooses) for its catalog. Throws
    /// `EnvironmentHostError` with the interpreter's own message when it cannot answer.
    public static func installed(python: String? = nil, timeoutSeconds: Double = 120) throws -> GymnasiumCatalog {
        var settings = EnvironmentSettings(id: "gym:")
        settings.python = python
        let interpreter = PythonInterpreter.resolve(settings)
        let process = PythonInterpreter.process(interpreter, ["-m", "colony_envhost", "--list"])
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        func failure(_ status: String) -> EnvironmentHostError {
            EnvironmentHostError(.couldNotStart(python: interpreter, status: status), environment: "colony envs --gym", pid: nil,
                                 detail: "the interpreter cannot list Gymnasium's environments")
        }
        if !PythonInterpreter.exists(interpreter) { throw failure("no such executable") }
        do { try process.run() } catch { throw failure("\(error.localizedDescription)") }
        // Read both pipes to the end before waiting, so a large listing cannot block the child.
        let errorData = Mutex(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        let errorHandle = errors.fileHandleForReading
        DispatchQueue.global().async {
            let data = errorHandle.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            errorsRead.signal()
        }
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        errorsRead.wait()
        guard process.terminationStatus == 0 else {
            let lines = String(decoding: errorData.withLock { $0 }, as: UTF8.self).split(separator: "\n")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            throw EnvironmentHostError(.couldNotStart(python: interpreter, status: "exit status \(process.terminationStatus)"),
                                       environment: "colony envs --gym", pid: nil,
                                       detail: lines.suffix(3).joined(separator: " ").nonEmpty ?? "it printed nothing")
        }
        do {
            return try JSONDecoder().decode(GymnasiumCatalog.self, from: data)
        } catch {
            throw failure("an unreadable listing: \(error)")
        }
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
