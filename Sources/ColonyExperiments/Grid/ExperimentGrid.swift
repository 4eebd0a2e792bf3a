import ColonyStorage
import Foundation

/// One cell of an agent × environment × seed grid.
public struct GridCell: Codable, Sendable, Equatable {
    public var index: Int
    public var agent: String
    public var environment: String
    public var seed: UInt64
    /// `--set` assignments for this cell (from a grid file's per-cell overrides).
    public var overrides: [String]
    public var runDirectory: String
}

/// A named grid of runs under `runs/NAME/`, with a manifest that maps every index to its cell.
///
/// Index order is stable and documented: agents outermost, then environments, then seeds —
/// index = (agentIndex · envCount + envIndex) · seedCount + seedIndex — so index i of a job array
/// always names the same cell (`manifest.json` decodes any index).
public struct ExperimentGrid: Codable, Sendable, Equatable {
    public var name: String
    public var frames: Int
    public var runsDirectory: String
    public var cells: [GridCell]
    public var testEpisodes: Int

    public init(name: String, agents: [String], environments: [String], seeds: [UInt64], frames: Int, runsRoot: String = "runs",
                overrides: [String: [String]] = [:], testEpisodes: Int = 100) {
        self.name = name
        self.frames = frames
        self.testEpisodes = testEpisodes
        runsDirectory = "\(runsRoot)/\(name)"
        var cells: [GridCell] = []
        for agent in agents {
            for environment in environments {
                for seed in seeds {
                    let directory = RunDirectory(runsDirectory: runsDirectory, agent: agent, environment: environment, seed: seed)
                    let cellOverrides = (overrides["\(agent)"] ?? []) + (overrides["\(agent)/\(environment)"] ?? [])
                    cells.append(GridCell(index: cells.count, agent: agent, environment: environment, seed: seed, overrides: cellOverrides, runDirectory: directory.path))
                }
            }
        }
        self.cells = cells
    }

    public var manifestPath: String { runsDirectory + "/manifest.json" }

    public func writeManifest() throws {
        try AtomicFile.createDirectories(runsDirectory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(self)) + [10], to: manifestPath)
    }

    public static func load(from directory: String) throws -> ExperimentGrid {
        let path = directory + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError("no manifest at \(path): is \(directory) an experiment directory (runs/NAME)?")
        }
        let grid: ExperimentGrid
        do { grid = try JSONDecoder().decode(ExperimentGrid.self, from: data) } catch {
            throw TrainingError("\(path) is not a valid manifest: \(error)")
        }
        // Cells become directories (relocated, trained, cleared): an edited manifest must not lead outside.
        do {
            try RunDirectory.checkComponent(grid.name, what: "grid name")
            for cell in grid.cells {
                try RunDirectory.checkComponent(cell.agent, what: "agent")
                try RunDirectory.checkComponent(RunDirectory.directoryName(environment: cell.environment), what: "environment")
            }
        } catch { throw TrainingError("\(path) is not a valid manifest: \(error)") }
        return grid
    }

    /// Arguments of `colony train` for a cell.
    public func trainArguments(_ cell: GridCell) -> [String] {
        ["train", "--agent", cell.agent, "--env", cell.environment, "--seed", String(cell.seed), "--frames", String(frames),
         "--runs-dir", runsDirectory, "--test-episodes", String(testEpisodes), "--quiet"] + cell.overrides.flatMap { ["--set", $0] }
    }

    public func status(of cell: GridCell) -> RunStatus? { RunStatus.read(RunDirectory(path: cell.runDirectory).status) }

    public func isDone(_ cell: GridCell) -> Bool {
        guard let status = status(of: cell) else { return false }
        return status.state == .done && status.frames >= frames
    }
}
