import ColonyAgents
import ColonyEnvironments
import ColonyStorage

/// Turns a TOML file and `--set key=value` assignments into validated overrides of an algorithm's
/// defaults. Later sources win: defaults < file < `--set`. Unknown keys, wrong types and malformed
/// text are errors that say where and what to do.
public struct ConfigurationSources: Sendable {
    /// Top-level keys a run file may hold besides the algorithm's own.
    public static let runKeys: Set<String> = ["agent", "env", "frames", "seed"]

    public var file: TOMLDocument?
    public var filePath: String?
    public var assignments: [String]

    public init(filePath: String? = nil, assignments: [String] = []) throws {
        self.filePath = filePath
        self.assignments = assignments
        if let filePath { file = try TOMLDocument(contentsOfFile: filePath) }
    }

    /// A run key from the file (`agent = "ppo"`), if present.
    public func runValue(_ key: String) -> TOMLValue? { file?[key] }

    /// The effective configuration of `agent`.
    public func resolve(agent: String) throws -> Configuration {
        let schema = try Agents.schema(agent)
        var overrides: [String: ConfigurationValue] = [:]
        if let file {
            for (key, value) in file.table("") where !Self.runKeys.contains(key) {
                guard let spec = schema.key(key) else {
                    throw ConfigurationError.unknownKey(key: key, agent: agent, suggestion: closestMatch(to: key, in: schema.keys.map(\.name)))
                }
                guard let converted = Self.convert(value, to: spec.kind) else {
                    throw ConfigurationError.invalid("\(filePath ?? "config"): '\(key)' takes \(spec.kind.withArticle), not \(value)")
                }
                overrides[key] = converted
            }
            if let table = file.tableNames.first {
                throw ConfigurationError.invalid("\(filePath ?? "config"): tables such as [\(table)] are for cluster files; an agent's keys go at the top level")
            }
        }
        for assignment in assignments {
            let (key, value) = try schema.parseAssignment(assignment)
            overrides[key] = value
        }
        return try schema.resolve(overrides)
    }

    /// The configuration a checkpoint was trained with (its `config` text: `agent = "..."` and every key).
    public static func configuration(fromSavedTOML text: String, source: String) throws -> Configuration {
        let document = try TOMLDocument(parsing: text, source: source)
        guard case .string(let agent)? = document["agent"] else {
            throw ConfigurationError.invalid("\(source): the saved configuration names no agent")
        }
        let schema = try Agents.schema(agent)
        var overrides: [String: ConfigurationValue] = [:]
        for (key, value) in document.table("") where key != "agent" {
            guard let spec = schema.key(key), let converted = convert(value, to: spec.kind) else {
                throw ConfigurationError.invalid("\(source): saved key '\(key)' does not fit this version's \(agent)")
            }
            if converted != spec.defaultValue { overrides[key] = converted }
        }
        return try schema.resolve(overrides)
    }

    public static func convert(_ value: TOMLValue, to kind: ConfigurationValue.Kind) -> ConfigurationValue? {
        switch (value, kind) {
        case (.int(let v), .int): return .int(v)
        case (.int(let v), .double): return .double(Double(v))
        case (.double(let v), .double): return .double(v)
        case (.double(let v), .int) where v.rounded() == v: return .int(Int(v))
        case (.bool(let v), .bool): return .bool(v)
        case (.string(let v), .string): return .string(v)
        case (.array(let items), .intList):
            var values: [Int] = []
            for item in items {
                guard case .int(let v) = item else { return nil }
                values.append(v)
            }
            return .intList(values)
        default: return nil
        }
    }
}
