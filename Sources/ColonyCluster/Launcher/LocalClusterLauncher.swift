import ColonyExperiments
import Foundation
import Synchronization

/// `colony cluster up FILE`: a coordinator, a learner, N workers and, for replay-based algorithms,
/// a `colony-replay` server as separate processes on this machine. Their output is forwarded line by
/// line with a prefix (`[learner] ...`). Nothing is
/// restarted silently: a worker that dies is reported and the run goes on; a learner, coordinator or replay server that fails
/// stops everything. At the end (the learner's frame budget) or on Ctrl-C/SIGTERM every process is
/// stopped with SIGTERM (the learner checkpoints), then SIGKILL after a grace period.
public final class LocalClusterLauncher {
    public let settingsPath: String
    public let settings: ClusterSettings
    public let binaryDirectory: String
    /// The run's CURVE key directory, handed to every process as COLONY_KEYS (nil: plain sockets, and an
    /// inherited COLONY_KEYS is withheld).
    public let keysDirectory: String?

    /// Where a run launched without `--keys` keeps the keys it makes: inside its learner's run directory,
    /// so a restart of the same run finds them again.
    public static func ownKeysDirectory(_ settings: ClusterSettings) -> String {
        settings.runDirectory.path + "/keys"
    }
    private let output: @Sendable (String) -> Void
    /// Asked every tenth of a second: true stops the cluster as a signal would (a population ending its members' clusters).
    private let stopRequested: @Sendable () -> Bool
    private var processes: [(name: String, process: Process)] = []

    public init(settingsPath: String, settings: ClusterSettings, binaryDirectory: String, keysDirectory: String? = nil,
                output: @escaping @Sendable (String) -> Void, stopRequested: @escaping @Sendable () -> Bool = { false }) {
        self.settingsPath = settingsPath
        self.settings = settings
        self.binaryDirectory = binaryDirectory
        self.keysDirectory = keysDirectory.flatMap { $0.isEmpty ? nil : $0 }
        self.output = output
        self.stopRequested = stopRequested
    }

    /// Starts a process with prefixed, forwarded output.
    @discardableResult
    public func launch(_ name: String, executable: String, arguments: [String]) throws -> Process {
        let path = binaryDirectory + "/" + executable
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TrainingError("cannot find \(path); build with `make build` (or `swift build -c release`) first")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[ProcessKeys.directoryVariable] = keysDirectory
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let forward = output
        let prefix = "[\(name)] "
        let buffer = Mutex<[UInt8]>([])
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            let lines: [String] = buffer.withLock { pending in
                if data.isEmpty {  // end of file: flush what is left
                    defer { pending.removeAll() }
                    return pending.isEmpty ? [] : [String(decoding: pending, as: UTF8.self)]
                }
                pending += data
                var complete: [String] = []
                while let newline = pending.firstIndex(of: 10) {
                    complete.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
                return complete
            }
            for line in lines { forward(prefix + line) }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
        processes.append((name, process))
        return process
    }

    /// Runs the whole cluster until the learner finishes or a stop signal; returns the learner's exit status.
    public func run() throws -> Int32 {
        let coordinator = settings.coordinator
        let bind = coordinator.replacingOccurrences(of: "tcp://127.0.0.1:", with: "tcp://127.0.0.1:")
        output("starting \(settings.algorithm) on \(settings.environment): coordinator \(coordinator), learner, \(settings.usesReplay ? "replay server, " : "")\(settings.workers) workers × \(settings.environmentsPerWorker) environments")
        try launch("coordinator", executable: "colony-coordinator", arguments: ["--bind", bind])
        if settings.usesReplay {
            try launch("replay", executable: "colony-replay", arguments: ["--coordinator", coordinator, "--config", settingsPath, "--host", settings.host])
        }
        let learner = try launch("learner", executable: "colony-learner", arguments: ["--coordinator", coordinator, "--config", settingsPath])
        for index in 0..<settings.workers {
            try launch("worker-\(index)", executable: "colony-worker", arguments: ["--coordinator", coordinator, "--config", settingsPath, "--index", String(index)])
        }
        var reported = Set<String>()
        var learnerStatus: Int32?
        var stoppedBy = "the learner"  // which process's exit ended the run, for the last line
        while learnerStatus == nil {
            Thread.sleep(forTimeInterval: 0.1)
            if let signal = StopSignal.requested {
                output("signal \(signal): stopping every process (the learner writes a checkpoint)")
                break
            }
            if stopRequested() {
                output("stopping every process")
                break
            }
            for (name, process) in processes where !process.isRunning && !reported.contains(name) {
                reported.insert(name)
                if name == "learner" {
                    learnerStatus = process.terminationStatus
                } else if (name == "replay" || name == "coordinator") && process.terminationStatus != 0 {
                    // Without its coordinator (say, its address is taken by another run) or its replay server the
                    // run cannot go on, and members could join a stranger's coordinator: stop rather than wait.
                    stoppedBy = name == "replay" ? "the replay server (colony-replay)" : "the coordinator (colony-coordinator)"
                    output("\(stoppedBy) exited with status \(process.terminationStatus); stopping every process")
                    learnerStatus = process.terminationStatus
                } else if process.terminationStatus != 0 {
                    output("\(name) exited with status \(process.terminationStatus) (not restarted)")
                }
            }
        }
        if learner.isRunning { terminate(learner) }
        // Workers and the coordinator leave on the shutdown order; give them a moment, then insist.
        let deadline = Date().addingTimeInterval(5)
        while processes.contains(where: { $0.process.isRunning }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        for (_, process) in processes where process.isRunning { terminate(process) }
        for (_, process) in processes { process.waitUntilExit() }
        let status = learnerStatus ?? learner.terminationStatus
        output(status == 0 ? "cluster finished" : "\(stoppedBy) exited with status \(status)")
        return status
    }

    /// SIGTERM, then SIGKILL after 10 s.
    private func terminate(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
