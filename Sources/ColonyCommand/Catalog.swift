import ArgumentParser
import ColonyAgents
import ColonyEnvironments
import ColonyExperiments

struct Algorithms: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the registered agents and which of them run distributed.")

    func run() throws {
        for id in Agents.list() {
            let schema = try Agents.schema(id)
            print(id.padding(toLength: 12, withPad: " ", startingAt: 0) + "\(schema.keys.count) configuration keys   colony config \(id)")
        }
        print("\ndistributed (colony cluster up FILE.toml; [agent] takes the keys of colony config AGENT):")
        for algorithm in DistributedAlgorithms.all() {
            print(algorithm.id.padding(toLength: 12, withPad: " ", startingAt: 0)
                + "\(algorithm.summary)\n" + String(repeating: " ", count: 12)
                + "workers send \(algorithm.dataFlow); \(algorithm.dataFlow.processes); [agent] keys of \(algorithm.agent)")
        }
    }
}

struct ShowConfiguration: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print an agent's default configuration: every key, its type, default and meaning.",
        discussion: "The output is valid TOML: save it, edit it and pass it back with `colony train --config FILE`."
    )

    @Argument(help: "Algorithm id.")
    var agent: String

    func run() throws {
        try reportingErrors {
            let schema = try Agents.schema(agent)
            print("# \(agent): default configuration. Override with --set key=value or a TOML file (--config).")
            for key in schema.keys {
                var meaning = "\(key.kind.rawValue)"
                if let range = key.range { meaning += " in [\(Self.number(range.lowerBound)), \(Self.number(range.upperBound))]" }
                if let choices = key.choices { meaning += " one of \(choices.joined(separator: "|"))" }
                print("\n# \(key.help) (\(meaning))")
                print("\(key.name) = \(key.defaultValue)")
            }
        }
    }

    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}

struct Envs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the environments with their spaces and time limits.")

    func run() throws {
        for id in Environments.ids {
            let environment = try Environments.make(id, seed: 0)
            let limit = environment.maxEpisodeSteps.map { "limit \($0)" } ?? "no limit"
            print(id.padding(toLength: 26, withPad: " ", startingAt: 0)
                + "observations \(environment.observationSpace)  actions \(environment.actionSpace)  \(limit)")
        }
    }
}
