/// Why a configuration was refused; every message says what is wrong and what to do.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknownKey(key: String, agent: String, suggestion: String?)
    case wrongType(key: String, expected: ConfigurationValue.Kind, given: ConfigurationValue)
    case unparsable(key: String, text: String, expected: ConfigurationValue.Kind)
    case outOfRange(key: String, value: ConfigurationValue, range: ClosedRange<Double>)
    case notAChoice(key: String, value: String, choices: [String])
    case malformedAssignment(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownKey(let key, let agent, let suggestion):
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
            return "unknown configuration key '\(key)' for \(agent)\(hint) (`colony config \(agent)` lists every key)"
        case .wrongType(let key, let expected, let given):
            return "'\(key)' takes \(expected.withArticle), not \(given) (\(given.kind.withArticle))"
        case .unparsable(let key, let text, let expected):
            return "cannot read '\(text)' as \(expected.withArticle) for '\(key)'"
        case .outOfRange(let key, let value, let range):
            return "'\(key)' = \(value) is outside its range [\(Self.number(range.lowerBound)), \(Self.number(range.upperBound))]"
        case .notAChoice(let key, let value, let choices):
            return "'\(key)' = \"\(value)\" is not one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))"
        case .malformedAssignment(let text):
            return "cannot read '\(text)': write key=value, e.g. learning_rate=0.001"
        case .invalid(let message):
            return message
        }
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
    }
}
