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
    static let configuration = CommandConfiguration(
        abstract: "List the environments with their spaces and time limits.",
        discussion: "The native environments by default; --gym lists what the environment host's Python has installed (any of them runs as gym:<id>)."
    )

    @Flag(help: "List the Gymnasium environments the environment host's Python offers (train them as gym:<id>).")
    var gym = false

    @Option(help: "The Python for --gym (default: COLONY_PYTHON, then make envhost's python/.venv).")
    var python: String?

    @Option(help: "With --gym: only ids containing this text (case-insensitive), e.g. Pong or MiniGrid.")
    var filter: String?

    func validate() throws {
        if !gym && (python != nil || filter != nil) { throw ValidationError("--python and --filter go with --gym") }
    }

    func run() throws {
        try reportingErrors {
            if gym { try listGymnasium() } else { try listNative() }
        }
    }

    private func listNative() throws {
        for id in Environments.ids {
            let environment = try Environments.make(id, seed: 0)
            let limit = environment.maxEpisodeSteps.map { "limit \($0)" } ?? "no limit"
            print(id.padding(toLength: 26, withPad: " ", startingAt: 0)
                + "observations \(environment.observationSpace)  actions \(environment.actionSpace)  \(limit)")
        }
    }

    private func listGymnasium() throws {
        let catalog = try GymnasiumCatalog.installed(python: python)
        print("gymnasium \(catalog.gymnasiumVersion) in \(catalog.python)")
        for name in catalog.packages.keys.sorted() {
            print("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(catalog.packages[name].flatMap { $0 } ?? "not installed")")
        }
        let ids = filter.map { text in catalog.ids.filter { $0.localizedCaseInsensitiveContains(text) } } ?? catalog.ids
        print("\(ids.count) environment ids\(filter.map { " containing '\($0)'" } ?? ""); train one with colony train --env gym:<id>:")
        for id in ids { print("  gym:\(id)") }
    }
}
