import ArgumentParser
import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an agent on an environment in one process.",
        discussion: """
        Writes runs/<agent>/<env>/seed-<s>/: returns100.csv, returns-test.csv, TensorBoard events, config.toml
        and checkpoints/. Running the same command again resumes from checkpoints/latest.h5; --fresh starts over.
        Ctrl-C (or SIGTERM) writes a checkpoint before exiting.

        Configuration: the algorithm's defaults (`colony config <agent>`), then a TOML file, then --set:
          colony train --agent dqn --env CartPole-v1 --set learning_rate=1e-3 --set double_q=false
          colony train --config my-ppo.toml          (the file may also name agent, env, frames and seed)

        Gymnasium environments run in Python environment hosts (docs/envhost.md); their settings are env.<key>:
          colony train --agent ppo --env gym:ALE/Pong-v5 --set env.kwargs.frameskip=1 \\
              --set 'env.wrappers=["AtariPreprocessing(frame_skip=1)", "FrameStackObservation(stack_size=4)"]'
        """
    )

    @Option(help: "Algorithm id (see `colony algorithms`).")
    var agent: String?

    @Option(help: "Environment id (see `colony envs`), or gym:<id> for any Gymnasium environment (`colony envs --gym`).")
    var env: String?

    @Option(help: "Python interpreter for gym: environments (default: env.python, COLONY_PYTHON, then `make envhost`'s venv).")
    var python: String?

    @Option(help: "Environment frames to train for (default: 100000).")
    var frames: Int?

    @Option(help: "Random seed; the run directory is seed-<s> (default: 1).")
    var seed: UInt64?

    @Option(help: "TOML file of configuration overrides (and optionally agent, env, frames, seed).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one configuration key; repeatable.", valueName: "key=value"))
    var assignments: [String] = []

    @Option(help: "Directory that holds the run directories.")
    var runsDir: String = "runs"

    @Option(help: "Evaluation episodes after training (written to returns-test.csv).")
    var testEpisodes: Int = 100

    @Option(help: "Frames between checkpoints (default: a tenth of the run, at least 10000).")
    var checkpointEvery: Int = 0

    @Option(help: "Numbered checkpoints to keep besides latest.h5.")
    var keepCheckpoints: Int = 3

    @Flag(help: "Start over even if the run directory holds a checkpoint.")
    var fresh = false

    @Flag(help: "Print neither a progress bar nor progress lines.")
    var quiet = false

    func validate() throws {
        if let frames, frames <= 0 { throw ValidationError("--frames must be positive, got \(frames)") }
        if testEpisodes < 0 { throw ValidationError("--test-episodes cannot be negative") }
        if keepCheckpoints < 1 { throw ValidationError("--keep-checkpoints must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let sources = try ConfigurationSources(filePath: config, assignments: assignments)
            guard let agent = agent ?? sources.runValue("agent")?.stringValue else {
                throw TrainingError("no agent given: pass --agent ID (one of \(Agents.list().joined(separator: ", ")))")
            }
            guard var environment = try sources.environmentSettings(id: env) else {
                throw TrainingError("no environment given: pass --env ID (one of \(Environments.ids.joined(separator: ", ")), or gym:<id> for any Gymnasium environment)")
            }
            if let python { environment.python = python }
            _ = try VectorEnvironments.describe(environment)  // an unknown id or a broken Python setup fails here
            let configuration = try sources.resolve(agent: agent)
            let options = TrainingOptions(
                environment: environment.id, seed: seed ?? sources.runValue("seed")?.intValue.map(UInt64.init) ?? 1,
                frames: frames ?? sources.runValue("frames")?.intValue ?? 100_000, configuration: configuration, runsDirectory: runsDir,
                checkpointInterval: checkpointEvery, keepCheckpoints: keepCheckpoints, testEpisodes: testEpisodes, fresh: fresh,
                environmentSettings: environment)
            StopSignal.install()
            let label = "\(agent) \(environment.id) seed \(options.seed)"
            print("training \(label) for \(options.frames) frames → \(options.directory.path)")
            let trainer = Trainer(options: options, progress: ProgressReporter(style: ProgressReporter.automatic(quiet: quiet), label: label))
            let result = try trainer.run()
            if result.stoppedBySignal != nil { throw ExitCode(130) }
            print("done: \(result.frames) frames, \(result.episodes) episodes in \(String(format: "%.1f", result.wallClockSeconds)) s")
        }
    }
}

extension TOMLValue {
    var stringValue: String? { if case .string(let v) = self { v } else { nil } }
    var intValue: Int? { if case .int(let v) = self { v } else { nil } }
}
