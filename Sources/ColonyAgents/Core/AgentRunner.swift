import ColonyEnvironments
import ColonyNumerics

/// Drives agents through environments: the training loop of the trainer and workers in its
/// simplest form, and deterministic evaluation. Tests and benchmarks use it directly.
public enum AgentRunner {
    /// Trains `agent` for at least `frames` environment frames on `environments` (which must have
    /// `agent.environmentCount` copies), calling `onEpisode` for each finished episode and `onStep`
    /// with each step's info. Returns the finished episodes.
    @discardableResult
    public static func train(
        _ agent: any ParallelAgent, on environments: any VectorEnvironment, frames: Int, seed: UInt64,
        onStep: ((AgentInfo) -> Void)? = nil, onEpisode: ((EpisodeRecord) -> Void)? = nil
    ) throws -> [EpisodeRecord] {
        let loop = try TrainingLoop(agent: agent, environments: environments, seed: seed)
        return try loop.advance(frames: frames, onStep: onStep, onEpisode: onEpisode)
    }

    /// Returns of `episodes` evaluation episodes (eval mode: the evaluation policy, no updates),
    /// on fresh environments seeded from `seed`. Restores the agent's previous mode afterwards.
    /// The episode length at which evaluation truncates environments that have no time limit.
    public static let evaluationStepLimit = 1_000

    public static func evaluate(_ agent: any ParallelAgent, environment id: String, episodes: Int, seed: UInt64) throws -> [Double] {
        try evaluate(agent, environment: EnvironmentSettings(id: id), episodes: episodes, seed: seed)
    }

    /// `evaluate` for an environment with settings (a `gym:` id with kwargs and wrappers, say).
    public static func evaluate(_ agent: any ParallelAgent, environment settings: EnvironmentSettings, episodes: Int, seed: UInt64) throws -> [Double] {
        let previous = agent.mode
        agent.mode = .eval
        defer { agent.mode = previous }
        let count = agent.environmentCount
        // Environments without a time limit (CliffWalking) get one here: a greedy policy that walks in
        // circles must end its episode, not hang the evaluation.
        let environments = try VectorEnvironments.make(settings, count: count, seed: seed, defaultMaxEpisodeSteps: evaluationStepLimit)
        var actions = agent.reset(observations: environments.observations)
        // Each copy contributes its first ⌈episodes / N⌉ episodes, so short episodes are not over-represented.
        let perEnvironment = (episodes + count - 1) / count
        var returnsByEnvironment = [[Double]](repeating: [], count: count)
        while returnsByEnvironment.contains(where: { $0.count < perEnvironment }) {
            try environments.step(actions)
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations).actions
            for episode in environments.completedEpisodes { returnsByEnvironment[episode.environmentIndex].append(episode.episodeReturn) }
        }
        let returns = Array(returnsByEnvironment.flatMap { $0.prefix(perEnvironment) }.prefix(episodes))
        return returns
    }
}

/// A training loop that can be advanced in pieces (train, evaluate, train on) without restarting
/// episodes: it keeps the environments and the actions chosen for the next step.
public final class TrainingLoop {
    public let agent: any ParallelAgent
    public let environments: any VectorEnvironment
    public private(set) var frames = 0
    private var actions: [Action]

    public init(agent: any ParallelAgent, environments: any VectorEnvironment, seed: UInt64) throws {
        precondition(environments.count == agent.environmentCount, "the agent acts on \(agent.environmentCount) environments, got \(environments.count)")
        self.agent = agent
        self.environments = environments
        agent.mode = .train
        try environments.reset(seed: seed)
        actions = agent.reset(observations: environments.observations)
    }

    /// Steps until at least `frames` more frames were taken; returns the episodes that finished.
    @discardableResult
    public func advance(frames count: Int, onStep: ((AgentInfo) -> Void)? = nil, onEpisode: ((EpisodeRecord) -> Void)? = nil) throws -> [EpisodeRecord] {
        agent.mode = .train
        var episodes: [EpisodeRecord] = []
        let target = frames + count
        while frames < target {
            try environments.step(actions)
            frames += environments.count
            let step = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations)
            actions = step.actions
            if let onStep, !step.info.isEmpty { onStep(step.info) }
            for episode in environments.completedEpisodes {
                episodes.append(episode)
                onEpisode?(episode)
            }
        }
        return episodes
    }
}
