/// The host's answer to `envSpecRequest` (docs/envhost.md): what it built and the spaces, as a
/// typed tree. Decoding is the validation: anything Colony cannot represent is an error here,
/// before a single step.
struct EnvironmentHostSpec: Decodable, Sendable {
    var gymnasiumVersion: String
    var id: String
    var count: Int
    var pid: Int32
    var observationSpace: SpaceTree
    var actionSpace: SpaceTree
    var observationLayout: [LayoutEntry]?
    var droppedLeaves: [String]?
    var maxEpisodeSteps: Int?
    /// Frames after which the simulator truncates an episode itself (ALE's `max_num_frames_per_episode`).
    var episodeFrameLimit: Int?
    var rewardThreshold: Double?
    var infoKeys: [String]
    var renderModes: [String]?
    /// The shared-memory segment the host writes its step observations into (the configuration's path), when it
    /// took one: only uint8 observations are shared.
    var sharedObservations: String?

    enum CodingKeys: String, CodingKey {
        case gymnasiumVersion = "gymnasium_version", id, count, pid
        case observationSpace = "observation_space", actionSpace = "action_space"
        case observationLayout = "observation_layout", droppedLeaves = "dropped_leaves"
        case maxEpisodeSteps = "max_episode_steps", episodeFrameLimit = "episode_frame_limit", rewardThreshold = "reward_threshold"
        case infoKeys = "info_keys", renderModes = "render_modes", sharedObservations = "shared_observations"
    }

    /// One leaf of a flattened Dict or Tuple observation.
    struct LayoutEntry: Decodable, Sendable, Equatable {
        var path: String
        var offset: Int
        var shape: [Int]
        var dtype: String
    }

    /// A space as the host describes it.
    struct SpaceTree: Decodable, Sendable {
        var type: String
        var n: Int?
        var start: Int?
        var nvec: [Int]?
        var shape: [Int]?
        var dtype: String?
        var low: Bounds?
        var high: Bounds?
    }

    /// One number for every element, or one per element; infinities are the strings "inf"/"-inf".
    enum Bounds: Decodable, Sendable {
        case uniform(Float)
        case perElement([Float])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([BoundValue].self) {
                self = .perElement(list.map(\.value))
            } else {
                self = .uniform(try container.decode(BoundValue.self).value)
            }
        }

        func values(count: Int) -> [Float]? {
            switch self {
            case .uniform(let value): return Array(repeating: value, count: count)
            case .perElement(let values): return values.count == count ? values : nil
            }
        }
    }

    struct BoundValue: Decodable, Sendable {
        var value: Float
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                value = Float(number)
            } else {
                switch try container.decode(String.self) {
                case "inf", "+inf": value = .infinity
                case "-inf": value = -.infinity
                case let other:
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "bound \"\(other)\" is not a number")
                }
            }
        }
    }
}

/// What Colony makes of a host's space description.
struct HostSpace: Sendable, Equatable {
    var space: Space
    /// The wire element type of values of this space.
    var wireType: WireElement
    /// Gymnasium's `Discrete.start` (added by the host to actions, present in observations).
    var discreteStart: Int

    enum WireElement: Sendable, Equatable { case float32, uint8, int64 }

    /// Throws a message naming what is unsupported.
    init(_ tree: EnvironmentHostSpec.SpaceTree, role: String) throws(EnvironmentHostSpecError) {
        switch tree.type {
        case "discrete":
            guard let n = tree.n, n > 0 else { throw .init("\(role) space: Discrete needs n > 0") }
            space = .discrete(n)
            wireType = .int64
            discreteStart = tree.start ?? 0
        case "multi_discrete":
            guard let nvec = tree.nvec, !nvec.isEmpty, nvec.allSatisfy({ $0 > 0 }) else {
                throw .init("\(role) space: MultiDiscrete needs a non-empty nvec of positive counts")
            }
            space = .multiDiscrete(nvec)
            wireType = .int64
            discreteStart = 0
        case "box":
            guard let shape = tree.shape, shape.allSatisfy({ $0 > 0 }) else { throw .init("\(role) space: Box needs a shape of positive sizes") }
            let count = shape.reduce(1, *)
            guard count <= 1 << 24 else { throw .init("\(role) space: Box of \(count) elements is larger than Colony takes (16M)") }
            let elementType: SpaceElementType
            switch tree.dtype {
            case "float32": (elementType, wireType) = (.float32, .float32)
            case "uint8": (elementType, wireType) = (.uint8, .uint8)
            case "int64": (elementType, wireType) = (.int64, .int64)
            default: throw .init("\(role) space: Box dtype \(tree.dtype ?? "none") is not float32, uint8 or int64")
            }
            guard let low = tree.low?.values(count: count), let high = tree.high?.values(count: count),
                  zip(low, high).allSatisfy({ !$0.isNaN && !$1.isNaN && $0 <= $1 }) else {
                throw .init("\(role) space: Box bounds must be \(count) ordered numbers (or one)")
            }
            space = .box(BoxSpace(low: low, high: high, shape: shape, elementType: elementType))
            discreteStart = 0
        default:
            throw .init("\(role) space: \(tree.type) is not supported (Discrete, MultiDiscrete and Box are; Dict and Tuple observations are flattened)")
        }
    }
}

/// A host described something Colony cannot use.
struct EnvironmentHostSpecError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
