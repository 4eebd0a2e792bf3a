import XCTest
import ColonyAgents
import ColonyEnvironments
import ColonyNumerics
import ColonyTestSupport

final class OnPolicyPPOTests: XCTestCase {
    // MARK: Learning (fixed seeds, deterministic evaluation)

    /// rl-baselines3-zoo's CartPole-v1 threshold within its 100k-frame budget, at the default configuration.
    func testLearnsCartPoleWithin100kFrames() throws {
        let mean = try OnPolicyTesting.trainAndEvaluate("ppo", environment: "CartPole-v1", frames: 100_000, seed: 1)
        XCTAssertGreaterThanOrEqual(mean, 475)
    }

    /// The same run on Gymnasium's own CartPole-v1, served by Python environment hosts (docs/envhost.md):
    /// trained and evaluated through the hosts. Skipped where no Python with gymnasium exists.
    func testLearnsGymnasiumCartPoleThroughTheEnvironmentHostWithin100kFrames() throws {
        guard var settings = EnvironmentHostTesting.settings("gym:CartPole-v1") else { throw XCTSkip(EnvironmentHostTesting.missingPython) }
        // One host for the 8 environments: on a small machine it shares the cores with the learner, and
        // the host count does not change the run (each environment's seed comes from the vector's seed).
        settings.hosts = 1
        let mean = try OnPolicyTesting.trainAndEvaluate("ppo", environment: settings, frames: 100_000, seed: 1)
        XCTAssertGreaterThanOrEqual(mean, 475)
    }

    /// Pixels: Catch-v0's 1 × 10 × 5 uint8 images read by a convolutional encoder (auto: the IMPALA ResNet below
    /// 36 × 36, frames ÷255 inside it), 4 epochs a rollout. A random policy scores about −0.6; solved is +1.
    func testLearnsCatchFromPixelsWithAConvolutionalEncoder() throws {
        let mean = try OnPolicyTesting.trainAndEvaluate("ppo", environment: "Catch-v0", frames: 20_000, seed: 1, overrides: ["n_epochs": .int(4)])
        XCTAssertGreaterThanOrEqual(mean, 0.9)
    }

    /// Acrobot-v1 with rl-baselines3-zoo's Acrobot hyperparameters (16 envs, n_steps 256, GAE 0.94,
    /// γ 0.99, 4 epochs, batch 64, lr 3e-4 constant, VecNormalize of observations and rewards).
    func testLearnsAcrobotWithin200kFrames() throws {
        let mean = try OnPolicyTesting.trainAndEvaluate(
            "ppo", environment: "Acrobot-v1", frames: 200_000, seed: 1,
            overrides: [
                "num_envs": .int(16), "n_steps": .int(256), "gae_lambda": .double(0.94), "gamma": .double(0.99),
                "n_epochs": .int(4), "batch_size": .int(64), "learning_rate": .double(3e-4), "anneal_lr": .bool(false),
                "normalize_observations": .bool(true), "normalize_rewards": .bool(true),
            ])
        XCTAssertGreaterThanOrEqual(mean, -100)
    }

    // MARK: The loss gradient against finite differences

    func testClippedObjectiveAndClippedValueLossGradientMatchFiniteDifferences() throws {
        try checkGradient(actionSpace: .discrete(3))
    }

    func testGaussianPolicyGradientIncludingLogStdMatchesFiniteDifferences() throws {
        try checkGradient(actionSpace: .box(low: [-1, -2], high: [1, 2]))
    }

    /// One network with both heads: the policy's and the value's gradients meet in the shared layers.
    func testSharedTrunkGradientMatchesFiniteDifferences() throws {
        try checkGradient(actionSpace: .discrete(3), trunk: "shared")
        try checkGradient(actionSpace: .box(low: [-1, -2], high: [1, 2]), trunk: "shared")
    }

    /// A tiny minibatch where some ratios are clipped above, some below and some not, advantages of
    /// both signs, and values on both sides of the value clip; every parameter's analytic gradient
    /// from `accumulateGradients` must match the central difference of the loss it reports.
    private func checkGradient(actionSpace: Space, trunk: String = "separate") throws {
        let configuration = try PPO.schema.resolve([
            "trunk": .string(trunk),
            "hidden_sizes": .intList([6]), "clip_range": .double(0.2), "clip_range_vf": .double(0.3), "ent_coef": .double(0.05),
            "vf_coef": .double(0.5), "normalize_advantage": .bool(true), "log_std_init": .double(-0.3),
        ])
        let context = AgentContext(observationSpace: .box(low: -5, high: 5, count: 3), actionSpace: actionSpace, environmentCount: 1, seed: 3)
        let ppo = try PPO(configuration: configuration, context: context)
        let networks = ppo.networks
        XCTAssertEqual(networks.layout.rawValue, trunk)
        let count = 6
        var rng = RandomSource(seed: 11)
        let observations: [Float] = (0..<(count * 3)).map { _ in rng.uniform(-1.5, 1.5) }
        let distribution = networks.policy.distribution(observations: observations, count: count)
        let actions = distribution.sample(rng: &rng)
        let logProbs = distribution.logProb(actions: actions)
        let values = networks.values(observations: observations, count: count)
        // Ratios e^0 = 1 (inside), e^−0.5 ≈ 0.61 (below 1 − ε), e^0.5 ≈ 1.65 (above 1 + ε).
        let logRatioOffsets: [Float] = [0, 0.5, -0.5, 0.05, -0.5, 0.5]
        let minibatch = PPO.Minibatch(
            observations: observations, actions: actions,
            oldLogProbs: zip(logProbs, logRatioOffsets).map { $0 + $1 },
            advantages: [0.7, -1.2, 1.5, -0.4, -0.9, 0.8],
            returns: values.enumerated().map { $0.element + [0.9, -0.2, 0.6, -0.8, 0.1, 0.4][$0.offset] },
            oldValues: values.enumerated().map { $0.element + [0.5, -0.1, -0.5, 0.2, 0.05, -0.6][$0.offset] })

        networks.discardGradients()
        let terms = ppo.accumulateGradients(minibatch)
        XCTAssertGreaterThan(terms.clipFraction, 0.3, "the minibatch should exercise the clip")
        let analytic = networks.trainables.map(\.gradients)
        networks.discardGradients()

        func loss() -> Double {
            let value = Double(ppo.accumulateGradients(minibatch).total)
            networks.discardGradients()
            return value
        }
        let step: Float = 1e-2
        var checked = 0
        for (trainableIndex, trainable) in networks.trainables.enumerated() {
            for index in trainable.parameters.indices {
                let original = trainable.parameters[index]
                trainable.parameters[index] = original + step
                let plus = loss()
                trainable.parameters[index] = original - step
                let minus = loss()
                trainable.parameters[index] = original
                let numeric = (plus - minus) / Double(2 * step)
                let exact = Double(analytic[trainableIndex][index])
                XCTAssertEqual(exact, numeric, accuracy: 2e-3 + 0.03 * abs(numeric), "trainable \(trainableIndex), parameter \(index)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, networks.trainables.reduce(0) { $0 + $1.parameters.count })
        XCTAssertTrue(analytic.joined().contains { abs($0) > 1e-3 }, "the gradient should not vanish")
    }

    // MARK: Continuous actions

    func testBoxActionsAreSentClippedAndStoredUnclipped() throws {
        let (agent, vector) = try OnPolicyTesting.makeAgent(
            "ppo", environment: "Pendulum-v1", environments: 4, seed: 5, overrides: ["log_std_init": .double(1.5), "n_steps": .int(64)])
        var actions = agent.reset(observations: vector.observations)
        var sawClipping = false
        for _ in 0..<20 {
            for action in actions {
                guard case .continuous(let values) = action else { return XCTFail("expected a continuous action") }
                XCTAssertTrue(vector.actionSpace.contains(action), "\(values) leaves the Box")
            }
            let stored = agent.rollout.batch.actions[(agent.rollout.stepCount * 4)..<(agent.rollout.stepCount * 4 + 4)]
            sawClipping = sawClipping || stored.contains { abs($0) > 2 }
            actions = try OnPolicyTesting.drive(agent, on: vector, from: actions, steps: 1).actions
        }
        XCTAssertTrue(sawClipping, "with σ = e^1.5 some sampled actions exceed the bounds and are stored as sampled")
    }
}
