import ColonyAgents
import ColonyNumerics
import Foundation

/// One hyperparameter a population may mutate, with the range it lives in, as given to `--mutate`:
/// `learning_rate=log:1e-5..1e-1`, `gamma=linear:0.9..0.999`, `batch_size=int:16..256`,
/// `activation=choice:relu,tanh`, `hidden_sizes=mlp:1..3,16..512`. Perturbation and resampling follow Ray Tune's
/// PBT: with probability `resampleProbability` a new value is drawn from the range, otherwise a number is multiplied
/// by 0.8 or 1.2 (clamped to the range; integers rounded) and a choice moves to a neighbouring entry. A layer stack
/// mutates as AgileRL's architecture mutation does: with probability `newLayerProbability` it gains a hidden layer
/// (as wide as its last) or loses its last one, otherwise one hidden layer, drawn at random, widens ×1.2 or narrows
/// ×0.8 (at least one unit); the agent carries the overlapping weights and moments (`ArchitectureCarry`).
public struct HyperparameterMutation: Sendable, Equatable {
    public enum Domain: Sendable, Equatable {
        /// log-uniform in [low, high] (both > 0).
        case logarithmic(Double, Double)
        /// uniform in [low, high].
        case linear(Double, Double)
        /// integers in [low, high], sampled log-uniformly when low > 0 (batch sizes, intervals).
        case integer(Int, Int)
        /// one of these strings, in this order (perturbation moves one step).
        case choice([String])
        /// hidden layer widths: `depth` layers, each `width` units wide (resampled: depth uniform, widths log-uniform).
        case layerStack(depth: ClosedRange<Int>, width: ClosedRange<Int>)
    }

    /// How a value was changed, for lineage.jsonl.
    public enum Operation: String, Sendable, Equatable, Codable {
        case resample, perturbDown = "perturb*0.8", perturbUp = "perturb*1.2", previousChoice = "previous", nextChoice = "next"
        case addLayer = "add_layer", removeLayer = "remove_layer", addNodes = "add_nodes", removeNodes = "remove_nodes"
    }

    public static let perturbationFactors: (down: Double, up: Double) = (0.8, 1.2)
    /// AgileRL's `new_layer_prob`: how often a layer stack's mutation changes its depth rather than a width.
    public static let newLayerProbability = 0.2

    public let key: String
    public let domain: Domain

    public init(key: String, domain: Domain) {
        self.key = key
        self.domain = domain
    }

    /// Reads `key=kind:range`; every mistake is one error naming the text and the accepted forms.
    public init(parsing text: String) throws {
        let forms = "key=log:LOW..HIGH, key=linear:LOW..HIGH, key=int:LOW..HIGH, key=choice:A,B,... or key=mlp:LAYERS_LOW..LAYERS_HIGH,WIDTH_LOW..WIDTH_HIGH"
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw PopulationError("--mutate '\(text)' needs the form \(forms)")
        }
        key = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
        let specification = text[text.index(after: equals)...]
        guard let colon = specification.firstIndex(of: ":") else {
            throw PopulationError("--mutate '\(text)' needs a kind before its range: \(forms)")
        }
        let kind = specification[..<colon]
        let range = String(specification[specification.index(after: colon)...])
        func bounds() throws -> (Double, Double) {
            let parts = range.components(separatedBy: "..")
            guard parts.count == 2, let low = Double(parts[0]), let high = Double(parts[1]), low.isFinite, high.isFinite, low < high else {
                throw PopulationError("--mutate '\(text)': the range must be LOW..HIGH with finite LOW < HIGH")
            }
            return (low, high)
        }
        switch kind {
        case "log":
            let (low, high) = try bounds()
            guard low > 0 else { throw PopulationError("--mutate '\(text)': a log range needs LOW > 0") }
            domain = .logarithmic(low, high)
        case "linear":
            let (low, high) = try bounds()
            domain = .linear(low, high)
        case "int":
            let (low, high) = try bounds()
            guard low == low.rounded(), high == high.rounded(), abs(low) < 1e15, abs(high) < 1e15 else {
                throw PopulationError("--mutate '\(text)': an int range needs whole numbers")
            }
            domain = .integer(Int(low), Int(high))
        case "choice":
            let choices = range.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard choices.count >= 2, !choices.contains(""), Set(choices).count == choices.count else {
                throw PopulationError("--mutate '\(text)': a choice needs at least two distinct values, A,B,...")
            }
            domain = .choice(choices)
        case "mlp":
            let parts = range.split(separator: ",", omittingEmptySubsequences: false)
            func integers(_ part: Substring) -> ClosedRange<Int>? {
                let ends = part.components(separatedBy: "..")
                guard ends.count == 2, let low = Int(ends[0].trimmingCharacters(in: .whitespaces)),
                      let high = Int(ends[1].trimmingCharacters(in: .whitespaces)), low >= 1, low <= high else { return nil }
                return low...high
            }
            guard parts.count == 2, let depth = integers(parts[0]), let width = integers(parts[1]), depth.count > 1 || width.count > 1 else {
                throw PopulationError("--mutate '\(text)': mlp needs LAYERS_LOW..LAYERS_HIGH,WIDTH_LOW..WIDTH_HIGH with whole numbers 1 <= LOW <= HIGH, "
                    + "not both ranges a single value (e.g. mlp:1..3,16..512)")
            }
            domain = .layerStack(depth: depth, width: width)
        default:
            throw PopulationError("--mutate '\(text)': unknown kind '\(kind)'; use \(forms)")
        }
    }

    /// Checks the key against an agent's schema: it must exist, be reconfigurable between intervals, and
    /// take values of this domain's kind inside the key's own bounds.
    public func check(against schema: ConfigurationSchema) throws {
        guard let configurationKey = schema.key(key) else {
            throw PopulationError("--mutate \(key): \(schema.agent) has no such key (`colony config \(schema.agent)` lists them)")
        }
        if case .layerStack = domain {
            guard schema.resizable.contains(key) else {
                throw PopulationError("--mutate \(key)=mlp:...: \(schema.agent) "
                    + (schema.resizable.isEmpty ? "cannot change its networks' architecture while it trains" : "changes its architecture through \(schema.resizable.sorted().joined(separator: ", ")), not \(key)"))
            }
        } else if schema.resizable.contains(key) {
            throw PopulationError("--mutate \(key): an architecture mutates as \(key)=mlp:LAYERS_LOW..LAYERS_HIGH,WIDTH_LOW..WIDTH_HIGH (e.g. mlp:1..3,16..512)")
        } else if !schema.reconfigurable.contains(key) {
            let allowed = schema.reconfigurable.sorted()
            throw PopulationError(
                "--mutate \(key): \(schema.agent) cannot change \(key) while it trains (it shapes the networks or the saved state); "
                    + (allowed.isEmpty ? "\(schema.agent) has no key that can change mid-run" : "it can change \(allowed.joined(separator: ", "))"))
        }
        for value in extremes {
            do { _ = try configurationKey.validate(value) } catch {
                throw PopulationError("--mutate \(key): the range reaches \(value), which \(schema.agent) refuses: \(error)")
            }
        }
    }

    /// The values at the ends of the range, typed as the key takes them.
    private var extremes: [ConfigurationValue] {
        switch domain {
        case .logarithmic(let low, let high), .linear(let low, let high): [.double(low), .double(high)]
        case .integer(let low, let high): [.int(low), .int(high)]
        case .choice(let choices): choices.map { .string($0) }
        case .layerStack(let depth, let width):
            [.intList(Array(repeating: width.lowerBound, count: depth.lowerBound)), .intList(Array(repeating: width.upperBound, count: depth.upperBound))]
        }
    }

    /// A value drawn from the range.
    public func sample(_ random: inout RandomSource) -> ConfigurationValue {
        switch domain {
        case .logarithmic(let low, let high):
            return .double(exp(random.uniform(log(low), log(high))))
        case .linear(let low, let high):
            return .double(random.uniform(low, high))
        case .integer(let low, let high):
            if low > 0 { return .int(Self.logUniform(low...high, &random)) }
            return .int(low + random.nextInt(below: high - low + 1))
        case .choice(let choices):
            return .string(choices[random.nextInt(below: choices.count)])
        case .layerStack(let depth, let width):
            let layers = depth.lowerBound + random.nextInt(below: depth.count)
            return .intList((0..<layers).map { _ in Self.logUniform(width, &random) })
        }
    }

    /// An integer in `range`, log-uniform (widths, batch sizes).
    private static func logUniform(_ range: ClosedRange<Int>, _ random: inout RandomSource) -> Int {
        let value = exp(random.uniform(log(Double(range.lowerBound)), log(Double(range.upperBound) + 1)))
        return min(range.upperBound, max(range.lowerBound, Int(value.rounded(.down))))
    }

    /// The mutated value of `current` and how it was made.
    public func mutate(_ current: ConfigurationValue, resampleProbability: Double, random: inout RandomSource) -> (ConfigurationValue, Operation) {
        if random.nextDouble() < resampleProbability { return (sample(&random), .resample) }
        let up = random.nextInt(below: 2) == 1
        let factor = up ? Self.perturbationFactors.up : Self.perturbationFactors.down
        let operation: Operation = up ? .perturbUp : .perturbDown
        switch (domain, current) {
        case (.logarithmic(let low, let high), _), (.linear(let low, let high), _):
            return (.double(min(high, max(low, (current.numeric ?? low) * factor))), operation)
        case (.integer(let low, let high), _):
            let base = current.numeric ?? Double(low)
            var scaled = Int((base * factor).rounded())
            // ×1.2 of a small integer rounds back to itself: move at least one step.
            if scaled == Int(base) { scaled += up ? 1 : -1 }
            return (.int(min(high, max(low, scaled))), operation)
        case (.choice(let choices), .string(let value)):
            let index = choices.firstIndex(of: value) ?? 0
            let next = min(choices.count - 1, max(0, index + (up ? 1 : -1)))
            return (.string(choices[next]), up ? .nextChoice : .previousChoice)
        case (.choice, _):
            return (sample(&random), .resample)
        case (.layerStack(let depth, let width), .intList(let current)) where !current.isEmpty:
            return Self.mutateLayers(current.map { min(width.upperBound, max(width.lowerBound, $0)) }, depth: depth, width: width, grow: up, random: &random)
        case (.layerStack, _):
            return (sample(&random), .resample)
        }
    }

    /// One architecture change of `sizes` (hidden widths inside `width`): a layer added or removed at the end with
    /// probability `newLayerProbability`, otherwise one layer widened or narrowed; the other direction where `grow`'s
    /// is at a bound, and a width change where the depth cannot move.
    private static func mutateLayers(_ sizes: [Int], depth: ClosedRange<Int>, width: ClosedRange<Int>, grow: Bool,
                                     random: inout RandomSource) -> (ConfigurationValue, Operation) {
        var sizes = sizes
        let changesDepth = random.nextDouble() < newLayerProbability || width.count == 1
        let layer = random.nextInt(below: sizes.count)
        if changesDepth && depth.count > 1 {
            if (grow && sizes.count < depth.upperBound) || sizes.count <= depth.lowerBound {
                sizes.append(sizes[sizes.count - 1])
                return (.intList(sizes), .addLayer)
            }
            sizes.removeLast()
            return (.intList(sizes), .removeLayer)
        }
        let current = sizes[layer]
        let wider = min(width.upperBound, max(current + 1, Int((Double(current) * perturbationFactors.up).rounded())))
        let narrower = max(width.lowerBound, min(current - 1, Int((Double(current) * perturbationFactors.down).rounded())))
        if (grow && wider != current) || narrower == current {
            sizes[layer] = wider
            return (.intList(sizes), .addNodes)
        }
        sizes[layer] = narrower
        return (.intList(sizes), .removeNodes)
    }
}

extension ConfigurationValue {
    /// The value as a number, for ints and floats.
    var numeric: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

/// A population run's mistake, in one line that says what to do.
public struct PopulationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
