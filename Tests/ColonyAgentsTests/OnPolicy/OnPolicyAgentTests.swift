import XCTest
import ColonyAgents
import ColonyEnvironments
import ColonyNumerics

/// The agent contract, checked for each of ppo, a2c and impala.
final class OnPolicyAgentTests: XCTestCase {
    static let algorithms = ["ppo", "a2c", "impala"]
    /// Short rollouts so that a few dozen steps span several updates.
    static let small: [String: [String: ConfigurationValue]] = [
        "ppo": ["n_steps": .int(8), "batch_size": .int(16), "n_epochs": .int(2)],
        "a2c": ["n_steps": .int(5)],
        "impala": ["unroll_length": .int(6), "policy_lag": .int(2)],
    ]

    func testRegistryListsTheFamilyWithDocumentedKeys() throws {
        for id in Self.algorithms {
            XCTAssertTrue(Agents.list().contains(id))
            let schema = try Agents.schema(id)
            for name in ["num_envs", "hidden_sizes", "learning_rate", "gamma", "max_grad_norm", "ent_coef", "vf_coef"] {
                XCTAssertNotNil(schema.key(name), "\(id) lacks \(name)")
            }
            for key in schema.keys { XCTAssertFalse(key.help.isEmpty, "\(id).\(key.name) has no help") }
        }
    }

    /// Eval mode acts deterministically and changes nothing: no update, no stored data, no frames,
    /// no draw from the training RNG. An agent that evaluated in the middle of training continues
    /// exactly like its twin that did not.
    func testEvalModeMakesNoUpdatesAndLeavesTrainingUntouched() throws {
        for id in Self.algorithms {
            let (agent, vector) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 4, seed: 21, overrides: Self.small[id]!)
            let (twin, twinVector) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 4, seed: 21, overrides: Self.small[id]!)
            let actions = try OnPolicyTesting.drive(agent, on: vector, from: agent.reset(observations: vector.observations), steps: 13).actions
            let twinActions = try OnPolicyTesting.drive(twin, on: twinVector, from: twin.reset(observations: twinVector.observations), steps: 13).actions
            let (parameters, frames, updates) = (OnPolicyTesting.parameters(agent), agent.frames, agent.networks.updates)

            // Evaluate through the runner (eval-mode reset and steps on other environments) ...
            let returns = try AgentRunner.evaluate(agent, environment: "CartPole-v1", episodes: 4, seed: 5)
            XCTAssertEqual(returns.count, 4)
            // ... and by hand: many steps, which in train mode would have completed several rollouts.
            agent.mode = .eval
            let evaluation = try LocalVectorEnvironment(id: "CartPole-v1", count: 4, seed: 8)
            var evalActions = agent.reset(observations: evaluation.observations)
            for _ in 0..<40 {
                let step = try OnPolicyTesting.drive(agent, on: evaluation, from: evalActions, steps: 1)
                XCTAssertTrue(step.outputs[0].info.isEmpty, "\(id) reported an update in eval mode")
                evalActions = step.actions
            }
            // Deterministic: the same observations give the same actions.
            XCTAssertEqual(agent.reset(observations: evaluation.observations), agent.reset(observations: evaluation.observations))
            agent.mode = .train

            XCTAssertTrue(OnPolicyTesting.parameters(agent) == parameters, "\(id) changed parameters in eval mode")
            XCTAssertEqual(agent.frames, frames, "\(id) counted eval frames")
            XCTAssertEqual(agent.networks.updates, updates)
            let continued = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 17)
            let twinContinued = try OnPolicyTesting.drive(twin, on: twinVector, from: twinActions, steps: 17)
            XCTAssertEqual(continued.outputs.map(\.actions), twinContinued.outputs.map(\.actions), id)
            XCTAssertTrue(zip(continued.outputs, twinContinued.outputs).allSatisfy { OnPolicyTesting.same($0.info, $1.info) }, id)
            XCTAssertTrue(OnPolicyTesting.parameters(agent) == OnPolicyTesting.parameters(twin), id)
            XCTAssertGreaterThan(agent.networks.updates, updates, "\(id) should have trained after eval")
        }
    }

    /// Train k frames (stopping mid-rollout) → save → continue; a fresh agent restored from the file
    /// and fed the same continuation answers bit-identically, updates included.
    func testCheckpointResumesBitIdentically() throws {
        let cases: [(id: String, environment: String, overrides: [String: ConfigurationValue])] = [
            ("ppo", "CartPole-v1", Self.small["ppo"]!),
            ("a2c", "CartPole-v1", Self.small["a2c"]!),
            ("impala", "CartPole-v1", Self.small["impala"]!),
            ("ppo", "Pendulum-v1", Self.small["ppo"]!.merging(
                ["normalize_observations": .bool(true), "normalize_rewards": .bool(true), "clip_range_vf": .double(0.5)]) { $1 }),
            ("impala", "Acrobot-v1", Self.small["impala"]!.merging(["normalize_observations": .bool(true)]) { $1 }),
        ]
        for (id, environment, overrides) in cases {
            let label = "\(id) on \(environment)"
            let (agent, vector) = try OnPolicyTesting.makeAgent(id, environment: environment, environments: 3, seed: 31, overrides: overrides)
            let actions = try OnPolicyTesting.drive(agent, on: vector, from: agent.reset(observations: vector.observations), steps: 27).actions
            let path = OnPolicyTesting.temporaryPath(id)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try AgentCheckpoint.save(agent, to: path)
            let continued = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 40)
            XCTAssertTrue(continued.outputs.contains { !$0.info.isEmpty }, "\(label): the continuation should include updates")

            let (restored, _) = try OnPolicyTesting.makeAgent(id, environment: environment, environments: 3, seed: 31, overrides: overrides)
            try AgentCheckpoint.load(restored, from: path)
            XCTAssertEqual(restored.frames, 27 * 3, label)
            for (input, expected) in zip(continued.inputs, continued.outputs) {
                let output = OnPolicyTesting.replay(input, into: restored)
                XCTAssertEqual(output.actions, expected.actions, label)
                XCTAssertTrue(OnPolicyTesting.same(output.info, expected.info), "\(label): \(output.info) ≠ \(expected.info)")
            }
            XCTAssertTrue(OnPolicyTesting.parameters(restored) == OnPolicyTesting.parameters(agent), label)
        }
    }

    func testLoadingIntoADifferentlyShapedAgentThrows() throws {
        for id in Self.algorithms {
            let (agent, vector) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 2, seed: 1, overrides: Self.small[id]!)
            _ = try OnPolicyTesting.drive(agent, on: vector, from: agent.reset(observations: vector.observations), steps: 3)
            let path = OnPolicyTesting.temporaryPath(id)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try AgentCheckpoint.save(agent, to: path)
            let wider = Self.small[id]!.merging(["hidden_sizes": .intList([32, 32])]) { $1 }
            let (other, _) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 2, seed: 1, overrides: wider)
            XCTAssertThrowsError(try AgentCheckpoint.load(other, from: path), id)
            let (moreEnvironments, _) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 3, seed: 1, overrides: Self.small[id]!)
            XCTAssertThrowsError(try AgentCheckpoint.load(moreEnvironments, from: path), id)
        }
    }

    /// A train-mode step that follows eval-mode acting (no reset in between) counts its frames and
    /// starts a rollout from its observations instead of recording a transition it never acted for.
    func testTrainStepWithoutAnOpenStepStartsTheRollout() throws {
        for id in Self.algorithms {
            let (agent, vector) = try OnPolicyTesting.makeAgent(id, environment: "CartPole-v1", environments: 2, seed: 4, overrides: Self.small[id]!)
            agent.mode = .eval
            let actions = agent.reset(observations: vector.observations)
            agent.mode = .train
            let first = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 1)
            XCTAssertEqual(agent.frames, 2, id)
            XCTAssertEqual(agent.rollout.stepCount, 0, id)
            XCTAssertTrue(agent.rollout.isStepOpen, id)
            _ = try OnPolicyTesting.drive(agent, on: vector, from: first.actions, steps: 1)
            XCTAssertEqual(agent.frames, 4, id)
            XCTAssertEqual(agent.rollout.stepCount, 1, id)
        }
    }

    /// Spaces no network can use are refused with one line that names the algorithm.
    func testUnsupportedSpacesThrowOneClearLine() {
        let spaces: [(observation: Space, action: Space)] = [
            (.box(low: -1, high: 1, count: 4), .box(low: [], high: [])),
            (.box(low: [], high: []), .discrete(2)),
        ]
        for id in Self.algorithms {
            for (observation, action) in spaces {
                XCTAssertThrowsError(try Agents.makeParallel(id, observationSpace: observation, actionSpace: action, environments: 2, seed: 1)) { error in
                    let message = "\(error)"
                    XCTAssertTrue(error is AgentError, "\(id): \(message)")
                    XCTAssertTrue(message.hasPrefix(id), message)
                    XCTAssertFalse(message.contains("\n"), message)
                }
            }
        }
    }

    /// Discrete observations are one-hot encoded; Box actions work for every algorithm (shared head).
    func testDiscreteObservationsAndBoxActionsTrain() throws {
        for id in Self.algorithms {
            for environment in ["CliffWalking-v1", "Pendulum-v1"] {
                let (agent, vector) = try OnPolicyTesting.makeAgent(id, environment: environment, environments: 2, seed: 3, overrides: Self.small[id]!)
                try AgentRunner.train(agent, on: vector, frames: 200, seed: 3)
                XCTAssertTrue(OnPolicyTesting.parameters(agent).allSatisfy(\.isFinite), "\(id) on \(environment)")
                XCTAssertGreaterThan(agent.networks.updates, 0, "\(id) on \(environment)")
            }
        }
    }

    /// Bootstrapping: V(x_{t+1}) is the next row's value inside an episode and the final
    /// observation's value where the episode was truncated.
    func testTrajectoryBatchSplitsValuesAtTruncations() throws {
        var batch = TrajectoryBatch(steps: 2, environments: 2, observationSize: 1, actionSize: 1)
        batch.truncated[1] = true  // step 0, environment 1
        batch.truncationIndices = [1]
        batch.truncationObservations = [7]
        batch.terminated[2] = true  // step 1, environment 0
        try batch.validate()
        XCTAssertEqual(batch.valueObservationCount, 7)
        // Values of x_0 (2 rows), x_1 (2 rows), x_2 (2 rows), then the truncated episode's last observation.
        let split = batch.splitValues([10, 11, 20, 21, 30, 31, 99])
        XCTAssertEqual(split.values, [10, 11, 20, 21])
        XCTAssertEqual(split.nextValues, [20, 99, 30, 31])
        XCTAssertEqual(batch.ended, [false, true, true, false])
        batch.truncationIndices = [4]
        XCTAssertThrowsError(try batch.validate())
    }
}
