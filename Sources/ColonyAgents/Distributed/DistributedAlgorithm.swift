import ColonyEnvironments

/// How a distributed algorithm's workers feed its learner; the roles switch on it, never on an id.
public enum DistributedDataFlow: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Workers send whole unrolls with their behaviour log-probabilities (IMPALA).
    case trajectories
    /// Workers compute gradients on their unrolls and send those (A3C).
    case gradients
    /// Workers insert n-step transitions with initial priorities into `colony-replay`; the learner samples them (Ape-X).
    case replayTransitions

    /// The processes a run of this data flow has.
    public var processes: String {
        switch self {
        case .trajectories, .gradients: "colony-learner + colony-worker ×N"
        case .replayTransitions: "colony-learner + colony-replay + colony-worker ×N"
        }
    }

    public var description: String {
        switch self {
        case .trajectories: "trajectories"
        case .gradients: "gradients"
        case .replayTransitions: "replay transitions"
        }
    }
}

/// How a replay-based algorithm's table samples.
public enum ReplaySampling: Sendable, Equatable {
    case uniform
    /// Proportional to priority^α with α from the configuration key `alphaKey`.
    case prioritized(alphaKey: String)
}

/// What a learner or actor factory needs besides its registration: the resolved configuration of
/// the algorithm's agent, the environment's spaces, and the run's budget and seed.
public struct DistributedSetup: Sendable {
    public var configuration: Configuration
    /// The environment id (for messages).
    public var environment: String
    public var observationSpace: Space
    public var actionSpace: Space
    /// Environments each worker steps.
    public var environmentsPerWorker: Int
    public var frames: Int
    public var seed: UInt64
    /// Replay-based runs: samples per inserted transition of the table (1 otherwise).
    public var samplesPerInsert: Double
    /// Replay-based runs: Ape-X's base ε and its α across workers.
    public var epsilon: Double
    public var epsilonAlpha: Double

    public init(
        configuration: Configuration, environment: String, observationSpace: Space, actionSpace: Space, environmentsPerWorker: Int,
        frames: Int, seed: UInt64, samplesPerInsert: Double = 1, epsilon: Double = 0.4, epsilonAlpha: Double = 7
    ) {
        self.configuration = configuration
        self.environment = environment
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.environmentsPerWorker = environmentsPerWorker
        self.frames = frames
        self.seed = seed
        self.samplesPerInsert = samplesPerInsert
        self.epsilon = epsilon
        self.epsilonAlpha = epsilonAlpha
    }

    /// Floats per observation.
    public var observationSize: Int { observationSpace.elementCount }
    /// Floats per stored action: 1 for a discrete action, the box's dimension otherwise.
    public var actionSize: Int {
        switch actionSpace {
        case .box(let box): box.elementCount
        default: 1
        }
    }
}

/// Which of the run's workers an actor acts for.
public struct ActorSlot: Sendable {
    /// This worker's index (0-based).
    public var index: Int
    /// How many workers the run has (Ape-X's N).
    public var actors: Int
    /// The actor's own seed (exploration, random warm-up actions).
    public var seed: UInt64

    public init(index: Int, actors: Int, seed: UInt64) {
        self.index = index
        self.actors = actors
        self.seed = seed
    }
}

/// One distributed algorithm, registered the way an agent is: what it is called, whose configuration
/// it uses, how its data flows and how to build its two halves.
public struct DistributedAlgorithm: Sendable {
    public typealias LearnerFactory = @Sendable (DistributedSetup) throws -> any DistributedLearner
    public typealias ActorFactory = @Sendable (DistributedSetup, ActorSlot) throws -> any DistributedActor

    /// The id cluster files name (`algorithm = "impala"`), also the run directory's agent.
    public let id: String
    /// The agent whose configuration schema the `[agent]` table uses (A3C: `a2c`).
    public let agent: String
    /// One line for `colony algorithms`.
    public let summary: String
    public let dataFlow: DistributedDataFlow
    /// The replay table's sampling; nil where the algorithm has no replay server.
    public let replaySampling: ReplaySampling?
    public let makeLearner: LearnerFactory
    public let makeActor: ActorFactory

    public init(
        id: String, agent: String, summary: String, dataFlow: DistributedDataFlow, replaySampling: ReplaySampling? = nil,
        makeLearner: @escaping LearnerFactory, makeActor: @escaping ActorFactory
    ) {
        precondition((dataFlow == .replayTransitions) == (replaySampling != nil), "\(id): a replay table's sampling goes with replay transitions")
        self.id = id
        self.agent = agent
        self.summary = summary
        self.dataFlow = dataFlow
        self.replaySampling = replaySampling
        self.makeLearner = makeLearner
        self.makeActor = makeActor
    }

    /// Whether a run adds a `colony-replay` server.
    public var usesReplay: Bool { dataFlow == .replayTransitions }
}
