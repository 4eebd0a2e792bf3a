import ColonyAgents
import Foundation

/// `colony pbt replay DIR --member best`: trains one run from scratch with the hyperparameter schedule a
/// member inherited (Ray Tune's PBT replay): in each interval, the values its ancestor of that interval
/// trained with. Weights are not copied: the replay shows what the schedule alone achieves.
public struct PopulationReplay {
    /// The values a member's ancestry trained with, interval by interval (index 0: the first interval).
    public struct Schedule: Equatable, Sendable {
        public var slot: Int
        public var ancestorSlots: [Int]
        public var values: [[String: String]]
    }

    public let population: String
    public let state: PopulationState
    public let records: [LineageRecord]

    public init(population directory: String) throws {
        population = directory
        state = try PopulationState.read(directory + "/population.json")
        records = try LineageRecord.read(directory + "/lineage.jsonl")
        for generation in stride(from: 1, through: state.generation, by: 1) {
            let rows = records.filter { $0.generation == generation }
            guard rows.map(\.slot) == Array(0..<state.settings.size) else {
                throw PopulationError("\(directory)/lineage.jsonl does not hold one row per member for generation \(generation); it was edited or cut short")
            }
        }
    }

    /// `best` (the highest fitness after the last interval trained) or a slot number.
    public func slot(named member: String) throws -> Int {
        guard state.generation > 0 else { throw PopulationError("\(population) has not finished an interval yet: nothing to replay") }
        if member == "best" { return SelectionRule.ranking(state.members.map { $0.fitness.last ?? nil })[0] }
        guard let slot = Int(member), (0..<state.settings.size).contains(slot) else {
            throw PopulationError("--member must be best or a slot in 0..<\(state.settings.size), not '\(member)'")
        }
        return slot
    }

    /// The schedule of the member in `slot` over the intervals trained so far.
    public func schedule(slot: Int) throws -> Schedule {
        let settings = state.settings
        // Forward: every slot's values in each interval, as the run computed them.
        var perInterval = [try PopulationRun.initialState(settings).members.map(\.values)]
        for generation in 1..<max(1, state.generation) {
            let before = perInterval[generation - 1]
            perInterval.append(records.filter { $0.generation == generation }.map { record in
                var values = before[record.donorSlot ?? record.slot]
                for change in record.changes { values[change.key] = change.new }
                return values
            })
        }
        // Backward: in which slot the member's ancestor trained each interval.
        var ancestors = [slot]
        for generation in stride(from: state.generation - 1, through: 1, by: -1) {
            let record = records.first { $0.generation == generation && $0.slot == ancestors[0] }!
            ancestors.insert(record.donorSlot ?? record.slot, at: 0)
        }
        return Schedule(slot: slot, ancestorSlots: ancestors, values: zip(ancestors, perInterval).map { $1[$0] })
    }

    /// Trains the schedule in `<population>/replay/slot-<k>` (resumable) and returns its greedy fitness on
    /// the population's evaluation seeds.
    public func replay(_ schedule: Schedule, progressStyle: ProgressReporter.Style = .quiet, log: @escaping (String) -> Void = { print($0) }) throws -> Double {
        let settings = state.settings
        let base = try settings.baseConfiguration()
        let directory = RunDirectory(path: population + "/replay/slot-\(schedule.slot)")
        let seed = PopulationSeeds.derive(settings.seed, PopulationSeeds.memberRun, 0, UInt64(schedule.ancestorSlots[0]))
        for (index, values) in schedule.values.enumerated() {
            var explicit = base.explicitValues
            for (key, text) in values {
                guard let spec = base.schema.key(key), let value = ConfigurationValue.parse(text, as: spec.kind) else {
                    throw PopulationError("\(population): \(key) = \(text) is not a value \(base.agent) accepts")
                }
                explicit[key] = value
            }
            var options = TrainingOptions(
                environment: settings.environment, seed: seed, frames: (index + 1) * settings.interval, configuration: try base.schema.resolve(explicit),
                checkpointInterval: settings.interval, keepCheckpoints: 2, testEpisodes: 0)
            options.explicitDirectory = directory
            options.allowsReconfiguration = true
            let result = try Trainer(options: options, progress: ProgressReporter(style: progressStyle, label: "replay interval \(index + 1)", lineInterval: 30),
                                     log: log).run()
            if let signal = result.stoppedBySignal { throw PopulationError("stopped by signal \(signal); rerun the same command to continue the replay") }
        }
        let returns = try CheckpointEvaluation(checkpoint: directory.latestCheckpoint)
            .returns(episodes: settings.evaluationEpisodes, seed: settings.evaluationSeed)
        return returns.reduce(0, +) / Double(returns.count)
    }
}
