import ArgumentParser
import ColonyCluster
import ColonyExperiments
import ColonyStorage
import Foundation

/// `colony-replay`: a thin main over `ReplayServerRole`.
@main
struct ColonyReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony-replay",
        abstract: "A prioritized replay server: inserts, samples and priority updates over ZeroMQ, with a samples-per-insert rate limiter.",
        discussion: """
        Registers with the coordinator as role "replay" (endpoint "replay"); workers insert transitions, the
        learner samples batches and sends back priorities. The [replay] table of --config sets the table:

          [replay]
          capacity = 1000000
          item_size = 10                 # floats per item, e.g. obs|action|reward|next_obs|discount
          selector = "prioritized"       # or "uniform"
          alpha = 0.6
          samples_per_insert = 8.0
          min_size = 1000
          error_buffer = 800.0           # at least max(1, samples_per_insert)
          max_times_sampled = 0          # 0: never remove; 1 with "uniform": a queue
          checkpoint_every_seconds = 600
          checkpoint_path = "replay.h5"  # restored on start when present

        A cluster file of apex_dqn or apex_sac (cluster/apex-dqn-cartpole.toml) works as --config too: the
        table's item size, capacity, min_size, samples_per_insert and selector then follow from its agent
        and environment (see ReplayClusterSettings), its [replay] table overrides them, and the checkpoint
        goes to the run directory's replay.h5 every 60 s unless set otherwise. With [cluster] hold_at_target
        (a population member's file) it holds with its learner at the frame target, its table written, and
        reloads replay.h5 when the population releases the learner.

        Example:
          colony-replay --coordinator tcp://HOST:5555 --config replay.toml
        """
    )

    @Option(help: "The coordinator's endpoint.")
    var coordinator: String

    @Option(help: "A TOML file with a [replay] table.")
    var config: String?

    @Option(help: "The host name or address workers and learners reach this server at (the ROUTER binds tcp://HOST:*).")
    var host: String = "127.0.0.1"

    @Option(help: "Floats per item, when the config has no item_size (or there is no --config).")
    var itemSize: Int?

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
        let logger = ClusterLogger(label: "replay", level: logLevel)
        var document = TOMLDocument()
        do {
            try ProcessKeys.install(directory: keys, member: keyName)
            try ProcessKeys.checkBinding("tcp://\(host):0", insecure: insecure)
            if let config { document = try TOMLDocument(contentsOfFile: config) }
            let (table, every, path): (ReplayTableConfiguration, Double?, String?)
            var itemBounds: ReplayItemBounds?
            var maximumSampleBatch = ReplayMessages.maximumBatch
            var hold: ReplayServerHold?
            if let config, document["algorithm"] != nil {
                // A cluster file (cluster/apex-dqn-cartpole.toml): the table its algorithm, agent and environment imply.
                let cluster = try ClusterSettings(path: config)
                guard let replay = cluster.replay else {
                    throw ValidationError("\(config) is a cluster file of an algorithm without a replay server (apex_dqn and apex_sac have one)")
                }
                (table, every, path) = (replay.table, replay.checkpointEverySeconds, replay.checkpointPath)
                itemBounds = replay.itemBounds  // inserts are checked against the run's action space and bounds
                maximumSampleBatch = replay.maximumSampleBatch
                if cluster.holdsAtTarget {
                    // A population member's cluster: hold with its learner, reread the member's file at each release.
                    let read = ClusterSettings.reader(path: config)
                    hold = ReplayServerHold(runDirectory: cluster.runDirectory, target: cluster.frames) {
                        let next = try read()
                        guard let table = next.replay?.table else { throw ValidationError("\(config) no longer names a replay-based algorithm") }
                        return (table, next.frames)
                    }
                }
            } else {
                (table, every, path) = try ReplayServerSettings.table(fromTOML: document, source: config ?? "<arguments>", defaultItemSize: itemSize)
            }
            let role = ReplayServerRole(settings: .init(table: table, coordinator: coordinator, bind: "tcp://\(host):*",
                                                        checkpointEverySeconds: every, checkpointPath: path, itemBounds: itemBounds,
                                                        maximumSampleBatch: maximumSampleBatch, hold: hold), logger: logger)
            let stopper = Thread {
                while StopSignal.requested == nil { Thread.sleep(forTimeInterval: 0.05) }
                role.stop()
            }
            stopper.start()
            try role.run()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

extension LogLevel: ExpressibleByArgument {}
