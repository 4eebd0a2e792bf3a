import Foundation

/// The executables SwiftPM builds next to the test binary (`colony`, `colony-replay`, ...), for
/// tests that run them as a person would.
public enum BuiltExecutable {
    /// How a run of an executable ended and what it printed.
    public struct Outcome: Sendable {
        public let reason: Process.TerminationReason
        public let status: Int32
        public let output: String
        public let error: String
    }

    /// The path of `name` in the build's products directory, or nil when it was not built.
    public static func path(_ name: String) -> String? {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = url.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            url.deleteLastPathComponent()
        }
        return nil
    }

    /// Runs `name` with `arguments` to completion (nil when it was not built). A run still going after `timeout` seconds
    /// is interrupted (SIGINT, then SIGKILL 15 s later) and its error output says so: a test that would hang fails.
    public static func run(_ name: String, _ arguments: [String], timeout: TimeInterval = 900) throws -> Outcome? {
        guard let path = path(name) else { return nil }
        // Files rather than pipes: a chatty process can never block on a full pipe.
        let stem = NSTemporaryDirectory() + "colony-exec-\(UUID().uuidString)"
        let outputPath = stem + ".out", errorPath = stem + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outputPath)
            try? FileManager.default.removeItem(atPath: errorPath)
        }
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        var timedOut = ""
        if process.isRunning {
            timedOut = "\n[test] \(name) \(arguments.joined(separator: " ")) still ran after \(Int(timeout)) s: interrupted"
            kill(process.processIdentifier, SIGINT)
            let grace = Date().addingTimeInterval(15)
            while process.isRunning && Date() < grace { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return Outcome(
            reason: process.terminationReason, status: process.terminationStatus,
            output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            error: ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "") + timedOut)
    }
}
