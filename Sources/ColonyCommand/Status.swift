import ArgumentParser
import ColonyCluster
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Who is attached to a running cluster and how fast frames flow (asks its coordinator).",
        discussion: """
        Prints one line about the coordinator, a table of members (role, name, host, pid, heartbeat age,
        frames/s, updates/s and what each is waiting on) and the aggregate figures: frames/s (the workers'
        sum), updates/s, policy lag and recent mean return. --json prints the coordinator's reply as is.

        Examples:
          colony status --coordinator tcp://head-node:5555
          colony status --coordinator tcp://127.0.0.1:5555 --json | jq '.aggregate'
        """
    )

    @Option(help: "The coordinator's address.")
    var coordinator: String = "tcp://127.0.0.1:5555"

    @Flag(help: "Print the status as JSON.")
    var json = false

    @Option(help: "Seconds to wait for the coordinator's answer.")
    var timeout: Double = 2

    @Option(help: "The run's key directory when it uses CURVE (default: COLONY_KEYS).")
    var keys: String?

    @Option(help: "Which member's key pair to present (default: COLONY_KEY_NAME, else member).")
    var keyName: String?

    func validate() throws {
        if !(timeout > 0 && timeout <= 600) { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        if !coordinator.contains("://") { throw ValidationError("--coordinator needs a ZeroMQ endpoint such as tcp://HOST:5555") }
    }

    func run() throws {
        try reportingErrors {
            try ProcessKeys.install(directory: keys, member: keyName)
            let status = try CoordinatorRequest.status(coordinator: coordinator, timeout: .seconds(timeout))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(StatusTable.render(status))
            }
        }
    }
}
