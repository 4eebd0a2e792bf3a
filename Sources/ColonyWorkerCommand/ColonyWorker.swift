import ArgumentParser
import ColonyCluster
import ColonyExperiments
import Foundation

/// `colony-worker`: a thin main over `WorkerRole`.
@main
struct ColonyWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony-worker",
        abstract: "A rollout worker: steps environments with the newest parameters and sends unrolls (IMPALA), gradients (A3C) or prioritized n-step transitions to colony-replay (Ape-X DQN, distributed SAC).",
        discussion: """
        Asks the coordinator where the learner is, so it can be started at any moment and attaches to the
        running learner; killing it never stops the run. It keeps working through a learner restart by
        asking again and reconnecting.

        Example:
          colony-worker --coordinator tcp://127.0.0.1:5555 --config cluster/impala-cartpole.toml --envs 8
        """
    )

    @Option(help: "The coordinator's address (default: the file's cluster.coordinator).")
    var coordinator: String?

    @Option(help: "Cluster configuration (TOML; see cluster/*.toml): algorithm, environment and agent settings.")
    var config: String

    @Option(help: "Environments stepped together with batched inference (default: the file's cluster.envs_per_worker).")
    var envs: Int?

    @Option(help: "This worker's index (seeds its environments differently from the others'; Ape-X: worker i of N explores with ε^(1 + α·i/(N−1))).")
    var index: Int = 0

    @Option(help: "The run's key directory (`colony keys new DIR`): CURVE on every tcp:// socket (default: COLONY_KEYS).")
    var keys: String?

    @Option(help: "Which member's key pair to present (members/NAME.key; default: COLONY_KEY_NAME, else member).")
    var keyName: String?

    @Option(help: "How much to log: error, warning, info or debug.")
    var logLevel: LogLevel = .info

    func validate() throws {
        // The same bound as the file's envs_per_worker: a flag must not reach what the file may not.
        let range = ClusterSettings.environmentsPerWorkerRange
        if let envs, !range.contains(envs) { throw ValidationError("--envs must be in \(range.lowerBound)...\(range.upperBound), not \(envs)") }
    }

    func run() throws {
        StopSignal.install()
        do {
            try ProcessKeys.install(directory: keys, member: keyName)
            let read = ClusterSettings.reader(path: config, coordinator: coordinator, environmentsPerWorker: envs)
            let settings = try read()
            let logger = ClusterLogger(label: "worker-\(index)", level: logLevel)
            if settings.usesReplay {
                try ReplayWorkerRole(settings: settings, index: index, logger: logger, reloadSettings: read).run()
            } else {
                try WorkerRole(settings: settings, index: index, logger: logger, reloadSettings: read).run()
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension LogLevel: ExpressibleByArgument {}
