import ColonyAgents
import ColonyEnvironments
import ColonyStorage
import Foundation

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
            for (key, value) in file.table("") where !Self.runKeys.contains(key) && !Self.isEnvironmentKey(key) {
                guard let spec = schema.key(key) else {
                    throw ConfigurationError.unknownKey(key: key, agent: agent, suggestion: closestMatch(to: key, in: schema.keys.map(\.name)))
                }
                guard let converted = Self.convert(value, to: spec.kind) else {
                    throw ConfigurationError.invalid("\(filePath ?? "config"): '\(key)' takes \(spec.kind.withArticle), not \(value)")
                }
                overrides[key] = converted
            }
            if let table = file.tableNames.first(where: { !Self.isEnvironmentKey($0) && $0 != "env" }) {
                throw ConfigurationError.invalid("\(filePath ?? "config"): tables such as [\(table)] are for cluster files; an agent's keys go at the top level")
            }
        }
        for assignment in assignments where !Self.isEnvironmentKey(assignment) {
            let (key, value) = try schema.parseAssignment(assignment)
            overrides[key] = value
        }
        return try schema.resolve(overrides)
    }

    /// The environment: its id (`--env`, the file's `env = "..."` or `[env] id`), then the file's
    /// `[env]` and `[env.kwargs]` tables, then `--set env.<key>=<value>`. Nil when no id is given.
    public func environmentSettings(id explicitID: String?) throws -> EnvironmentSettings? {
        try Self.environmentSettings(file: file, assignments: assignments, id: explicitID)
    }

    /// `environmentSettings(id:)` for any run or cluster file.
    public static func environmentSettings(file: TOMLDocument?, assignments: [String] = [], id explicitID: String? = nil) throws -> EnvironmentSettings? {
        var entries: [(key: String, value: TOMLValue)] = []
        if let file {
            entries = file.entries.filter { Self.isEnvironmentKey($0.key) }.map { (String($0.key.dropFirst("env.".count)), $0.value) }
        }
        for assignment in assignments where Self.isEnvironmentKey(assignment) {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw ConfigurationError.invalid("--set \(assignment): expected env.<key>=<value>")
            }
            let key = String(assignment[assignment.index(assignment.startIndex, offsetBy: 4)..<equals]).trimmingCharacters(in: .whitespaces)
            let text = String(assignment[assignment.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            // A TOML value (1, 2.5, true, "text", [..]); anything else is taken as a bare string (a path, an id).
            let value = (try? TOMLDocument(parsing: "value = \(text)", source: "--set"))?["value"] ?? .string(text)
            entries.append((key, value))
        }
        let topLevelID: String? = if case .string(let id)? = file?["env"] { id } else { nil }
        let tableID: String? = entries.last(where: { $0.key == "id" }).flatMap { if case .string(let id) = $0.value { id } else { nil } }
        guard let id = explicitID ?? tableID ?? topLevelID else { return nil }
        var settings = EnvironmentSettings(id: id)
        for (key, value) in entries where key != "id" {
            guard let argument = Self.environmentArgument(value) else {
                throw ConfigurationError.invalid("env.\(key) = \(value): environment settings take numbers, booleans, strings and lists of them")
            }
            do {
                try settings.set(key, argument)
            } catch {
                throw ConfigurationError.invalid("\(error)")
            }
        }
        return settings
    }

    /// `env.<key>` in a file or an assignment, as opposed to an agent's key.
    public static func isEnvironmentKey(_ text: String) -> Bool { text.hasPrefix("env.") }

    /// An environment argument as TOML writes it.
    static func tomlValue(_ argument: EnvironmentArgument) -> TOMLValue {
        switch argument {
        case .int(let v): .int(v)
        case .double(let v): .double(v)
        case .bool(let v): .bool(v)
        case .string(let v): .string(v)
        case .array(let items): .array(items.map(tomlValue))
        }
    }

    static func environmentArgument(_ value: TOMLValue) -> EnvironmentArgument? {
        switch value {
        case .int(let v): return .int(v)
        case .double(let v): return .double(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .array(let items):
            let converted = items.compactMap(environmentArgument)
            return converted.count == items.count ? .array(converted) : nil
        }
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
        case (.double(let v), .int) where v.rounded() == v && abs(v) < 9e15: return .int(Int(v))  // 1e30 is no Int: an error, not a trap
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

extension EnvironmentSettings {
    /// The settings besides the id as a run file's `[env]` table (and `[env.kwargs]`), which
    /// `ConfigurationSources.environmentSettings` reads back; empty when every setting is a default.
    public var tomlTables: String {
        let entries = assignments.filter { $0.key != "id" }
        guard !entries.isEmpty else { return "" }
        var text = "\n[env]                                # how \(id) is built (docs/envhost.md)\n"
        for (key, value) in entries where !key.hasPrefix("kwargs.") {
            text += "\(key) = \(ConfigurationSources.tomlValue(value))\n"
        }
        let kwargs = entries.filter { $0.key.hasPrefix("kwargs.") }
        if !kwargs.isEmpty {
            text += "\n[env.kwargs]\n"
            for (key, value) in kwargs { text += "\(key.dropFirst("kwargs.".count)) = \(ConfigurationSources.tomlValue(value))\n" }
        }
        return text
    }
}
