import ColonyEnvironments
import ColonyNumerics
import XCTest
@testable import ColonyAgents

final class DistributedAlgorithmsTests: XCTestCase {
    private func setup(_ id: String, environment: String = "CartPole-v1", count: Int = 2) throws -> DistributedSetup {
        let algorithm = try DistributedAlgorithms.lookup(id)
        let probe = try Environments.make(environment, seed: 0)
        let schema = try Agents.schema(algorithm.agent)
        return DistributedSetup(
            configuration: try schema.resolve(schema.key("num_envs") != nil ? ["num_envs": .int(count)] : [:]),
            environment: environment, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace,
            environmentsPerWorker: count, frames: 10_000, seed: 5)
    }

    func testBuiltInsAreRegisteredWithTheirAgentsAndDataFlows() throws {
        // Other tests may register more; the built-ins are always there.
        XCTAssertTrue(Set(["a3c", "apex_dqn", "apex_sac", "impala"]).isSubset(of: DistributedAlgorithms.list()))
        let flows = Dictionary(uniqueKeysWithValues: DistributedAlgorithms.all().map { ($0.id, ($0.agent, $0.dataFlow, $0.replaySampling)) })
        XCTAssertEqual(flows["impala"]?.0, "impala")
        XCTAssertEqual(flows["impala"]?.1, .trajectories)
        XCTAssertEqual(flows["a3c"]?.0, "a2c")
        XCTAssertEqual(flows["a3c"]?.1, .gradients)
        XCTAssertEqual(flows["apex_dqn"]?.0, "dqn")
        XCTAssertEqual(flows["apex_dqn"]?.2, .prioritized(alphaKey: "priority_alpha"))
        XCTAssertEqual(flows["apex_sac"]?.0, "sac")
        XCTAssertEqual(flows["apex_sac"]?.2, .uniform)
        for algorithm in DistributedAlgorithms.all() {
            XCTAssertNoThrow(try Agents.schema(algorithm.agent), "\(algorithm.id) uses an unregistered agent's schema")
            XCTAssertFalse(algorithm.summary.isEmpty)
        }
    }

    func testAnUnknownIdNamesTheClosestAlgorithm() {
        XCTAssertThrowsError(try DistributedAlgorithms.lookup("impla")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'impala'?"), "\(error)")
        }
    }

    func testARegisteredAlgorithmIsListedAndBuilt() throws {
        let impala = try DistributedAlgorithms.lookup("impala")
        DistributedAlgorithms.register(DistributedAlgorithm(
            id: "impala_copy", agent: "impala", summary: "a copy", dataFlow: .trajectories,
            makeLearner: impala.makeLearner, makeActor: impala.makeActor))
        XCTAssertTrue(DistributedAlgorithms.list().contains("impala_copy"))
        XCTAssertTrue(try DistributedAlgorithms.lookup("impala_copy").makeLearner(try setup("impala")) is any TrajectoryLearner)
    }

    /// The A3C learner's networks are A2C's, built from the run's seed (as the single-process agent's).
    func testTheA3CLearnerStartsFromA2CsNetworks() throws {
        let setup = try setup("a3c")
        let learner = try DistributedAlgorithms.lookup("a3c").makeLearner(setup)
        let a2c = try A2C(configuration: setup.configuration, context: setup.learnerContext)
        XCTAssertEqual(learner.actingParameters, a2c.networks.flatParameters)
        XCTAssertTrue(learner is any GradientLearner)
    }

    /// On-policy actors put one output per full unroll into their sink and nothing in between.
    func testOnPolicyActorsPutEachFullUnrollIntoTheirSink() throws {
        for id in ["impala", "a3c"] {
            let setup = try setup(id)
            guard let actor = try DistributedAlgorithms.lookup(id).makeActor(setup, ActorSlot(index: 0, actors: 1, seed: 9)) as? RemoteRolloutAgent else {
                return XCTFail("\(id)'s actor collects no rollouts")
            }
            let length = actor.rollout.batch.steps
            let environments = try VectorEnvironments.make(id: "CartPole-v1", count: 2, seed: 3)
            var actions = actor.reset(observations: environments.observations)
            var outputs: [ActorOutput] = []
            for step in 1...(2 * length) {
                try environments.step(actions)
                actions = actor.step(
                    observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                    truncated: environments.truncated, finalObservations: environments.finalObservations).actions
                let drained = actor.outputs.drain()
                XCTAssertEqual(drained.count, step % length == 0 ? 1 : 0, "\(id) step \(step)")
                outputs += drained
            }
            XCTAssertEqual(outputs.count, 2)
            for output in outputs {
                switch (id, output) {
                case ("impala", .trajectory(let batch)):
                    XCTAssertEqual(batch.steps, length)
                    XCTAssertNoThrow(try IMPALALearner(configuration: setup.configuration, context: setup.learnerContext).validate(batch))
                case ("a3c", .gradient(let gradient, let frames)):
                    XCTAssertEqual(gradient.count, actor.parameterCount)
                    XCTAssertEqual(frames, 2 * length)
                    XCTAssertTrue(gradient.contains { $0 != 0 })
                default: XCTFail("\(id) produced \(output)")
                }
            }
        }
    }

    func testReplayActorsReportTheirExploration() throws {
        let dqn = try setup("apex_dqn")
        let actors = try (0..<3).map { try DistributedAlgorithms.lookup("apex_dqn").makeActor(dqn, ActorSlot(index: $0, actors: 3, seed: 1)) as? any ReplayActor }
        XCTAssertEqual(actors.map { $0?.explorationRate }, (0..<3).map { apeXEpsilon(actor: $0, actors: 3) })
        XCTAssertEqual(actors[0]?.nStep, dqn.configuration.int("n_step"))
        let sac = try setup("apex_sac", environment: "Pendulum-v1")
        let actor = try DistributedAlgorithms.lookup("apex_sac").makeActor(sac, ActorSlot(index: 0, actors: 1, seed: 1)) as? any ReplayActor
        XCTAssertNil(actor?.explorationRate)
        XCTAssertEqual(actor?.nStep, 1)
    }

    func testReplayActorsWriteFullBatchesOfNStepTransitionsWithPrioritiesToTheirSink() throws {
        let setup = try setup("apex_dqn")
        guard let actor = try DistributedAlgorithms.lookup("apex_dqn").makeActor(setup, ActorSlot(index: 0, actors: 1, seed: 2)) as? any ReplayActor else {
            return XCTFail("apex_dqn's actor is not a replay actor")
        }
        let environments = try VectorEnvironments.make(id: "CartPole-v1", count: 2, seed: 4)
        let layout = TransitionLayout(observationSize: setup.observationSize, actionSize: setup.actionSize)
        let sink = ActorSink<PrioritizedTransitions>()
        let writer = TransitionWriter(actor: actor, layout: layout, gamma: 0.99, environments: 2, batchSize: 16, sink: sink)
        var observations = environments.observations
        var batches: [PrioritizedTransitions] = []
        for _ in 0..<200 {
            let (actions, stored) = actor.act(observations, count: 2)
            XCTAssertEqual(stored.count, 2 * layout.actionSize)
            try environments.step(actions)
            writer.observe(from: observations, stored: stored, environments: environments)
            observations = environments.observations
            batches += sink.drain()
        }
        // 400 steps give about 400 n-step transitions (the last n − 1 of each open episode still wait).
        XCTAssertGreaterThanOrEqual(batches.count, (400 - 2 * actor.nStep) / 17)
        for batch in batches {
            XCTAssertGreaterThanOrEqual(batch.count, 16, "a batch is put only when full")
            XCTAssertEqual(batch.items.count, batch.count * layout.itemSize)
            XCTAssertTrue(batch.priorities.allSatisfy { $0.isFinite && $0 > 0 }, "Ape-X's initial priorities are |TD error| + ε")
            let discounts = (0..<batch.count).map { batch.items[($0 + 1) * layout.itemSize - 1] }
            XCTAssertTrue(discounts.allSatisfy { $0 >= 0 && $0 <= 1 })
            XCTAssertTrue(discounts.contains { $0 > 0 }, "most n-step transitions bootstrap")
        }
        writer.clear()
        XCTAssertTrue(sink.drain().isEmpty)
    }
}
