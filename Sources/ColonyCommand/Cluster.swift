import ArgumentParser
import ColonyCluster
import ColonyExperiments
import Foundation

struct Cluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a multi-process cluster on this machine.",
        subcommands: [Up.self]
    )

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a coordinator, a learner and N workers as separate processes on loopback.",
            discussion: """
            Output of every process is forwarded with a prefix. The run ends at the learner's frame budget;
            Ctrl-C stops every process cleanly (the learner checkpoints; running the same command resumes).
            While it runs: `colony status --coordinator tcp://127.0.0.1:5555`, and
            `colony-worker --coordinator tcp://127.0.0.1:5555 --config FILE` attaches one more worker.

            Examples:
              colony cluster up cluster/impala-cartpole.toml
              colony cluster up cluster/a3c-cartpole.toml --workers 3
              colony keys new runs/keys && colony cluster up cluster/impala-cartpole.toml --keys runs/keys
            """
        )

        @Argument(help: "Cluster configuration (see cluster/*.toml).")
        var file: String

        @Option(help: "Workers to start (default: the file's cluster.workers).")
        var workers: Int?

        @Option(help: "Coordinator address (default: the file's cluster.coordinator).")
        var coordinator: String?

        @Option(help: "The run's key directory (`colony keys new`): every process uses CURVE on tcp:// (default: COLONY_KEYS).")
        var keys: String?

        func validate() throws {
            // The same bound as the file's cluster.workers.
            let range = ClusterSettings.workersRange
            if let workers, !range.contains(workers) { throw ValidationError("--workers must be in \(range.lowerBound)...\(range.upperBound), not \(workers)") }
        }

        func run() throws {
            try reportingErrors {
                var settings = try ClusterSettings(path: file)
                if let workers { settings.workers = workers }
                if let coordinator { settings.coordinator = coordinator }
                StopSignal.install()
                // Checked here, so a bad directory is one error rather than one per process.
                try ProcessKeys.install(directory: keys)
                let binaries = (currentExecutable() as NSString).deletingLastPathComponent
                let launcher = LocalClusterLauncher(settingsPath: file, settings: settings, binaryDirectory: binaries,
                                                    keysDirectory: keys ?? ProcessInfo.processInfo.environment[ProcessKeys.directoryVariable]) { line in
                    print(line)
                    fflush(nil)
                }
                let status = try launcher.run()
                if status != 0 { throw ExitCode(status) }
            }
        }
    }
}
