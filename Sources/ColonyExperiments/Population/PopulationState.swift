import ColonyAgents
import ColonyStorage
import Foundation

/// population.json: the settings, the boundaries passed and every slot's member, written atomically after
/// each step so that rerunning `colony pbt run` continues where the last run stopped.
public struct PopulationState: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var slot: Int
        /// Unique over the run: a member that copies another gets a new one.
        public var lineage: Int
        /// Seed of this lineage's run (environments and initial networks of the first interval).
        public var seed: UInt64
        /// The mutated keys' current values, as TOML values (`0.001`, `"relu"`).
        public var values: [String: String]
        /// Set after this member copied another: its next resume derives every random stream from this seed.
        public var reseed: UInt64?
        /// Set after this member was mutated with `--parameter-noise`: its next start perturbs its acting
        /// network with noise drawn from this seed.
        public var parameterNoiseSeed: UInt64?
        /// Fitness at each boundary passed (nil where the member failed).
        public var fitness: [Double?]
        /// Why the member failed in the current interval (it then ranks last and is replaced).
        public var failure: String?
    }

    /// A boundary whose decisions are taken and whose donor checkpoints are saved, but whose copies may not
    /// all be done: a restart finishes it before anything trains.
    public struct PendingBoundary: Codable, Sendable, Equatable {
        public var donors: [Int]
        public var mutated: [Int]
        /// Per slot, the member after the boundary.
        public var members: [Member]
        /// Rows for lineage.jsonl.
        public var lineage: [LineageRecord]
    }

    public var settings: PopulationSettings
    /// Boundaries passed.
    public var generation: Int
    public var nextLineage: Int
    public var members: [Member]
    public var pending: PendingBoundary?

    public static func read(_ path: String) throws -> PopulationState {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PopulationError("cannot read \(path): \(error.localizedDescription)")
        }
        let state: PopulationState
        do { state = try JSONDecoder().decode(PopulationState.self, from: data) } catch {
            throw PopulationError("\(path) is not a population state Colony wrote (\(error)); restore it or start over with --fresh")
        }
        try state.check(path)
        return state
    }

    /// Checks what the file says before a run acts on it.
    private func check(_ path: String) throws {
        try settings.validate()
        func bad(_ what: String) -> PopulationError { PopulationError("\(path): \(what); restore the file or start over with --fresh") }
        guard (0...settings.generations).contains(generation) else { throw bad("generation \(generation) is outside 0...\(settings.generations)") }
        guard members.count == settings.size, members.enumerated().allSatisfy({ $0.offset == $0.element.slot }) else {
            throw bad("it lists \(members.count) members for a population of \(settings.size), or slots out of order")
        }
        let lineages = members.map(\.lineage)
        guard Set(lineages).count == lineages.count, lineages.allSatisfy({ (0..<nextLineage).contains($0) }) else {
            throw bad("its lineage ids repeat or exceed the next id \(nextLineage)")
        }
        let schema = try Agents.schema(settings.agent)
        for member in members {
            guard member.fitness.count == generation else { throw bad("slot \(member.slot) has \(member.fitness.count) fitness values for \(generation) boundaries") }
            for (key, text) in member.values {
                guard let spec = schema.key(key), let value = ConfigurationValue.parse(text, as: spec.kind), (try? spec.validate(value)) != nil else {
                    throw bad("slot \(member.slot)'s \(key) = \(text) is not a value \(settings.agent) accepts")
                }
            }
        }
        if let pending, pending.donors.count != settings.size || pending.members.count != settings.size
            || pending.donors.contains(where: { !(0..<settings.size).contains($0) }) {
            throw bad("its pending boundary does not match the population")
        }
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write([UInt8](try encoder.encode(self)), to: path)
    }
}

extension PopulationState.Member {
    /// After the member's first start in an interval: its checkpoint now holds the re-derived streams and the
    /// perturbed parameters, so a later start must not derive or perturb them again.
    mutating func startedInterval() {
        reseed = nil
        parameterNoiseSeed = nil
    }
}
