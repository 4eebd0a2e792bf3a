import ArgumentParser
import ColonyExperiments
import ColonyStorage
import Foundation

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Agent × environment × seed grids, on this machine or as Slurm job arrays.",
        subcommands: [RunGrid.self, SubmitGrid.self, GridStatus.self, ResubmitGrid.self, CancelGrid.self, RunCell.self]
    )
}

/// Options that define a grid, shared by `experiment run` and `experiment submit`: flags, a TOML grid
/// file (`--grid`, which may also give per-cell overrides), or both, the flags winning.
struct GridOptions: ParsableArguments {
    @Option(name: .customLong("grid"), help: ArgumentHelp("A TOML grid file: agents, envs, seeds, frames, [overrides.*] per agent, agent/env or cell (see docs/slurm.md).", valueName: "file"))
    var gridFile: String?

    @Option(help: "Comma-separated algorithm ids.")
    var agents: String?

    @Option(help: "Comma-separated environment ids.")
    var envs: String?

    @Option(help: "Number of seeds per cell (seeds 1...N; default 1).")
    var seeds: Int?

    @Option(help: "Frames per run (default 100000).")
    var frames: Int?

    @Option(help: "Grid name; its runs go to <runs-dir>/<name>/ (default: agents_envs).")
    var name: String?

    @Option(help: "Root of the run directories.")
    var runsDir: String = "runs"

    @Option(help: "Evaluation episodes after each run (default 100).")
    var testEpisodes: Int?

    func validate() throws {
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if let frames, frames < 1 { throw ValidationError("--frames must be positive") }
        if let testEpisodes, testEpisodes < 0 { throw ValidationError("--test-episodes cannot be negative") }
        if gridFile == nil && (agents == nil || envs == nil) { throw ValidationError("give --agents and --envs, or a grid file with --grid") }
    }

    /// The grid file, when one was given.
    func file() throws -> GridFile? { try gridFile.map { try GridFile(path: $0) } }

    func grid() throws -> ExperimentGrid {
        let file = try file()
        func list(_ text: String?) -> [String]? {
            text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }
        let agentList = list(agents) ?? file?.agents ?? []
        let environmentList = list(envs) ?? file?.environments ?? []
        guard !agentList.isEmpty, !environmentList.isEmpty else { throw ValidationError("--agents and --envs need at least one id each") }
        let gridName = name ?? file?.name ?? (agentList.joined(separator: "-") + "_" + environmentList.map { RunDirectory.directoryName(environment: $0) }.joined(separator: "-"))
        return try ExperimentGrid.make(
            name: gridName, agents: agentList, environments: environmentList, seeds: seeds.map { (1...$0).map(UInt64.init) } ?? file?.seeds ?? [1],
            frames: frames ?? file?.frames ?? 100_000, runsRoot: runsDir, overrides: file?.overrides ?? [:], environment: file?.environment ?? [], testEpisodes: testEpisodes ?? file?.testEpisodes ?? 100)
    }
}

struct RunGrid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every cell of a grid as its own process on this machine, P at a time.",
        discussion: """
        Each cell is `colony train` into <runs-dir>/<name>/<agent>/<env>/seed-<s>/ with its log in <runs-dir>/<name>/logs/.
        A failing cell does not stop the others. Running the same command again skips finished cells and resumes
        partial ones from their checkpoints. Example:
          colony experiment run --agents dqn,ppo --envs CartPole-v1,Acrobot-v1 --seeds 3 --frames 100000 --parallel 2
        """
    )

    @OptionGroup var grid: GridOptions

    @Option(help: "Cells to run at the same time.")
    var parallel: Int = 1

    func run() throws {
        try reportingErrors {
            let experiment = try grid.grid()
            try SlurmExperiment.checkAgents(of: experiment, distributed: false)
            let runner = LocalGridRunner(grid: experiment, executable: currentExecutable(), parallel: parallel)
            print("grid \(experiment.name): \(experiment.cells.count) cells, \(parallel) at a time → \(experiment.runsDirectory)")
            let outcomes = try runner.run { print($0) }
            print("\n" + GridSummary.table(experiment))
            let failed = outcomes.filter { $0.failureReason != nil }
            if !failed.isEmpty {
                print("\n\(failed.count) of \(outcomes.count) cells failed:")
                for outcome in failed { print("- \(outcome.cell.agent) \(outcome.cell.environment) seed \(outcome.cell.seed): \(outcome.failureReason!)") }
                throw ExitCode.failure
            }
        }
    }
}

/// The path of the running `colony` binary, so child processes run the same build.
func currentExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plot learning curves of every returns100.csv under a directory as an SVG.",
        discussion: "One panel per environment, one line per agent (mean across seeds, band ± std). Example: colony plot runs/my-grid -o curves.svg"
    )

    @Argument(help: "A directory of runs (runs/, runs/NAME, or one run).")
    var directory: String

    @Option(name: .shortAndLong, help: "Output SVG file.")
    var output: String = "learning-curves.svg"

    func run() throws {
        try reportingErrors {
            let curves = try LearningCurves(directory: directory)
            try AtomicFile.write(curves.svg(), to: output)
            print("wrote \(output): \(curves.curves.count) runs")
        }
    }
}
