import ColonyAgents
import ColonyNumerics
import ColonyStorage
import Foundation

/// `colony pbt run`: a population of runs trained in turn in one process. Every member trains `interval`
/// frames; then all are evaluated greedily on the same seeds, the selection rule picks who copies whom,
/// donors' checkpoints are saved for the boundary (so a copy never reads a file another copy already
/// replaced), recipients take them whole (parameters, targets, optimizer moments, replay, counters) with
/// every random stream derived afresh, and mutated configurations take effect in the next interval.
///
/// Layout of `directory`: `population.json` (settings and state), `lineage.jsonl`, `members/slot-<k>/`
/// (each a run directory: returns100.csv, TensorBoard, checkpoints), `boundaries/generation-<g>/slot-<k>.h5`
/// (the donors' checkpoints at each boundary, kept: lineages may need them).
public final class PopulationRun {
    public enum Outcome: Equatable, Sendable {
        /// Every generation trained; the best member's slot and fitness.
        case finished(bestSlot: Int, fitness: Double)
        /// The best member's fitness reached `--target-fitness` at the boundary after `generation` intervals.
        case reachedTarget(bestSlot: Int, fitness: Double, generation: Int)
        /// A stop signal: every member's progress is checkpointed; rerunning continues.
        case stopped(signal: Int32)
    }

    public let directory: String
    public private(set) var state: PopulationState
    private let log: (String) -> Void
    private let progressStyle: ProgressReporter.Style
    private let lock: RunDirectoryLock
    /// Members trained at once; above 1, each in a child process started with `memberCommand`.
    private let parallel: Int
    private let memberCommand: [String]
    /// What trains and evaluates each member.
    private let members: any PopulationMembers

    public var statePath: String { directory + "/population.json" }
    public var lineagePath: String { directory + "/lineage.jsonl" }
    /// The buffer every member fills and samples from with `--replay shared`.
    public var sharedReplayPath: String { Self.sharedReplayPath(population: directory) }
    static func sharedReplayPath(population directory: String) -> String { directory + "/shared-replay.h5" }
    public func memberDirectory(_ slot: Int) -> RunDirectory { Self.memberDirectory(population: directory, slot: slot) }
    public static func memberDirectory(population directory: String, slot: Int) -> RunDirectory { RunDirectory(path: directory + "/members/slot-\(slot)") }
    public func boundaryCheckpoint(generation: Int, slot: Int) -> String { directory + "/boundaries/generation-\(generation)/slot-\(slot).h5" }
    /// Where a boundary keeps a donor's carried file `name` (`PopulationMembers.carriedFiles`).
    public func boundaryFile(generation: Int, slot: Int, name: String) -> String {
        directory + "/boundaries/generation-\(generation)/slot-\(slot)-\(name)"
    }

    /// Opens the population in `directory`: resumes the one there (which must have the same settings), or
    /// starts it. `fresh` removes what is there first.
    /// `parallel` > 1 trains that many members at once, each in a child process running `memberCommand`
    /// followed by the population directory, the slot and the frames (`colony pbt member`), cluster members too
    /// (each child runs the member's cluster).
    /// `members` trains and evaluates them (default: single-process runs); a population of clusters needs its own.
    public init(directory: String, settings: PopulationSettings, fresh: Bool = false, progressStyle: ProgressReporter.Style = .quiet,
                parallel: Int = 1, memberCommand: [String] = [], members: (any PopulationMembers)? = nil,
                log: @escaping (String) -> Void = { print($0) }) throws {
        try settings.validate()
        if let cluster = settings.cluster, members == nil {
            throw PopulationError("this population trains its members as clusters (\(cluster)): run it with `colony pbt run --cluster \(cluster)`")
        }
        self.members = members ?? TrainerMembers()
        guard parallel == 1 || (parallel > 1 && !memberCommand.isEmpty) else {
            throw PopulationError("--parallel must be at least 1, not \(parallel)")
        }
        guard parallel == 1 || !settings.sharesReplay else {
            throw PopulationError("--replay shared trains members in turn, each adding to the buffer the next one samples; drop --parallel or use --replay own")
        }
        self.directory = directory
        self.log = log
        self.progressStyle = progressStyle
        self.parallel = min(parallel, settings.size)
        self.memberCommand = memberCommand
        try AtomicFile.createDirectories(directory)
        // One population process per directory (its members' own locks guard their run directories).
        lock = try RunDirectoryLock(RunDirectory(path: directory))
        let statePath = directory + "/population.json"
        if fresh {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name != "run.lock" {
                try FileManager.default.removeItem(atPath: directory + "/" + name)
            }
        }
        if FileManager.default.fileExists(atPath: statePath) {
            state = try PopulationState.read(statePath)
            guard state.settings == settings else {
                throw PopulationError(
                    "\(directory) holds a population started with other settings; rerun with the same ones to resume it, or pass --fresh to start over")
            }
            log("resuming the population in \(directory) after \(state.generation) of \(settings.generations) generations")
        } else {
            state = try Self.initialState(settings)
            try state.write(to: statePath)
        }
    }

    static func initialState(_ settings: PopulationSettings) throws -> PopulationState {
        let mutations = try settings.parsedMutations()
        let base = try settings.baseConfiguration()
        let members = (0..<settings.size).map { slot -> PopulationState.Member in
            var random = RandomSource(seed: PopulationSeeds.derive(settings.seed, PopulationSeeds.initialValues, UInt64(slot)))
            var values: [String: String] = [:]
            for mutation in mutations {
                values[mutation.key] = settings.initialSpread ? "\(mutation.sample(&random))" : "\(base.value(mutation.key))"
            }
            return PopulationState.Member(
                slot: slot, lineage: slot, seed: PopulationSeeds.derive(settings.seed, PopulationSeeds.memberRun, 0, UInt64(slot)),
                values: values, reseed: nil, fitness: [], failure: nil)
        }
        return PopulationState(settings: settings, generation: 0, nextLineage: settings.size, members: members, pending: nil)
    }

    /// The configuration a member trains with: the base configuration with its mutated values.
    public func configuration(of member: PopulationState.Member) throws -> Configuration {
        try Self.configuration(of: member, settings: state.settings)
    }

    public static func configuration(of member: PopulationState.Member, settings: PopulationSettings) throws -> Configuration {
        let base = try settings.baseConfiguration()
        var values = base.explicitValues
        for (key, text) in member.values {
            guard let spec = base.schema.key(key), let value = ConfigurationValue.parse(text, as: spec.kind) else {
                throw PopulationError("slot \(member.slot): \(key) = \(text) is not a value \(base.agent) accepts")
            }
            values[key] = value
        }
        return try base.schema.resolve(values)
    }

    /// Trains and evolves until every generation is done or a stop signal arrives.
    public func run() throws -> Outcome {
        let settings = state.settings
        if state.pending != nil { try finishBoundary() }
        if let reached = try reachedTarget() { return reached }
        while state.generation < settings.generations {
            let target = (state.generation + 1) * settings.interval
            if parallel > 1, let sideBySide = members as? any SideBySideMembers, sideBySide.trainsSideBySide {
                if let signal = try trainSideBySide(sideBySide, to: target) { return .stopped(signal: signal) }
            } else if parallel > 1 {
                if let signal = try trainInProcesses(to: target) { return .stopped(signal: signal) }
            } else {
                for slot in 0..<settings.size {
                    if let signal = try train(slot, to: target) { return .stopped(signal: signal) }
                }
            }
            try evolve()
            if let reached = try reachedTarget() { return reached }
        }
        let (best, fitness) = try self.best()
        return .finished(bestSlot: best, fitness: fitness)
    }

    /// The member with the highest fitness after the last interval evaluated.
    public func best() throws -> (slot: Int, fitness: Double) {
        let last = state.members.map { $0.fitness.last ?? nil }
        let best = SelectionRule.ranking(last)[0]
        guard let fitness = last[best] else { throw PopulationError("no member of \(directory) has a fitness; see lineage.jsonl for why") }
        return (best, fitness)
    }

    /// Opens the population in `directory` with the settings it was started with (`colony pbt advance`); `members`
    /// evaluates a population of clusters.
    public static func open(directory: String, members: (any PopulationMembers)? = nil, log: @escaping (String) -> Void = { print($0) }) throws -> PopulationRun {
        let state = try PopulationState.read(directory + "/population.json")
        return try PopulationRun(directory: directory, settings: state.settings, members: members, log: log)
    }

    /// Whether every interval is trained and evaluated, or the target fitness is reached.
    public var isFinished: Bool {
        state.pending == nil && (state.generation >= state.settings.generations || ((try? reachedTarget()) ?? nil) != nil)
    }

    /// The outcome when the last boundary passed reached `--target-fitness`.
    private func reachedTarget() throws -> Outcome? {
        guard let target = state.settings.targetFitness, state.generation > 0 else { return nil }
        let (slot, fitness) = try best()
        guard fitness >= target else { return nil }
        return .reachedTarget(bestSlot: slot, fitness: fitness, generation: state.generation)
    }

    /// After an interval trained elsewhere (Slurm tasks): members in `failures` did not reach the frame target
    /// and rank last; the others have loaded their checkpoints, so their re-derived streams are spent.
    public func recordTrainedElsewhere(failures: [Int: String]) throws {
        if state.pending != nil { try finishBoundary() }
        for slot in 0..<state.settings.size {
            if let reason = failures[slot] { state.members[slot].failure = reason } else { state.members[slot].startedInterval() }
        }
        try state.write(to: statePath)
    }

    /// Evaluates every member after the current interval, then selects, copies and mutates (after the last
    /// interval it only records the fitness).
    public func evolve() throws {
        let settings = state.settings
        if state.pending != nil { return try finishBoundary() }
        guard state.generation < settings.generations else { return }
        let target = (state.generation + 1) * settings.interval
        let fitness = (0..<settings.size).map { evaluate($0) }
        guard fitness.contains(where: { $0 != nil }) else {
            throw PopulationError("every member of \(directory) failed in generation \(state.generation + 1): "
                + (state.members.compactMap(\.failure).first ?? "no fitness"))
        }
        let generation = state.generation + 1
        log("generation \(generation) of \(settings.generations) at frame \(target): fitness "
            + fitness.map { $0.map { String(format: "%.1f", $0) } ?? "failed" }.joined(separator: ", "))
        try decideBoundary(generation: generation, frame: target, fitness: fitness)
        try finishBoundary()
    }

    /// Trains slot `slot` to `frames`; returns the signal that stopped it, if one did. A member whose
    /// training fails is marked failed (it ranks last and is replaced at the boundary); the run goes on.
    private func train(_ slot: Int, to frames: Int) throws -> Int32? {
        guard state.members[slot].failure == nil else { return nil }
        let label = Self.label(state.members[slot])
        return try recordingFailure(of: slot) {
            try members.train(slot: slot, of: self, to: frames, progress: progressStyle, log: { [log] in log("\(label): \($0)") })
        }
    }

    /// Runs `training` for `slot`: its error marks the member failed (nil is returned); after it trained, the streams
    /// re-derived for its interval are spent.
    private func recordingFailure(of slot: Int, _ training: () throws -> Int32?) throws -> Int32? {
        let member = state.members[slot]
        let stoppedBy: Int32?
        do { stoppedBy = try training() } catch {
            log("\(Self.label(member)) failed: \(error); it ranks last and is replaced at the boundary")
            state.members[slot].failure = "\(error)"
            try state.write(to: statePath)
            return nil
        }
        if member.reseed != nil || member.parameterNoiseSeed != nil {
            state.members[slot].startedInterval()
            try state.write(to: statePath)
        }
        return stoppedBy
    }

    /// Trains every member that has not failed, `parallel` at a time side by side from this process; returns the signal
    /// that stopped them, if one did.
    private func trainSideBySide(_ sideBySide: any SideBySideMembers, to frames: Int) throws -> Int32? {
        let slots = (0..<state.settings.size).filter { state.members[$0].failure == nil }
        for first in Swift.stride(from: 0, to: slots.count, by: parallel) {
            var begun: [Int] = []
            for slot in slots[first..<Swift.min(first + parallel, slots.count)] {
                let label = Self.label(state.members[slot])
                _ = try recordingFailure(of: slot) {
                    try sideBySide.beginTraining(slot: slot, of: self, to: frames, progress: progressStyle, log: { [log] in log("\(label): \($0)") })
                    begun.append(slot)
                    return nil
                }
            }
            for slot in begun {
                if let signal = try recordingFailure(of: slot, { try sideBySide.finishTraining(slot: slot, of: self, to: frames) }) { return signal }
            }
        }
        return nil
    }

    /// How slot `slot` of the population in `directory` trains to `frames` (in this process or a child's).
    public static func trainingOptions(population directory: String, state: PopulationState, slot: Int, frames: Int) throws -> TrainingOptions {
        let member = state.members[slot]
        var options = TrainingOptions(
            environment: state.settings.environment, seed: member.seed, frames: frames, configuration: try configuration(of: member, settings: state.settings),
            checkpointInterval: state.settings.interval, keepCheckpoints: 2, testEpisodes: 0)
        options.explicitDirectory = RunDirectory(path: directory + "/members/slot-\(slot)")
        options.allowsReconfiguration = true
        options.reseeding = member.reseed.map(RandomStreamReseeding.init(seed:))
        options.parameterNoise = member.parameterNoiseSeed.map { ParameterNoise(standardDeviation: Float(state.settings.parameterNoise), seed: $0) }
        if state.settings.sharesReplay {
            options.sharedReplay = SharedReplayExchange(path: sharedReplayPath(population: directory), importFrame: frames - state.settings.interval)
        }
        return options
    }

    /// How log lines name a member: `slot 2 (lineage 7)`.
    public static func label(_ member: PopulationState.Member) -> String { "slot \(member.slot) (lineage \(member.lineage))" }

    /// Trains every member that has not failed in child processes, at most `parallel` at once; returns the
    /// signal that stopped them, if one did (each child checkpoints first). A child's own error marks its
    /// member failed, with the child's last line of standard error as the reason.
    private func trainInProcesses(to frames: Int) throws -> Int32? {
        var waiting = (0..<state.settings.size).filter { state.members[$0].failure == nil }
        var running: [(slot: Int, process: Process, errors: String)] = []
        var stoppedBy: Int32?
        while !waiting.isEmpty || !running.isEmpty {
            if stoppedBy == nil, let signal = StopSignal.requested {
                stoppedBy = signal
                waiting.removeAll()
                for child in running { kill(child.process.processIdentifier, SIGTERM) }
            }
            while running.count < parallel, !waiting.isEmpty {
                let slot = waiting.removeFirst()
                let errors = memberDirectory(slot).path + "/member-errors.log"
                try memberDirectory(slot).create()
                guard FileManager.default.createFile(atPath: errors, contents: nil) else {
                    throw PopulationError("cannot create \(errors); is the population directory writable?")
                }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: memberCommand[0])
                process.arguments = Array(memberCommand.dropFirst()) + [directory, String(slot), String(frames)]
                process.standardError = FileHandle(forWritingAtPath: errors)
                try process.run()
                running.append((slot, process, errors))
            }
            let finished = running.filter { !$0.process.isRunning }
            running.removeAll { child in finished.contains { $0.slot == child.slot } }
            for child in finished {
                let status = child.process.terminationStatus
                let killed = child.process.terminationReason == .uncaughtSignal
                // A child that exited by itself loaded its checkpoint (re-deriving its streams) and wrote its own.
                if !killed && (status == 0 || status == 130) { state.members[child.slot].startedInterval() }
                if !killed && status == 0 {
                    // Trained to the boundary.
                } else if stoppedBy != nil || (!killed && status == 130) {
                    stoppedBy = stoppedBy ?? SIGTERM
                } else {
                    let said = (try? String(contentsOfFile: child.errors, encoding: .utf8))?.split(separator: "\n").last.map(String.init)
                    let reason = said ?? "exit status \(status)"
                    log("\(Self.label(state.members[child.slot])) failed: \(reason); it ranks last and is replaced at the boundary")
                    state.members[child.slot].failure = reason
                }
                try state.write(to: statePath)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return stoppedBy
    }

    /// The member's greedy mean return over the population's evaluation episodes (nil: it failed).
    private func evaluate(_ slot: Int) -> Double? {
        guard state.members[slot].failure == nil else { return nil }
        do {
            let returns = try members.evaluate(slot: slot, of: self)
            let mean = returns.reduce(0, +) / Double(returns.count)
            return mean.isFinite ? mean : nil
        } catch {
            state.members[slot].failure = "evaluation: \(error)"
            return nil
        }
    }

    /// Takes the boundary's decisions and saves the donors' checkpoints; `finishBoundary` applies them.
    private func decideBoundary(generation: Int, frame: Int, fitness: [Double?]) throws {
        let settings = state.settings
        let mutations = try settings.parsedMutations()
        var random = RandomSource(seed: PopulationSeeds.derive(settings.seed, PopulationSeeds.selection, UInt64(generation)))
        var outcome: SelectionOutcome
        // After the last interval, or once the best member reaches the target, the boundary only evaluates.
        let reachesTarget = settings.targetFitness.map { target in fitness.contains { ($0 ?? -.infinity) >= target } } ?? false
        let evolves = generation < settings.generations && !reachesTarget
        if evolves {
            outcome = settings.rule.select(fitness: fitness, random: &random)
            // A failed member is always replaced, by the best one.
            if let best = outcome.ranking.first, fitness[best] != nil {
                for slot in 0..<settings.size where fitness[slot] == nil {
                    outcome.donors[slot] = best
                    outcome.mutated.insert(slot)
                }
            }
        } else {
            outcome = SelectionOutcome(donors: Array(0..<settings.size), mutated: [], ranking: SelectionRule.ranking(fitness))
        }
        var members = state.members
        var records: [LineageRecord] = []
        var nextLineage = state.nextLineage
        let base = try settings.baseConfiguration()
        for slot in 0..<settings.size {
            let donor = outcome.donors[slot]
            var member = state.members[slot]
            member.fitness.append(fitness[slot])
            let failure = member.failure
            member.failure = nil
            let checkpoint: String
            if donor != slot {
                let saved = boundaryCheckpoint(generation: generation, slot: donor)
                if !FileManager.default.fileExists(atPath: saved) {
                    try AtomicFile.createDirectories((saved as NSString).deletingLastPathComponent)
                    // The carried files first: a boundary whose checkpoint is saved has all of them.
                    for name in self.members.carriedFiles {
                        let source = memberDirectory(donor).path + "/" + name
                        guard FileManager.default.fileExists(atPath: source) else { continue }
                        try AtomicFile.replace(boundaryFile(generation: generation, slot: donor, name: name)) { temporary in
                            try FileManager.default.copyItem(atPath: source, toPath: temporary)
                        }
                    }
                    try AtomicFile.replace(saved) { temporary in
                        try FileManager.default.copyItem(atPath: memberDirectory(donor).latestCheckpoint, toPath: temporary)
                    }
                }
                checkpoint = try SHA256.hex(ofFile: saved)
                member.lineage = nextLineage
                nextLineage += 1
                member.values = state.members[donor].values
                member.seed = PopulationSeeds.derive(settings.seed, PopulationSeeds.memberRun, UInt64(generation), UInt64(member.lineage))
                member.reseed = PopulationSeeds.derive(settings.seed, PopulationSeeds.reseeding, UInt64(generation), UInt64(member.lineage))
            } else {
                checkpoint = failure == nil ? try SHA256.hex(ofFile: memberDirectory(slot).latestCheckpoint) : ""
            }
            var changes: [LineageRecord.Change] = []
            var noise: Double?
            if outcome.mutated.contains(slot) && settings.parameterNoise > 0 {
                member.parameterNoiseSeed = PopulationSeeds.derive(settings.seed, PopulationSeeds.parameterNoise, UInt64(generation), UInt64(member.lineage))
                noise = settings.parameterNoise
            }
            if outcome.mutated.contains(slot) {
                for mutation in mutations {
                    let spec = base.schema.key(mutation.key)!
                    let old = member.values[mutation.key] ?? "\(base.value(mutation.key))"
                    let current = ConfigurationValue.parse(old, as: spec.kind) ?? spec.defaultValue
                    let (new, operation) = mutation.mutate(current, resampleProbability: settings.resampleProbability, random: &random)
                    member.values[mutation.key] = "\(new)"
                    changes.append(.init(key: mutation.key, old: old, new: "\(new)", operation: operation.rawValue))
                }
            }
            let elite = settings.rule == .tournament(size: settings.tournamentSize, elitism: true) && evolves
                && slot == outcome.ranking.first
            let action = donor != slot ? "exploit" : outcome.mutated.contains(slot) ? "mutate" : elite ? "elite" : "continue"
            records.append(LineageRecord(
                generation: generation, frame: frame, slot: slot, lineage: member.lineage, parent: state.members[donor].lineage,
                donorSlot: donor != slot ? donor : nil, action: action, changes: changes, parameterNoise: noise, fitness: fitness[slot], failure: failure,
                evaluationSeed: settings.evaluationSeed, evaluationEpisodes: settings.evaluationEpisodes, checkpointSHA256: checkpoint))
            members[slot] = member
        }
        state.pending = PopulationState.PendingBoundary(
            donors: outcome.donors, mutated: outcome.mutated.sorted(), members: members, lineage: records)
        state.nextLineage = nextLineage
        try state.write(to: statePath)
    }

    /// Copies the saved donor checkpoints into their recipients, then records the boundary as passed.
    /// Every step can be repeated, so a run stopped in the middle finishes it on restart.
    private func finishBoundary() throws {
        guard let pending = state.pending else { return }
        let generation = state.generation + 1
        for (slot, donor) in pending.donors.enumerated() where donor != slot {
            let saved = boundaryCheckpoint(generation: generation, slot: donor)
            let target = memberDirectory(slot)
            try target.create()
            for name in self.members.carriedFiles {
                let (carried, destination) = (boundaryFile(generation: generation, slot: donor, name: name), target.path + "/" + name)
                if FileManager.default.fileExists(atPath: carried) {
                    try AtomicFile.replace(destination) { temporary in try FileManager.default.copyItem(atPath: carried, toPath: temporary) }
                } else if FileManager.default.fileExists(atPath: destination) {
                    try FileManager.default.removeItem(atPath: destination)
                }
            }
            try AtomicFile.replace(target.latestCheckpoint) { temporary in try FileManager.default.copyItem(atPath: saved, toPath: temporary) }
        }
        try LineageRecord.append(pending.lineage, to: lineagePath)
        state.members = pending.members
        state.generation = generation
        state.pending = nil
        try state.write(to: statePath)
    }
}

/// Seeds of a population's random streams, each derived from the population's seed and what it is for,
/// so that the whole run follows from one seed and no two members share a stream.
public enum PopulationSeeds {
    static let initialValues: UInt64 = 1, memberRun: UInt64 = 2, selection: UInt64 = 3, reseeding: UInt64 = 4, parameterNoise: UInt64 = 5

    /// SplitMix64 over the seed and every part in turn.
    public static func derive(_ seed: UInt64, _ parts: UInt64...) -> UInt64 {
        var value = seed
        for part in parts {
            value = mix(value ^ mix(part &+ 0x9e37_79b9_7f4a_7c15))
        }
        return value
    }

    private static func mix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
