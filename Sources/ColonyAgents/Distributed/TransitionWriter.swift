import ColonyEnvironments

/// Finished transitions of a replay-based actor, ready to insert: `count` rows of `layout.itemSize`
/// floats and one initial priority each.
public struct PrioritizedTransitions {
    public var items: [Float]
    public var priorities: [Float]
    public var count: Int { priorities.count }
}

/// The observing half of a replay-based actor (Acme's `observe`): turns each batched environment
/// step into n-step transitions, and every `batchSize` of them into one `PrioritizedTransitions`
/// with the actor's initial priorities, put into the sink that the worker drains and inserts.
public final class TransitionWriter {
    public let layout: TransitionLayout
    public let batchSize: Int
    private let actor: any ReplayActor
    private let sink: ActorSink<PrioritizedTransitions>
    private var nStep: NStepAccumulator
    private var items: [Float] = []
    private var itemCount = 0

    public init(actor: any ReplayActor, layout: TransitionLayout, gamma: Float, environments: Int, batchSize: Int, sink: ActorSink<PrioritizedTransitions>) {
        precondition(batchSize > 0, "batchSize must be positive, got \(batchSize)")
        self.actor = actor
        self.layout = layout
        self.batchSize = batchSize
        self.sink = sink
        nStep = NStepAccumulator(steps: actor.nStep, gamma: gamma, environments: environments)
        items.reserveCapacity((batchSize + environments * 8) * layout.itemSize)
    }

    /// Records the step the environments just took from `observations` with the actions stored as
    /// `stored` (`count × actionSize`, as `ReplayActor.act` returned them).
    public func observe(from observations: [Float], stored: [Float], environments: any VectorEnvironment) {
        // Each array once per step, not per element through the existential.
        let next = environments.observations, finalObservations = environments.finalObservations
        let rewards = environments.rewards, terminated = environments.terminated, truncated = environments.truncated
        let (o, a) = (layout.observationSize, layout.actionSize)
        for env in 0..<environments.count {
            let final = finalObservations[env]
            nStep.record(
                env: env, observation: observations[(env * o)..<((env + 1) * o)], action: stored[(env * a)..<((env + 1) * a)],
                reward: Float(rewards[env]), next: final.map { $0[...] } ?? next[(env * o)..<((env + 1) * o)],
                terminated: terminated[env], truncated: truncated[env]
            ) { observation, action, reward, nextObservation, discount in
                layout.append(observation: observation, action: action, reward: reward, next: nextObservation, discount: discount, to: &items)
                itemCount += 1
            }
        }
        guard itemCount >= batchSize else { return }
        let priorities = actor.priorities(for: layout.batch(items, weights: [Float](repeating: 1, count: itemCount)))
        sink.put(PrioritizedTransitions(items: items, priorities: priorities))
        items.removeAll(keepingCapacity: true)
        itemCount = 0
    }

    /// Forgets unfinished n-step windows and unsent transitions (the environments were reset).
    public func clear() {
        nStep.clear()
        items.removeAll(keepingCapacity: true)
        itemCount = 0
    }
}
