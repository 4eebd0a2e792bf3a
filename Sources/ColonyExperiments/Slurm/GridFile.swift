import ColonyAgents
import ColonyEnvironments
import ColonyStorage
import Foundation

/// A grid written as a TOML file, for `colony experiment submit --grid FILE` (and `run`):
///
/// ```toml
/// name = "classic"
/// agents = ["dqn", "ppo"]
/// envs = ["CartPole-v1", "Acrobot-v1"]
/// seeds = 3                 # seeds 1...3, or a list: [1, 7, 42]
/// frames = 100000
/// test_episodes = 100
///
/// [overrides.ppo]                      # every ppo cell
/// learning_rate = 3e-4
/// [overrides."dqn/CartPole-v1"]        # dqn on CartPole-v1
/// double_q = false
/// [overrides."dqn/CartPole-v1/3"]      # one cell: dqn on CartPole-v1, seed 3
/// learning_rate = 1e-3
///
/// [env]                                # every gym: cell (docs/envhost.md); per pair: env.<key>
/// python = "/opt/venvs/gym/bin/python" # in [overrides."<agent>/<env>"]
/// wrappers = ["FrameStackObservation(stack_size=4)"]
/// [env.kwargs]
/// frameskip = 4
///
/// [slurm]                              # defaults of the submit flags
/// partition = "cpu"
/// time = "2:00:00"
/// throttle = 8
/// sbatch_args = ["--account=lab"]
/// ```
/// Flags given on the command line win over the file. Later override tables win over earlier ones
/// for the same key (agent, then agent/env, then agent/env/seed).
public struct GridFile: Sendable {
    public static let topLevelKeys: Set<String> = ["name", "agents", "envs", "seeds", "frames", "test_episodes"]

    public var path: String
    public var name: String?
    public var agents: [String]?
    public var environments: [String]?
    public var seeds: [UInt64]?
    public var frames: Int?
    public var testEpisodes: Int?
    /// `key=value` assignments by target: "agent", "agent/env" or "agent/env/seed".
    public var overrides: [String: [String]] = [:]
    /// `env.<key>=<value>` assignments from the `[env]` and `[env.kwargs]` tables, for every cell
    /// whose environment a host serves (`gym:` ids).
    public var environment: [String] = []
    /// The `[slurm]` table's entries, applied by `SlurmOptions.apply(table:source:)`.
    public var slurm: [(key: String, value: TOMLValue)] = []

    public init(path: String) throws {
        self.path = path
        let document = try TOMLDocument(contentsOfFile: path)
        func fail(_ message: String) -> SlurmError { SlurmError("\(path): \(message)") }
        func strings(_ key: String) throws -> [String]? {
            guard let value = document[key] else { return nil }
            switch value {
            case .string(let text): return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case .array(let items):
                return try items.map { item in
                    guard case .string(let text) = item else { throw fail("\(key) takes a list of strings") }
                    return text
                }
            default: throw fail("\(key) takes a list of strings")
            }
        }
        for (key, _) in document.table("") where !Self.topLevelKeys.contains(key) {
            throw fail("unknown key '\(key)'; a grid file has \(Self.topLevelKeys.sorted().joined(separator: ", ")), [overrides.<target>] and [slurm]")
        }
        if let value = document["name"] {
            guard case .string(let text) = value else { throw fail("name takes a string") }
            name = text
        }
        agents = try strings("agents")
        environments = try strings("envs")
        switch document["seeds"] {
        case nil: break
        case .int(let count)?:
            guard count >= 1 else { throw fail("seeds must be at least 1") }
            seeds = (1...count).map(UInt64.init)
        case .array(let items)?:
            seeds = try items.map { item in
                guard case .int(let seed) = item, seed >= 0 else { throw fail("seeds takes a count or a list of non-negative integers") }
                return UInt64(seed)
            }
        default: throw fail("seeds takes a count or a list of non-negative integers")
        }
        for (key, target) in [("frames", \GridFile.frames), ("test_episodes", \GridFile.testEpisodes)] {
            guard let value = document[key] else { continue }
            guard case .int(let number) = value, number >= (key == "frames" ? 1 : 0) else { throw fail("\(key) takes a \(key == "frames" ? "positive" : "non-negative") integer") }
            self[keyPath: target] = number
        }
        for table in document.tableNames {
            if table == "slurm" {
                slurm = document.table("slurm")
            } else if table == "env" || table == "env.kwargs" {
                let prefix = table == "env" ? "env." : "env.kwargs."
                for (key, value) in document.table(table) {
                    guard table == "env.kwargs" || EnvironmentSettings.keys.contains(key), key != "id" else {
                        throw fail("unknown key '\(key)' in [env]; it takes \(EnvironmentSettings.keys.filter { $0 != "id" }.joined(separator: ", ")) and an [env.kwargs] table")
                    }
                    environment.append("\(prefix)\(key)=\(value)")
                }
            } else if table.hasPrefix("overrides.") {
                // `env.hosts = 1` in an override table is TOML's dotted key: the sub-table `<target>.env`.
                var target = String(table.dropFirst("overrides.".count)), prefix = ""
                for suffix in [".env.kwargs", ".env"] where target.hasSuffix(suffix) {
                    target.removeLast(suffix.count)
                    prefix = String(suffix.dropFirst()) + "."
                    break
                }
                overrides[target, default: []] += document.table(table).map { "\(prefix)\($0.key)=\($0.value)" }
            } else {
                throw fail("unknown table [\(table)]; a grid file has [overrides.<agent>], [overrides.\"<agent>/<env>\"], [overrides.\"<agent>/<env>/<seed>\"], [env] and [slurm]")
            }
        }
    }
}

extension ExperimentGrid {
    /// A grid whose overrides may also name single cells ("agent/env/seed"), besides agents and
    /// agent/env pairs; `environment` assignments (a grid file's `[env]` table) go first to every
    /// cell whose environment a host serves.
    public static func make(name: String, agents: [String], environments: [String], seeds: [UInt64], frames: Int, runsRoot: String,
                            overrides: [String: [String]], environment: [String] = [], testEpisodes: Int) throws -> ExperimentGrid {
        // Each becomes a directory under runsRoot: none may climb out of it.
        try RunDirectory.checkComponent(name, what: "grid name")
        for agent in agents { try RunDirectory.checkComponent(agent, what: "agent") }
        for environment in environments { try RunDirectory.checkComponent(RunDirectory.directoryName(environment: environment), what: "environment") }
        var pairOverrides: [String: [String]] = [:]
        var cellOverrides: [String: [String]] = [:]
        for (target, assignments) in overrides {
            guard let (agent, environment, seed) = overrideTarget(target, agents: agents, environments: environments, seeds: seeds) else {
                throw SlurmError("overrides for '\(target)' match no cell; targets are <agent>, <agent>/<env> or <agent>/<env>/<seed> of the grid")
            }
            if let environment, let seed { cellOverrides["\(agent)/\(environment)/\(seed)", default: []] += assignments }
            else { pairOverrides[target, default: []] += assignments }
        }
        var grid = ExperimentGrid(name: name, agents: agents, environments: environments, seeds: seeds, frames: frames, runsRoot: runsRoot,
                                  overrides: pairOverrides, testEpisodes: testEpisodes)
        for index in grid.cells.indices {
            let cell = grid.cells[index]
            let hosted = VectorEnvironments.scheme(of: cell.environment) != ""
            grid.cells[index].overrides = (hosted ? environment : []) + cell.overrides + (cellOverrides["\(cell.agent)/\(cell.environment)/\(cell.seed)"] ?? [])
        }
        if !environment.isEmpty, !environments.contains(where: { VectorEnvironments.scheme(of: $0) != "" }) {
            throw SlurmError("the [env] table applies to gym: environments, and this grid has none (\(environments.joined(separator: ", ")))")
        }
        return grid
    }

    /// `agent`, `agent/env` or `agent/env/seed`, with the environment matched whole against the
    /// grid's (Gymnasium ids contain "/": `ppo/gym:ALE/Pong-v5/3`); nil when no cell matches.
    static func overrideTarget(_ target: String, agents: [String], environments: [String], seeds: [UInt64]) -> (String, String?, UInt64?)? {
        guard let slash = target.firstIndex(of: "/") else { return agents.contains(target) ? (target, nil, nil) : nil }
        let agent = String(target[..<slash]), rest = String(target[target.index(after: slash)...])
        guard agents.contains(agent) else { return nil }
        if environments.contains(rest) { return (agent, rest, nil) }
        guard let last = rest.lastIndex(of: "/"), let seed = UInt64(rest[rest.index(after: last)...]), seeds.contains(seed),
              environments.contains(String(rest[..<last])) else { return nil }
        return (agent, String(rest[..<last]), seed)
    }

    /// The same grid with its run directories under `directory`: runs/NAME wherever it now is (an
    /// absolute path on a cluster, another machine after copying), whatever the manifest says.
    public func relocated(to directory: String) -> ExperimentGrid {
        var grid = self
        grid.runsDirectory = directory
        for index in grid.cells.indices {
            let cell = grid.cells[index]
            grid.cells[index].runDirectory = RunDirectory(runsDirectory: directory, agent: cell.agent, environment: cell.environment, seed: cell.seed).path
        }
        return grid
    }

    /// Fails before anything runs when an agent or environment is unknown, an agent cannot act in an
    /// environment's spaces, or a cell's overrides do not fit its agent.
    public func validateCells() throws {
        var checkedPairs = Set<String>()
        for cell in cells {
            let sources = try ConfigurationSources(assignments: cell.overrides)
            let configuration = try sources.resolve(agent: cell.agent)
            guard checkedPairs.insert("\(cell.agent)/\(cell.environment)/\(cell.overrides)").inserted else { continue }
            let environment = try VectorEnvironments.describe(try sources.environmentSettings(id: cell.environment) ?? EnvironmentSettings(id: cell.environment))
            _ = try Agents.makeParallel(configuration, observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
                                        environments: configuration.int("num_envs"), seed: 0)
        }
    }
}
