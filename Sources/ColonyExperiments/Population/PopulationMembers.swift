import Foundation

/// How a population's members train an interval and how their checkpoints are evaluated: `TrainerMembers`
/// (single-process runs, the default) or a cluster per member (`ClusterMembers` in ColonyCluster). Selection,
/// copying, mutation and the records are the population's, whatever trains the members.
public protocol PopulationMembers: AnyObject {
    /// Trains `slot` of `population` to `frames`, resuming its latest checkpoint; returns the signal that stopped it.
    /// Throws when the member cannot train (the population marks it failed).
    func train(slot: Int, of population: PopulationRun, to frames: Int, progress: ProgressReporter.Style,
               log: @escaping (String) -> Void) throws -> Int32?
    /// Greedy returns of the slot's latest checkpoint over the population's evaluation episodes, from its evaluation seed.
    func evaluate(slot: Int, of population: PopulationRun) throws -> [Double]
    /// Files of a member's directory besides its learner checkpoint that an exploit copies from the donor (an
    /// Ape-X cluster's `replay.h5`): saved with the donor's checkpoint at the boundary, then put in the recipient's
    /// directory (a file the donor lacks is removed from the recipient's).
    var carriedFiles: [String] { get }
    /// Stops whatever the members left running (clusters kept up across boundaries); called when the run ends.
    func close()
}

extension PopulationMembers {
    public var carriedFiles: [String] { [] }
    public func close() {}
}

/// Members whose training runs in processes of their own that this process only starts and waits for (clusters kept
/// up across boundaries): `--parallel P` trains P of them side by side from here, rather than in child processes.
public protocol SideBySideMembers: PopulationMembers {
    /// Whether these members do train side by side from this process (false: in turn, or in child processes).
    var trainsSideBySide: Bool { get }
    /// Starts training `slot` to `frames` and returns at once.
    func beginTraining(slot: Int, of population: PopulationRun, to frames: Int, progress: ProgressReporter.Style,
                       log: @escaping (String) -> Void) throws
    /// Waits until `slot` has trained to `frames` and checkpointed; returns the signal that stopped it, if one did.
    /// Throws when it cannot train (the population marks it failed).
    func finishTraining(slot: Int, of population: PopulationRun, to frames: Int) throws -> Int32?
}

/// Members that are `colony train` runs, trained by a `Trainer` in this process.
public final class TrainerMembers: PopulationMembers {
    public init() {}

    public func train(slot: Int, of population: PopulationRun, to frames: Int, progress: ProgressReporter.Style,
                      log: @escaping (String) -> Void) throws -> Int32? {
        let options = try PopulationRun.trainingOptions(population: population.directory, state: population.state, slot: slot, frames: frames)
        let label = PopulationRun.label(population.state.members[slot])
        return try Trainer(options: options, progress: ProgressReporter(style: progress, label: label, lineInterval: 30), log: log)
            .run().stoppedBySignal
    }

    public func evaluate(slot: Int, of population: PopulationRun) throws -> [Double] {
        let settings = population.state.settings
        return try CheckpointEvaluation(checkpoint: population.memberDirectory(slot).latestCheckpoint)
            .returns(episodes: settings.evaluationEpisodes, seed: settings.evaluationSeed)
    }
}
