import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage
import Foundation

/// A cluster learner's checkpoint evaluated greedily, as a population ranks a member that trains as a cluster: the
/// learner is rebuilt from the run's settings and restored; a replay learner plays its own evaluation policy, a
/// trajectory or gradient learner hands its acting parameters to a fresh actor that plays its deterministic policy.
public struct LearnerCheckpointEvaluation {
    public let settings: ClusterSettings
    private let learner: any DistributedLearner
    private let version: Int

    public init(checkpoint path: String, settings: ClusterSettings) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError("no learner checkpoint at \(path): the learner of \(settings.runDirectory.path) has not checkpointed")
        }
        self.settings = settings
        learner = try settings.makeLearner()
        var counters = LearnerCounters()
        try LearnerCheckpoint.load(learner, group: LearnerCheckpoint.group(of: settings), counters: &counters, returns100: nil,
                                   settings: settings, from: path)
        version = counters.version
    }

    /// Frames the checkpointed learner had taken.
    public static func frames(checkpoint path: String) throws -> Int {
        try CheckpointReader(file: HDF5File.open(path)).ints("counters").first ?? 0
    }

    /// Returns of `episodes` deterministic episodes on environments seeded from `seed`.
    public func returns(episodes: Int, seed: UInt64) throws -> [Double] {
        if let replayLearner = learner as? any ReplayLearnerCore {
            return try PolicyEvaluation.returns(environment: settings.environmentSettings, episodes: episodes, seed: seed) {
                replayLearner.evaluationActions($0, count: $1)
            }
        }
        let actor = try settings.makeActor(index: 0, seed: seed, environments: 1)
        guard let agent = actor as? any ParallelAgent else {
            throw AgentError("\(settings.algorithm)'s actor cannot play evaluation episodes")
        }
        actor.setParameters(learner.actingParameters, version: version)
        return try AgentRunner.evaluate(agent, environment: settings.environmentSettings, episodes: episodes, seed: seed)
    }
}
