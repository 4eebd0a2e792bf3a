import ColonyEnvironments
/// Every key an algorithm understands, with defaults: `Agents.defaultConfiguration(id)`.
public struct ConfigurationSchema: Sendable {
    public let agent: String
    public let keys: [ConfigurationKey]
    /// Keys whose value may change between two intervals of one run (population-based training): the agent
    /// reads them when it is built and they shape neither its networks nor its saved state, so an agent
    /// built with a new value continues from a checkpoint made under the old one.
    public let reconfigurable: Set<String>
    /// Keys that shape only the agent's layer stacks (`hidden_sizes`): a population may change them between intervals,
    /// and the agent (an `ArchitectureResizing`) resumes a checkpoint of another architecture by carrying its weights.
    public let resizable: Set<String>
    /// Whether the agent's replay buffer can be shared by a population's members (it conforms to `ReplaySharing`).
    public let sharesReplay: Bool
    /// Whether the agent's acting network can take parameter noise (it conforms to `ParameterPerturbing`).
    public let perturbsParameters: Bool

    public init(agent: String, keys: [ConfigurationKey], reconfigurable: Set<String> = [], resizable: Set<String> = [], sharesReplay: Bool = false, perturbsParameters: Bool = false) {
        precondition(Set(keys.map(\.name)).count == keys.count, "duplicate configuration key in \(agent)")
        precondition(reconfigurable.isSubset(of: keys.map(\.name)), "\(agent): a reconfigurable key is not one of its keys")
        self.agent = agent
        self.keys = keys
        precondition(resizable.isSubset(of: keys.map(\.name)), "\(agent): a resizable key is not one of its keys")
        self.reconfigurable = reconfigurable
        self.resizable = resizable
        self.sharesReplay = sharesReplay
        self.perturbsParameters = perturbsParameters
    }

    public func key(_ name: String) -> ConfigurationKey? { keys.first { $0.name == name } }

    /// The defaults, with nothing set explicitly.
    public var defaults: Configuration { Configuration(schema: self, values: [:]) }

    /// Applies overrides to the defaults; unknown keys, wrong types and out-of-range values are errors.
    public func resolve(_ overrides: [String: ConfigurationValue]) throws -> Configuration {
        var values: [String: ConfigurationValue] = [:]
        for name in overrides.keys.sorted() {
            guard let key = key(name) else {
                throw ConfigurationError.unknownKey(key: name, agent: agent, suggestion: closestMatch(to: name, in: keys.map(\.name)))
            }
            values[name] = try key.validate(overrides[name]!)
        }
        return Configuration(schema: self, values: values)
    }

    /// Reads `key=value` (as given to `--set`), typed by the key's default.
    public func parseAssignment(_ text: String) throws -> (key: String, value: ConfigurationValue) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ConfigurationError.malformedAssignment(text)
        }
        let name = text[..<equals].trimmingCharacters(in: .whitespaces)
        let rawValue = String(text[text.index(after: equals)...])
        guard let key = key(name) else {
            throw ConfigurationError.unknownKey(key: name, agent: agent, suggestion: closestMatch(to: name, in: keys.map(\.name)))
        }
        guard let value = ConfigurationValue.parse(rawValue, as: key.kind) else {
            throw ConfigurationError.unparsable(key: name, text: rawValue, expected: key.kind)
        }
        return (name, try key.validate(value))
    }
}

import Foundation
