import XCTest
import ColonyEnvironments
import ColonyNumerics
import ColonyAgents

final class ValueBasedDQNTests: XCTestCase {
    /// A small, frequently training configuration for the mechanics tests.
    private let quick: [String: ConfigurationValue] = [
        "hidden_sizes": .intList([32, 32]), "batch_size": .int(32), "learning_starts": .int(200), "train_freq": .int(16),
        "gradient_steps": .int(4), "target_update_interval": .int(40), "total_frames": .int(2_000), "buffer_size": .int(5_000),
    ]

    private func dqn(_ overrides: [String: ConfigurationValue] = [:], environments: Int = 1, seed: UInt64 = 7) throws -> DQN {
        try ValueBasedTestSupport.agent("dqn", environment: "CartPole-v1", environments: environments, seed: seed, quick.merging(overrides) { _, new in new }) as! DQN
    }

    func testContinuousActionSpacesAreRefusedInOneLine() {
        let box = Space.box(low: -1, high: 1, count: 1)
        XCTAssertThrowsError(try Agents.makeParallel("dqn", observationSpace: .box(low: -1, high: 1, count: 3), actionSpace: box, environments: 1, seed: 0)) { error in
            XCTAssertEqual((error as? AgentError)?.message, "dqn needs a discrete action space; the environment has \(box)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testRegistrationAndSchema() throws {
        XCTAssertTrue(Agents.list().contains("dqn"))
        let defaults = try Agents.defaultConfiguration("dqn")
        XCTAssertEqual(defaults.double("learning_rate"), 2.3e-3)
        XCTAssertEqual(defaults.int("gradient_steps"), 128)
        XCTAssertEqual(defaults.intList("hidden_sizes"), [256, 256])
        for key in ["num_envs", "hidden_sizes", "learning_rate", "gamma", "double_q", "dueling", "n_step", "prioritized_replay",
                    "priority_alpha", "priority_beta_start", "priority_beta_end", "buffer_size", "batch_size", "learning_starts",
                    "train_freq", "gradient_steps", "target_update_interval", "exploration_fraction", "exploration_initial_eps",
                    "exploration_final_eps", "max_grad_norm", "total_frames", "loss"] {
            XCTAssertNotNil(DQN.schema.key(key), key)
        }
        XCTAssertThrowsError(try Agents.makeParallel("dqn", observationSpace: .box(low: -1, high: 1, count: 4), actionSpace: .discrete(2), environments: 1, seed: 0, overrides: ["loss": .string("l1")]))
    }

    /// n-step transitions in the buffer equal a naive reference computed from the raw stream, across
    /// terminations, truncations (bootstrapped with γ^m from the final observation) and two environments.
    func testNStepTransitionsMatchNaiveReference() throws {
        let n = 3, gamma: Float = 0.9
        let agent = try DQN(
            configuration: DQN.schema.resolve(["n_step": .int(n), "gamma": .double(Double(gamma)), "learning_starts": .int(1_000_000), "hidden_sizes": .intList([8])]),
            context: AgentContext(observationSpace: .box(low: -1e9, high: 1e9, count: 2), actionSpace: .discrete(3), environmentCount: 2, seed: 1))
        // Episode ends: env 0 terminates after its 5th step and truncates after 4 more; env 1 truncates after 7.
        let ends: [[Int: Bool]] = [[5: true, 9: false], [7: false]]  // step count → terminated?
        var rng = RandomSource(seed: 3)
        var counter: Float = 0
        func freshObservation(_ env: Int) -> [Float] { counter += 1; return [Float(env), counter] }
        var current = [freshObservation(0), freshObservation(1)]
        var actions = agent.reset(observations: current.flatMap { $0 })
        // Raw log per environment and episode: (s, a, r, s′).
        var episodes: [[[(s: [Float], a: Float, r: Float, next: [Float])]]] = [[[]], [[]]]
        var finished: [[Bool?]] = [[], []]  // per env, per finished episode: terminated?
        for t in 1...12 {
            var rewards: [Double] = [], terminated: [Bool] = [], truncated: [Bool] = [], finals: [[Float]?] = []
            var next: [[Float]] = []
            for env in 0..<2 {
                let reward = Double(rng.nextInt(below: 7)) - 3
                let observation = freshObservation(env)
                guard case .discrete(let a) = actions[env] else { return XCTFail("discrete actions expected") }
                episodes[env][episodes[env].count - 1].append((current[env], Float(a), Float(reward), observation))
                rewards.append(reward)
                if let end = ends[env][t] {
                    terminated.append(end); truncated.append(!end); finals.append(observation)
                    finished[env].append(end)
                    episodes[env].append([])
                    next.append(freshObservation(env))
                } else {
                    terminated.append(false); truncated.append(false); finals.append(nil)
                    next.append(observation)
                }
            }
            current = next
            actions = agent.step(observations: next.flatMap { $0 }, rewards: rewards, terminated: terminated, truncated: truncated, finalObservations: finals).actions
        }

        // Naive reference: window m = min(n, steps left); discount γ^m, or 0 when the window ends the
        // episode by termination; windows of the unfinished last episodes are still in flight.
        var expected: [[Float]] = []
        for env in 0..<2 {
            for (index, episode) in episodes[env].enumerated() {
                let done: Bool? = index < finished[env].count ? finished[env][index] : nil
                for t in episode.indices {
                    let m = min(n, episode.count - t)
                    if m < n && done == nil { continue }
                    var total: Float = 0, discount: Float = 1
                    for k in 0..<m { total += discount * episode[t + k].r; discount *= gamma }
                    let terminal = done == true && t + m == episode.count
                    expected.append(episode[t].s + [episode[t].a, total] + episode[t + m - 1].next + [terminal ? 0 : discount])
                }
            }
        }
        let reader = try ValueBasedTestSupport.roundTrip(self) { try agent.replay.save(to: $0) }
        let count = agent.replay.count
        let (o, a, r, no, d) = (try reader.floats("observations"), try reader.floats("actions"), try reader.floats("rewards"), try reader.floats("next_observations"), try reader.floats("discounts"))
        let stored = (0..<count).map { i in Array(o[(2 * i)..<(2 * i + 2)]) + [a[i], r[i]] + Array(no[(2 * i)..<(2 * i + 2)]) + [d[i]] }
        func key(_ row: [Float]) -> Float { row[1] }  // the first observation's unique counter
        XCTAssertEqual(stored.count, expected.count)
        for (s, e) in zip(stored.sorted { key($0) < key($1) }, expected.sorted { key($0) < key($1) }) {
            assertClose(s, e, absolute: 1e-5, relative: 1e-6, "transition from \(e[0...1])")
        }
    }

    /// NStepAccumulator's windows in flight survive a checkpoint: both copies emit the same afterwards.
    func testNStepWindowsRoundTripThroughACheckpoint() throws {
        var original = NStepAccumulator(steps: 4, gamma: 0.9, environments: 2)
        let ignore: NStepAccumulator.Emit = { _, _, _, _, _ in }
        for t in 0..<6 {
            for env in 0..<2 {
                original.record(env: env, observation: [Float(t), Float(env)], action: [Float(env)], reward: Float(t + env), next: [Float(t + 1), Float(env)],
                                terminated: env == 1 && t == 3, truncated: false, emit: ignore)
            }
        }
        let reader = try ValueBasedTestSupport.roundTrip(self) { try original.save(to: $0) }
        var restored = NStepAccumulator(steps: 4, gamma: 0.9, environments: 2)
        try restored.restore(from: reader)
        var emitted: [[[Float]]] = [[], []]
        for (copy, accumulator) in [original, restored].enumerated() {
            var accumulator = accumulator
            for t in 6..<9 {
                for env in 0..<2 {
                    accumulator.record(env: env, observation: [Float(t), Float(env)], action: [Float(env)], reward: Float(t), next: [Float(t + 1), Float(env)],
                                       terminated: false, truncated: t == 8) { o, a, r, n, d in emitted[copy].append(Array(o) + Array(a) + [r] + Array(n) + [d]) }
                }
            }
        }
        XCTAssertEqual(emitted[0].count, 11, "6 from env 0 and 5 from env 1: full windows, then every window flushed at the truncation")
        XCTAssertEqual(emitted[0], emitted[1])
        var wrongShape = NStepAccumulator(steps: 3, gamma: 0.9, environments: 2)
        XCTAssertThrowsError(try wrongShape.restore(from: reader))
    }

    func testEvalModeMakesNoUpdatesAndLeavesTrainingUntouched() throws {
        let evaluated = try dqn(), twin = try dqn()
        let environmentsA = try LocalVectorEnvironment(id: "CartPole-v1", count: 1, seed: 3)
        let environmentsB = try LocalVectorEnvironment(id: "CartPole-v1", count: 1, seed: 3)
        var actionsA = evaluated.reset(observations: environmentsA.observations)
        var actionsB = twin.reset(observations: environmentsB.observations)
        actionsA = try ValueBasedTestSupport.drive(evaluated, on: environmentsA, frames: 500, from: actionsA).actions
        actionsB = try ValueBasedTestSupport.drive(twin, on: environmentsB, frames: 500, from: actionsB).actions

        let parameters = evaluated.learner.online.parameters, target = evaluated.learner.target.parameters
        let (frames, stored, updates) = (evaluated.frames, evaluated.replay.count, evaluated.learner.approximation.updates)
        XCTAssertGreaterThan(updates, 0)
        let returns = try AgentRunner.evaluate(evaluated, environment: "CartPole-v1", episodes: 3, seed: 99)
        XCTAssertEqual(returns.count, 3)
        XCTAssertEqual(evaluated.mode, .train, "evaluate restores the mode")
        XCTAssertEqual(evaluated.learner.online.parameters, parameters)
        XCTAssertEqual(evaluated.learner.target.parameters, target)
        XCTAssertEqual(evaluated.frames, frames)
        XCTAssertEqual(evaluated.replay.count, stored)
        XCTAssertEqual(evaluated.learner.approximation.updates, updates)
        XCTAssertEqual(try AgentRunner.evaluate(evaluated, environment: "CartPole-v1", episodes: 3, seed: 99), returns, "evaluation is deterministic")

        // Training continues exactly as if no evaluation had happened (RNG streams, last observations).
        let continuedA = try ValueBasedTestSupport.drive(evaluated, on: environmentsA, frames: 300, from: actionsA)
        let continuedB = try ValueBasedTestSupport.drive(twin, on: environmentsB, frames: 300, from: actionsB)
        XCTAssertEqual(continuedA.returns, continuedB.returns)
        XCTAssertEqual(continuedA.infos, continuedB.infos)
        XCTAssertEqual(evaluated.learner.online.parameters, twin.learner.online.parameters)
    }

    func testInfoTagsOnlyOnUpdateSteps() throws {
        let agent = try dqn()
        let environments = try LocalVectorEnvironment(id: "CartPole-v1", count: 1, seed: 1)
        var actions = agent.reset(observations: environments.observations)
        var updates = 0
        for frame in 1...400 {
            try environments.step(actions)
            let step = agent.step(observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                                  truncated: environments.truncated, finalObservations: environments.finalObservations)
            actions = step.actions
            let expectsUpdate = frame > 200 && frame % 16 == 0
            XCTAssertEqual(!step.info.isEmpty, expectsUpdate, "frame \(frame)")
            if expectsUpdate {
                updates += 1
                XCTAssertEqual(Set(step.info.scalars.keys), ["losses/td_loss", "losses/q_values", "charts/epsilon", "charts/learning_rate"])
                XCTAssertEqual(step.info["charts/learning_rate"]!, 2.3e-3, accuracy: 1e-9)
                XCTAssertEqual(step.info["charts/epsilon"]!, Double(1 - 0.96 * Float(frame) / 320).clamped(0.04), accuracy: 1e-5)
            }
        }
        XCTAssertEqual(agent.learner.approximation.updates, updates * 4)
    }

    /// Each option trains a few thousand frames without NaN; all four together too.
    func testEachOptionTrainsWithoutNaN() throws {
        let options: [(String, [String: ConfigurationValue])] = [
            ("double_q", ["double_q": .bool(true)]), ("dueling", ["dueling": .bool(true)]), ("n_step", ["n_step": .int(3)]),
            ("prioritized_replay", ["prioritized_replay": .bool(true)]), ("mse", ["loss": .string("mse")]),
            ("all", ["double_q": .bool(true), "dueling": .bool(true), "n_step": .int(3), "prioritized_replay": .bool(true)]),
        ]
        for (name, overrides) in options {
            let agent = try dqn(overrides.merging(["total_frames": .int(3_000)]) { _, new in new }, environments: 2)
            var infos: [AgentInfo] = []
            try AgentRunner.train(agent, on: LocalVectorEnvironment(id: "CartPole-v1", count: 2, seed: 2), frames: 3_000, seed: 2, onStep: { infos.append($0) })
            XCTAssertGreaterThan(infos.count, 100, name)
            XCTAssertTrue(infos.allSatisfy { $0.scalars.values.allSatisfy(\.isFinite) }, "\(name): non-finite loss or Q")
            XCTAssertTrue(agent.learner.online.parameters.allSatisfy(\.isFinite), "\(name): non-finite parameters")
        }
    }

    /// train k → save → continue m equals restore-into-a-fresh-agent → continue m, bit for bit.
    func testCheckpointResumesBitIdentically() throws {
        let variants: [(String, [String: ConfigurationValue], Int)] = [
            ("defaults", [:], 1),
            ("double+dueling+n_step, 2 envs", ["double_q": .bool(true), "dueling": .bool(true), "n_step": .int(3)], 2),
            ("prioritized", ["prioritized_replay": .bool(true)], 1),
        ]
        for (name, overrides, count) in variants {
            let path = ValueBasedTestSupport.temporaryPath(self, "dqn")
            let original = try dqn(overrides, environments: count)
            let environments = try LocalVectorEnvironment(id: "CartPole-v1", count: count, seed: 5)
            var actions = original.reset(observations: environments.observations)
            actions = try ValueBasedTestSupport.drive(original, on: environments, frames: 611, from: actions).actions
            try AgentCheckpoint.save(original, to: path)
            let expected = try ValueBasedTestSupport.drive(original, on: environments, frames: 700, from: actions)

            // The same environment continuation: replay the first part with a twin, then hand over.
            let twin = try dqn(overrides, environments: count)
            let replayed = try LocalVectorEnvironment(id: "CartPole-v1", count: count, seed: 5)
            var twinActions = twin.reset(observations: replayed.observations)
            twinActions = try ValueBasedTestSupport.drive(twin, on: replayed, frames: 611, from: twinActions).actions
            let restored = try dqn(overrides, environments: count, seed: 12345)  // the checkpoint replaces everything seeded
            try AgentCheckpoint.load(restored, from: path)
            let resumed = try ValueBasedTestSupport.drive(restored, on: replayed, frames: 700, from: twinActions)

            XCTAssertFalse(expected.infos.isEmpty, name)
            XCTAssertEqual(resumed.returns, expected.returns, name)
            XCTAssertEqual(resumed.infos, expected.infos, name)
            XCTAssertEqual(resumed.actions, expected.actions, name)
            XCTAssertEqual(restored.learner.online.parameters, original.learner.online.parameters, name)
            XCTAssertEqual(restored.frames, original.frames, name)
        }
    }

    /// A checkpoint of an agent that has seen nothing (empty replay, no n-step windows) restores too.
    func testFreshAgentCheckpointRoundTrips() throws {
        let overrides: [String: ConfigurationValue] = ["n_step": .int(3), "prioritized_replay": .bool(true)]
        let path = ValueBasedTestSupport.temporaryPath(self, "fresh")
        let original = try dqn(overrides)
        try AgentCheckpoint.save(original, to: path)
        let restored = try dqn(overrides, seed: 8)
        try AgentCheckpoint.load(restored, from: path)
        var infos: [[AgentInfo]] = []
        for agent in [original, restored] {
            let environments = try LocalVectorEnvironment(id: "CartPole-v1", count: 1, seed: 4)
            infos.append(try ValueBasedTestSupport.drive(agent, on: environments, frames: 400, from: agent.reset(observations: environments.observations)).infos)
        }
        XCTAssertFalse(infos[0].isEmpty)
        XCTAssertEqual(infos[0], infos[1])
    }

    func testLoadingIntoADifferentNetworkThrows() throws {
        let path = ValueBasedTestSupport.temporaryPath(self, "shape")
        let agent = try dqn()
        try AgentRunner.train(agent, on: LocalVectorEnvironment(id: "CartPole-v1", count: 1, seed: 1), frames: 300, seed: 1)
        try AgentCheckpoint.save(agent, to: path)
        XCTAssertThrowsError(try AgentCheckpoint.load(try dqn(["hidden_sizes": .intList([16])]), from: path)) { error in
            guard case .shapeMismatch = error as? CheckpointError else { return XCTFail("expected a shape mismatch, got \(error)") }
        }
    }
}

private extension Double {
    func clamped(_ low: Double) -> Double { Swift.max(self, low) }
}
