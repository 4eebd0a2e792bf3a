import ArgumentParser
import ColonyCluster
import ColonyExperiments
import Foundation

/// `colony-learner`: a thin main over `LearnerRole`.
@main
struct ColonyLearner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony-learner",
        abstract: "The learner of a Colony cluster: IMPALA (V-trace on batches of unrolls), A3C (gradients applied as they arrive), or Ape-X DQN / distributed SAC (prioritized batches from colony-replay).",
        discussion: """
        Registers with the coordinator, takes data from any number of colony-worker processes, publishes
        version-stamped parameters, and writes the run directory as `colony train` does (returns100.csv,
        TensorBoard, checkpoints). At the frame budget it checkpoints and tells every member to exit.
        Started again with the same run directory it resumes from checkpoints/latest.h5. With apex_dqn or
        apex_sac it samples batches from the colony-replay server the coordinator names, sends new
        priorities back, and writes returns-eval.csv: its greedy policy's mean return every eval_every frames.

        Example:
          colony-learner --coordinator tcp://127.0.0.1:5555 --config cluster/impala-cartpole.toml
        """
    )

    @Option(help: "The coordinator's address.")
    var coordinator: String?

    @Option(help: "Cluster configuration (TOML; see cluster/*.toml).")
    var config: String

    @Option(help: "Address to bind and advertise (default: the file's cluster.host).")
    var host: String?

    @Option(help: "The run's key directory (`colony keys new DIR`): CURVE on every tcp:// socket (default: COLONY_KEYS).")
    var keys: String?

    @Option(help: "Which member's key pair to present (members/NAME.key; default: COLONY_KEY_NAME, else member).")
    var keyName: String?

    @Flag(help: "Serve a non-loopback address without keys (only on a network you trust: anyone who reaches it can join).")
    var insecure = false

    @Option(help: "How much to log: error, warning, info or debug.")
    var logLevel: LogLevel = .info

    func run() throws {
        StopSignal.install()
        do {
            try ProcessKeys.install(directory: keys, member: keyName)
            let read = ClusterSettings.reader(path: config, coordinator: coordinator, host: host)
            let settings = try read()
            try ProcessKeys.checkBinding("tcp://\(settings.host):0", insecure: insecure)
            let logger = ClusterLogger(label: "learner", level: logLevel)
            let result = settings.usesReplay
                ? try ReplayLearnerRole(settings: settings, logger: logger, reloadSettings: read).run()
                : try LearnerRole(settings: settings, logger: logger, reloadSettings: read).run()
            print("learner: \(result.stopReason); \(result.frames) frames, \(result.updates) updates, \(result.episodes) episodes")
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension LogLevel: ExpressibleByArgument {}
