import ColonyEnvironments
import Synchronization

/// What a factory needs besides the configuration to build an agent.
public struct AgentContext: Sendable {
    public let observationSpace: Space
    public let actionSpace: Space
    public let environmentCount: Int
    public let seed: UInt64

    public init(observationSpace: Space, actionSpace: Space, environmentCount: Int, seed: UInt64) {
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.environmentCount = environmentCount
        self.seed = seed
    }
}

public typealias AgentFactory = @Sendable (Configuration, AgentContext) throws -> any ParallelAgent

/// The agent was asked for something it cannot do (a discrete-only algorithm on a continuous space...).
public struct AgentError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The registry of algorithms: ids, default configurations and factories.
public enum Agents {
    struct Entry: Sendable {
        let schema: ConfigurationSchema
        let factory: AgentFactory
    }

    private static let entries: Mutex<[String: Entry]> = Mutex(builtIns())

    /// Registered ids, sorted.
    public static func list() -> [String] { entries.withLock { $0.keys.sorted() } }

    /// Adds (or replaces) an algorithm.
    public static func register(_ id: String, defaults: ConfigurationSchema, factory: @escaping AgentFactory) {
        precondition(defaults.agent == id, "schema agent '\(defaults.agent)' must equal the id '\(id)'")
        entries.withLock { $0[id] = Entry(schema: defaults, factory: factory) }
    }

    static func entry(_ id: String) throws -> Entry {
        let (entry, known) = entries.withLock { ($0[id], $0.keys.sorted()) }
        guard let entry else {
            let hint = closestMatch(to: id, in: known).map { "did you mean '\($0)'? " } ?? ""
            throw AgentError("unknown agent '\(id)'; \(hint)known agents: \(known.joined(separator: ", "))")
        }
        return entry
    }

    /// Every key of an algorithm with its default, type and meaning.
    public static func schema(_ id: String) throws -> ConfigurationSchema { try entry(id).schema }

    /// Whether a population's members can share the agent's replay buffer (`ReplaySharing`).
    public static func sharesReplay(_ id: String) -> Bool { (try? entry(id).schema.sharesReplay) ?? false }

    /// Whether the agent's acting network can take parameter noise (`ParameterPerturbing`).
    public static func perturbsParameters(_ id: String) -> Bool { (try? entry(id).schema.perturbsParameters) ?? false }

    public static func defaultConfiguration(_ id: String) throws -> Configuration { try entry(id).schema.defaults }

    /// An agent acting on `environments` environments at once (workers, the trainer).
    public static func makeParallel(
        _ id: String, observationSpace: Space, actionSpace: Space, environments: Int, seed: UInt64,
        overrides: [String: ConfigurationValue] = [:]
    ) throws -> any ParallelAgent {
        let entry = try entry(id)
        let configuration = try entry.schema.resolve(overrides)
        return try makeParallel(configuration, observationSpace: observationSpace, actionSpace: actionSpace, environments: environments, seed: seed)
    }

    /// An agent from an already resolved configuration.
    public static func makeParallel(
        _ configuration: Configuration, observationSpace: Space, actionSpace: Space, environments: Int, seed: UInt64
    ) throws -> any ParallelAgent {
        guard environments >= 1 else { throw AgentError("an agent needs at least one environment, got \(environments)") }
        let entry = try entry(configuration.agent)
        let context = AgentContext(observationSpace: observationSpace, actionSpace: actionSpace, environmentCount: environments, seed: seed)
        return try entry.factory(configuration, context)
    }

    /// A single-environment agent (reset / step).
    public static func make(
        _ id: String, observationSpace: Space, actionSpace: Space, seed: UInt64, overrides: [String: ConfigurationValue] = [:]
    ) throws -> any Agent {
        SingleEnvironmentAgent(try makeParallel(id, observationSpace: observationSpace, actionSpace: actionSpace, environments: 1, seed: seed, overrides: overrides))
    }

    /// Built-in algorithms, registered at first use of the registry.
    private static func builtIns() -> [String: Entry] {
        var table: [String: Entry] = [:]
        for algorithm in BuiltInAlgorithms.all {
            table[algorithm.schema.agent] = Entry(schema: algorithm.schema, factory: algorithm.factory)
        }
        return table
    }
}

/// One built-in algorithm's registration.
struct AlgorithmRegistration: Sendable {
    let schema: ConfigurationSchema
    let factory: AgentFactory
}
