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
            Every socket uses CURVE keys: the run makes its own in <run directory>/keys (owner-only, kept for
            restarts) unless --keys names a directory (`colony keys new`) or --insecure turns them off.
            While it runs: `colony status --coordinator tcp://127.0.0.1:5555 --keys DIR`, and
            `colony-worker --coordinator tcp://127.0.0.1:5555 --config FILE --keys DIR` attaches one more worker.

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

        @Option(help: "The run's key directory (`colony keys new`; default: COLONY_KEYS, else keys the run makes in its run directory).")
        var keys: String?

        @Flag(help: "Plain sockets without keys: any process on this machine could then join the run or stall its learner.")
        var insecure = false

        func validate() throws {
            // The same bound as the file's cluster.workers.
            let range = ClusterSettings.workersRange
            if let workers, !range.contains(workers) { throw ValidationError("--workers must be in \(range.lowerBound)...\(range.upperBound), not \(workers)") }
            if insecure && keys != nil { throw ValidationError("--keys and --insecure contradict each other: pass one of them") }
        }

        /// The keys every process uses: --keys, else COLONY_KEYS, else the run's own (made on first start).
        private func keysDirectory(_ settings: ClusterSettings) throws -> String? {
            guard !insecure else { return nil }
            if let given = [keys, ProcessInfo.processInfo.environment[ProcessKeys.directoryVariable]].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
                return given
            }
            let directory = LocalClusterLauncher.ownKeysDirectory(settings)
            try FileManager.default.createDirectory(atPath: settings.runDirectory.path, withIntermediateDirectories: true)
            try RunKeys(directory: directory).createUnlessPresent()
            return directory
        }

        func run() throws {
            try reportingErrors {
                var settings = try ClusterSettings(path: file)
                if let workers { settings.workers = workers }
                if let coordinator { settings.coordinator = coordinator }
                StopSignal.install()
                let keysDirectory = try keysDirectory(settings)
                // Checked here, so a bad directory is one error rather than one per process.
                if let keysDirectory { try ProcessKeys.install(directory: keysDirectory) }
                print(keysDirectory.map { "keys: \($0) (CURVE on every socket; `colony status --coordinator \(settings.coordinator) --keys \($0)`)" }
                      ?? "keys: none (--insecure): any process on this machine can join this run")
                fflush(nil)  // stdout to a file is block-buffered: the keys line comes first, not with the first process line
                let binaries = (currentExecutable() as NSString).deletingLastPathComponent
                let launcher = LocalClusterLauncher(settingsPath: file, settings: settings, binaryDirectory: binaries,
                                                    keysDirectory: keysDirectory) { line in
                    print(line)
                    fflush(nil)
                }
                let status = try launcher.run()
                if status != 0 { throw ExitCode(status) }
            }
        }
    }
}
