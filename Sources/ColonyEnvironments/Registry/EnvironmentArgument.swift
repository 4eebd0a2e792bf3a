import Foundation

/// A keyword argument for an environment's constructor (`gymnasium.make(id, **kwargs)`), as JSON
/// carries it to a Python host.
public enum EnvironmentArgument: Sendable, Equatable, Codable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case array([EnvironmentArgument])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else { self = .array(try container.decode([EnvironmentArgument].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        }
    }

    /// Python's spelling, for messages.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): "\(value)"
        case .bool(let value): value ? "True" : "False"
        case .string(let value): "'\(value)'"
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }

    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    var intValue: Int? { if case .int(let value) = self { value } else { nil } }
    var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}
