import ColonyEnvironments

/// The acting half of a distributed algorithm, transport-free (Acme's `Actor`): it selects actions
/// for a batch of observations, observes the outcomes, and acts with the parameters it was last
/// given. What it produces for the learner goes to a sink that the worker process drains.
public protocol DistributedActor: AnyObject {
    var parameterCount: Int { get }
    /// Takes the learner's parameters of `version` (version 0: the learner has not updated yet).
    func setParameters(_ parameters: [Float], version: Int)
}

/// What an on-policy actor hands the learner after each full unroll.
public enum ActorOutput {
    /// A whole unroll with its behaviour log-probabilities (IMPALA).
    case trajectory(TrajectoryBatch)
    /// The gradient of the actor's loss on an unroll of `frames` environment steps (A3C).
    case gradient([Float], frames: Int)
}

/// Where an actor puts its outputs; the worker owns it and drains it after each step, doing the
/// socket I/O, flow control and loss handling itself.
public final class ActorSink<Item> {
    private var items: [Item] = []

    public init() {}

    public var isEmpty: Bool { items.isEmpty }

    public func put(_ item: Item) { items.append(item) }

    /// Everything put since the last drain, oldest first.
    public func drain() -> [Item] {
        let drained = items
        items = []
        return drained
    }
}

/// An actor of a replay-based algorithm: acts on a batch of observations; its `TransitionWriter`
/// observes the steps, builds n-step transitions, asks it for their initial priorities and puts them
/// into the worker's sink.
public protocol ReplayActor: DistributedActor {
    /// Actions for the environments and their encoding as stored in replay (`count × actionSize`).
    func act(_ observations: [Float], count: Int) -> (actions: [Action], stored: [Float])
    /// Initial priorities of `batch`'s transitions.
    func priorities(for batch: TransitionBatch) -> [Float]
    /// This actor's ε where it explores ε-greedily (Ape-X), for logs and status.
    var explorationRate: Double? { get }
    /// n of the n-step transitions its `TransitionWriter` builds.
    var nStep: Int { get }
}
