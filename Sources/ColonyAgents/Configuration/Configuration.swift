/// An algorithm's effective configuration: every key of its schema, each either set explicitly or left at its default.
public struct Configuration: Sendable, Equatable {
    public let agent: String
    public let schema: ConfigurationSchema
    /// Only the explicitly set values; the rest come from the schema's defaults.
    public let explicitValues: [String: ConfigurationValue]

    init(schema: ConfigurationSchema, values: [String: ConfigurationValue]) {
        self.agent = schema.agent
        self.schema = schema
        self.explicitValues = values
    }

    public static func == (lhs: Configuration, rhs: Configuration) -> Bool {
        lhs.agent == rhs.agent && lhs.explicitValues == rhs.explicitValues
    }

    public func value(_ name: String) -> ConfigurationValue {
        if let value = explicitValues[name] { return value }
        guard let key = schema.key(name) else { preconditionFailure("\(agent) reads undeclared configuration key '\(name)'") }
        return key.defaultValue
    }

    public func isExplicit(_ name: String) -> Bool { explicitValues[name] != nil }

    public func int(_ name: String) -> Int {
        guard case .int(let v) = value(name) else { preconditionFailure("'\(name)' is not an int") }
        return v
    }

    public func double(_ name: String) -> Double {
        switch value(name) {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: preconditionFailure("'\(name)' is not a float")
        }
    }

    public func float(_ name: String) -> Float { Float(double(name)) }

    public func bool(_ name: String) -> Bool {
        guard case .bool(let v) = value(name) else { preconditionFailure("'\(name)' is not a bool") }
        return v
    }

    public func string(_ name: String) -> String {
        guard case .string(let v) = value(name) else { preconditionFailure("'\(name)' is not a string") }
        return v
    }

    public func intList(_ name: String) -> [Int] {
        guard case .intList(let v) = value(name) else { preconditionFailure("'\(name)' is not an int list") }
        return v
    }

    /// A copy with more overrides applied on top (validated like the first ones).
    public func overriding(_ overrides: [String: ConfigurationValue]) throws -> Configuration {
        try schema.resolve(explicitValues.merging(overrides) { _, new in new })
    }

    /// TOML text with every key; `annotated` adds whether each was set or defaulted, and its meaning.
    public func toml(annotated: Bool = true) -> String {
        var lines = ["agent = \"\(agent)\"", ""]
        for key in schema.keys {
            let line = "\(key.name) = \(value(key.name))"
            if annotated {
                let source = isExplicit(key.name) ? "set" : "default"
                lines.append(line.padding(toLength: max(line.count, 36), withPad: " ", startingAt: 0) + " # \(source): \(key.help)")
            } else {
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation
