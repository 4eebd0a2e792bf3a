import Foundation

/// Runs every cell of a grid as its own `colony train` process, `parallel` at a time, on this machine.
/// A failing cell does not stop the others; finished cells are skipped and partial ones resume
/// (each cell's own checkpoint) when the grid is run again.
public struct LocalGridRunner {
    public struct Outcome: Sendable {
        public var cell: GridCell
        public var exitStatus: Int32?
        public var skipped: Bool
        public var logPath: String
        public var failureReason: String? {
            guard let exitStatus, exitStatus != 0 else { return nil }
            let lastLine = (try? String(contentsOfFile: logPath, encoding: .utf8))?
                .split(separator: "\n").last { $0.hasPrefix("error:") }.map(String.init)
            return lastLine ?? "exit status \(exitStatus) (see \(logPath))"
        }
    }

    public let grid: ExperimentGrid
    public let executable: String
    public let parallel: Int

    public init(grid: ExperimentGrid, executable: String, parallel: Int) {
        self.grid = grid
        self.executable = executable
        self.parallel = max(1, parallel)
    }

    public func run(report: (String) -> Void) throws -> [Outcome] {
        try grid.writeManifest()
        let logs = grid.runsDirectory + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        var outcomes: [Outcome] = []
        var queue = grid.cells[...]
        var running: [(Process, GridCell, String)] = []
        while !queue.isEmpty || !running.isEmpty {
            while running.count < parallel, let cell = queue.popFirst() {
                let log = "\(logs)/\(cell.agent)-\(cell.environment)-seed-\(cell.seed).log"
                if grid.isDone(cell) {
                    outcomes.append(Outcome(cell: cell, exitStatus: 0, skipped: true, logPath: log))
                    report("[\(cell.index)] \(cell.agent) \(cell.environment) seed \(cell.seed): already done, skipped")
                    continue
                }
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = grid.trainArguments(cell)
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
                running.append((process, cell, log))
                report("[\(cell.index)] \(cell.agent) \(cell.environment) seed \(cell.seed): started (log \(log))")
            }
            Thread.sleep(forTimeInterval: 0.1)
            running.removeAll { process, cell, log in
                guard !process.isRunning else { return false }
                let outcome = Outcome(cell: cell, exitStatus: process.terminationStatus, skipped: false, logPath: log)
                outcomes.append(outcome)
                if let reason = outcome.failureReason {
                    report("[\(cell.index)] \(cell.agent) \(cell.environment) seed \(cell.seed): FAILED — \(reason)")
                } else {
                    report("[\(cell.index)] \(cell.agent) \(cell.environment) seed \(cell.seed): done")
                }
                return true
            }
        }
        return outcomes.sorted { $0.cell.index < $1.cell.index }
    }
}
