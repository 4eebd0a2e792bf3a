/// One documented knob of an algorithm: its name, default, meaning and the values it accepts.
/// The same text is what `colony config <agent>` prints.
public struct ConfigurationKey: Sendable {
    public let name: String
    public let defaultValue: ConfigurationValue
    public let help: String
    /// Inclusive numeric bounds for int and float keys.
    public let range: ClosedRange<Double>?
    /// Allowed values for string keys.
    public let choices: [String]?

    public init(_ name: String, _ defaultValue: ConfigurationValue, _ help: String, range: ClosedRange<Double>? = nil, choices: [String]? = nil) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
        self.range = range
        self.choices = choices
    }

    public var kind: ConfigurationValue.Kind { defaultValue.kind }

    /// Checks type and bounds, converting ints to floats where a float is expected.
    public func validate(_ value: ConfigurationValue) throws -> ConfigurationValue {
        guard let converted = value.converted(to: kind) else {
            throw ConfigurationError.wrongType(key: name, expected: kind, given: value)
        }
        if let range {
            let numbers: [Double]
            switch converted {
            case .int(let v): numbers = [Double(v)]
            case .double(let v): numbers = [v]
            case .intList(let v): numbers = v.map(Double.init)
            default: numbers = []
            }
            for number in numbers where !range.contains(number) || number.isNaN {
                throw ConfigurationError.outOfRange(key: name, value: converted, range: range)
            }
        }
        if let choices, case .string(let v) = converted, !choices.contains(v) {
            throw ConfigurationError.notAChoice(key: name, value: v, choices: choices)
        }
        return converted
    }
}
