import ArgumentParser
import ColonyCluster
import ColonyExperiments
import ColonyTransport
import Foundation

/// `colony-coordinator`: a thin main over `Coordinator`.
@main
struct ColonyCoordinator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colony-coordinator",
        abstract: "The fixed address of a Colony run: membership, heartbeats, discovery, status and shutdown.",
        discussion: """
        Learners and replay servers register their endpoints here; workers ask here where to send data and
        where parameters come from; `colony status --coordinator tcp://HOST:5555` shows who is attached and
        how fast frames flow. A member silent for three heartbeat intervals is dropped (and logged).

        When the learner says the run is done, every member is told to shut down and the coordinator exits
        (unless --keep-running). SIGINT or SIGTERM stop the coordinator alone: members keep running and
        register again with the next coordinator started at the same address.

        Every tcp:// socket of a run uses CurveZMQ when its members are given the run's keys (`colony keys new DIR`,
        then --keys DIR or COLONY_KEYS=DIR for every member): only members whose public keys are in DIR/authorized
        can connect. An address other machines can reach is refused without keys unless --insecure.

        Examples:
          colony-coordinator
          colony keys new run-keys && colony-coordinator --bind tcp://*:5555 --keys run-keys
          colony-coordinator --bind tcp://127.0.0.1:5555 --heartbeat-interval 0.5 --log-level debug
        """
    )

    @Option(help: "Endpoint to bind (tcp://*:PORT for every interface, which needs --keys or --insecure; ipc:// and inproc:// also work).")
    var bind: String = "tcp://127.0.0.1:5555"

    @Option(help: "Seconds between member heartbeats; a member silent for three intervals is dropped.")
    var heartbeatInterval: Double = 1

    @Option(help: "The run's key directory (`colony keys new DIR`): CURVE on every tcp:// socket (default: COLONY_KEYS).")
    var keys: String?

    @Option(help: "Which member's key pair to present (members/NAME.key; default: COLONY_KEY_NAME, else member).")
    var keyName: String?

    @Flag(help: "Serve a non-loopback address without keys (only on a network you trust: anyone who reaches it can join).")
    var insecure = false

    @Option(help: "How much to log: error, warning, info or debug.")
    var logLevel: LogLevel = .info

    @Flag(help: "Stay up after a run asked everyone to shut down (the next run can attach).")
    var keepRunning = false

    func validate() throws {
        if !(heartbeatInterval > 0 && heartbeatInterval <= 3600) { throw ValidationError("--heartbeat-interval must be between 0 and 3600 seconds") }
        if !bind.contains("://") { throw ValidationError("--bind needs a ZeroMQ endpoint such as tcp://*:5555") }
    }

    func run() throws {
        StopSignal.install()
        let logger = ClusterLogger(label: "coordinator", level: logLevel)
        logger.logSlurmNode(of: "coordinator")
        let coordinator: Coordinator, context: ZMQContext
        do {
            try ProcessKeys.install(directory: keys, member: keyName)
            try ProcessKeys.checkBinding(bind, insecure: insecure)
            context = ZMQContext()
            coordinator = Coordinator(configuration: .init(endpoint: bind, heartbeatInterval: .seconds(heartbeatInterval), logger: logger), context: context)
            try coordinator.start()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }

        var reason: String
        var shutdownSeenAt: Date?
        var refusalsLogged = CurveRefusalLog()
        while true {
            Thread.sleep(forTimeInterval: 0.05)
            refusalsLogged.report(context.curveAdmissions, to: logger)
            if let signal = StopSignal.requested {
                reason = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)"
                break
            }
            if !keepRunning, let runDone = coordinator.shutdownReason {
                // Give the members one heartbeat interval to hear the order (and say goodbye) before closing.
                let seen = shutdownSeenAt ?? Date()
                shutdownSeenAt = seen
                if Date().timeIntervalSince(seen) >= heartbeatInterval || coordinator.status().members.isEmpty {
                    reason = "the run is done (\(runDone))"
                    break
                }
            }
        }
        coordinator.stop()
        logger.info("colony-coordinator stopped: \(reason)")
    }
}

extension LogLevel: ExpressibleByArgument {}
