import ArgumentParser
import ColonyCluster
import Foundation

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "CurveZMQ keys that authenticate a run's members and encrypt its tcp:// traffic.",
        subcommands: [New.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a run's key directory, or add a member's key pair to one.",
            discussion: """
            DIR/server.key is the pair binding members (coordinator, learner, replay server) serve with;
            DIR/members/NAME.key is a member's own pair and DIR/authorized/NAME.pub admits it. Files are
            readable by you only. Give every member the directory with --keys DIR (or COLONY_KEYS=DIR) and,
            for a member other than `member`, --key-name NAME; delete authorized/NAME.pub to shut NAME out.

            Examples:
              colony keys new runs/keys
              colony keys new runs/keys --member laptop-worker
              colony cluster up cluster/impala-cartpole.toml --keys runs/keys
            """
        )

        @Argument(help: "The key directory (created when missing).")
        var directory: String

        @Option(help: "The member's name (letters, digits, '-', '_', '.').")
        var member: String = RunKeys.defaultMember

        func run() throws {
            try reportingErrors {
                let keys = try RunKeys(directory: directory).create(member: member)
                print("server public key \(keys.server)")
                print("member '\(member)': \(directory)/members/\(member).key, admitted by \(directory)/authorized/\(member).pub (public key \(keys.member))")
            }
        }
    }
}
