/// What a message type's tensors must look like: their names (for error messages; tensors travel by
/// position), dtypes, ranks and the relations between their dimensions, plus an optional check of
/// anything else. The decoder applies the schema of a message's type (`WireLimits.schemas`) after the
/// generic checks, so a role's code can read the tensors without re-checking them.
///
/// Dimensions are written as literals: `4` is a fixed size, `"*"` is any size, `"T"` binds a symbol
/// the first time it is seen and must then be equal everywhere, and `"T+1"` is the symbol plus a
/// constant. A trajectory of `T` steps from `N` environments with `obs`-sized observations:
///
/// ```swift
/// let trajectory = MessageSchema(tensors: [
///     .init("observations", .f32, ["T+1", "N", "obs"]),   // T+1: the bootstrap observation
///     .init("actions", .i32, ["T", "N"]),
///     .init("rewards", .f32, ["T", "N"]),
///     .init("discounts", .f32, ["T", "N"]),
///     .init("behaviour_logits", .f32, ["T", "N", "A"]),
/// ], bounds: ["T": 1...10_000, "N": 1...4096])
/// ```
public struct MessageSchema: Sendable {
    /// One dimension of a tensor spec.
    public enum Dimension: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, CustomStringConvertible {
        case any
        case fixed(Int)
        /// A named size plus a constant offset ("T+1" is `.symbol("T", offset: 1)`).
        case symbol(String, offset: Int)

        public init(integerLiteral value: Int) { self = .fixed(value) }

        /// "*", "T", "T+1" or "T-1".
        public init(stringLiteral text: String) {
            let trimmed = String(text.filter { $0 != " " })
            if trimmed == "*" || trimmed.isEmpty {
                self = .any
            } else if let value = Int(trimmed) {
                self = .fixed(value)
            } else if let sign = trimmed.lastIndex(where: { $0 == "+" || $0 == "-" }), sign != trimmed.startIndex,
                      let magnitude = Int(trimmed[trimmed.index(after: sign)...]) {
                self = .symbol(String(trimmed[..<sign]), offset: trimmed[sign] == "+" ? magnitude : -magnitude)
            } else {
                self = .symbol(trimmed, offset: 0)
            }
        }

        public var description: String {
            switch self {
            case .any: "*"
            case .fixed(let value): "\(value)"
            case .symbol(let name, let offset): offset == 0 ? name : offset > 0 ? "\(name)+\(offset)" : "\(name)\(offset)"
            }
        }
    }

    /// One expected tensor.
    public struct TensorSpec: Sendable {
        public var name: String
        public var dtype: WireDType
        /// One entry per dimension: the rank is `dimensions.count`.
        public var dimensions: [Dimension]
        /// Require finite values (floating-point tensors): true or false overrides the type's default
        /// in `WireLimits.finiteTypes`; nil keeps it.
        public var requireFinite: Bool?

        public init(_ name: String, _ dtype: WireDType, _ dimensions: [Dimension], requireFinite: Bool? = nil) {
            self.name = name
            self.dtype = dtype
            self.dimensions = dimensions
            self.requireFinite = requireFinite
        }
    }

    public var tensors: [TensorSpec]
    /// Tensors past `tensors.count` that may follow (appended optional data); they are checked only
    /// by the generic rules.
    public var extraTensorsAllowed: Int
    /// Allowed values of symbols (after binding), e.g. `["T": 1...1000]`.
    public var bounds: [String: ClosedRange<Int>]
    /// Anything else: return a description of the problem, or nil when the message is fine. Gets the
    /// bound symbols (`["T": 20, "N": 8, "obs": 4]`).
    public var check: (@Sendable (WireMessage, [String: Int]) -> String?)?
    /// What the values mean to this receiver, checked last: an action inside the run's action space, a
    /// finite bounded reward (docs/wire.md, "Meaning"). A problem is an `outOfRange` drop, not a schema one.
    public var meaning: (@Sendable (WireMessage, [String: Int]) -> String?)?

    public init(tensors: [TensorSpec], extraTensorsAllowed: Int = 0, bounds: [String: ClosedRange<Int>] = [:],
                check: (@Sendable (WireMessage, [String: Int]) -> String?)? = nil) {
        self.tensors = tensors
        self.extraTensorsAllowed = extraTensorsAllowed
        self.bounds = bounds
        self.check = check
    }

    /// This schema with `meaning` as its range check (after any it had).
    public func checkingMeaning(_ meaning: @escaping @Sendable (WireMessage, [String: Int]) -> String?) -> MessageSchema {
        var schema = self
        let earlier = self.meaning
        schema.meaning = { message, sizes in earlier?(message, sizes) ?? meaning(message, sizes) }
        return schema
    }

    /// Control messages: exactly one rank-1 u8 tensor (UTF-8 JSON) of at most `maximumBytes`.
    public static func control(maximumBytes: Int) -> MessageSchema {
        MessageSchema(tensors: [.init("json", .u8, ["bytes"])], bounds: ["bytes": 0...maximumBytes])
    }

    /// Credits: one i32 tensor of shape [1], the number of credits granted (1...1_000_000).
    public static let credit = MessageSchema(tensors: [.init("credits", .i32, [1])]) { message, _ in
        guard let credits = try? message.tensors[0].int32s().first, credits >= 1, credits <= 1_000_000 else {
            return "credits must be between 1 and 1000000"
        }
        return nil
    }

    /// Checks `message` and returns the bound symbols.
    public func validate(_ message: WireMessage) throws(WireError) -> [String: Int] {
        let count = message.tensors.count
        guard count >= tensors.count, count <= tensors.count + extraTensorsAllowed else {
            let expected = extraTensorsAllowed == 0 ? "\(tensors.count)" : "\(tensors.count)...\(tensors.count + extraTensorsAllowed)"
            throw .schema("\(message.type) needs \(expected) tensors, has \(count)")
        }
        var bindings: [String: Int] = [:]
        for (index, spec) in tensors.enumerated() {
            let tensor = message.tensors[index]
            guard tensor.dtype == spec.dtype else {
                throw .schema("\(spec.name) (tensor \(index)) is \(tensor.dtype), expected \(spec.dtype)")
            }
            guard tensor.shape.count == spec.dimensions.count else {
                throw .schema("\(spec.name) (tensor \(index)) has rank \(tensor.shape.count), expected \(spec.dimensions.count) \(spec.dimensions)")
            }
            for (axis, (size, dimension)) in zip(tensor.shape, spec.dimensions).enumerated() {
                switch dimension {
                case .any:
                    continue
                case .fixed(let expected):
                    guard size == expected else {
                        throw .schema("\(spec.name) (tensor \(index)) has size \(size) on axis \(axis), expected \(expected)")
                    }
                case .symbol(let name, let offset):
                    let value = size - offset
                    if let bound = bindings[name] {
                        guard bound == value else {
                            throw .schema("\(spec.name) (tensor \(index)) axis \(axis) is \(size), but \(dimension) = \(bound + offset) from earlier tensors")
                        }
                    } else {
                        guard value >= 0 else { throw .schema("\(spec.name) (tensor \(index)) axis \(axis): \(dimension) = \(size) makes \(name) negative") }
                        bindings[name] = value
                    }
                }
            }
        }
        for (name, range) in bounds {
            if let value = bindings[name], !range.contains(value) {
                throw .schema("\(name) = \(value) is outside \(range.lowerBound)...\(range.upperBound)")
            }
        }
        if let check, let problem = check(message, bindings) {
            throw .schema(problem)
        }
        if let meaning, let problem = meaning(message, bindings) {
            throw .outOfRange(problem)
        }
        return bindings
    }
}
