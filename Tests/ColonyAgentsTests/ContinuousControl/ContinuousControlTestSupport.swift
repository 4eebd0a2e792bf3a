import Foundation
import XCTest
import ColonyEnvironments
import ColonyNumerics
@testable import ColonyAgents

/// Shared fixtures of the continuous-control tests.
enum ContinuousControlFixtures {
    static let algorithms = ["sac", "td3", "ddpg"]
    static let pendulumObservations: Space = .box(low: [-1, -1, -8], high: [1, 1, 8])
    static let pendulumActions: Space = .box(low: [-2], high: [2])

    /// Small networks and an early start, so that a few hundred frames include updates.
    static let quickOverrides: [String: ConfigurationValue] = [
        "hidden_sizes": .intList([16, 16]), "batch_size": .int(32), "learning_starts": .int(64),
    ]

    static func pendulumAgent(
        _ id: String, environments: Int = 1, seed: UInt64 = 1, overrides: [String: ConfigurationValue] = quickOverrides
    ) throws -> any ParallelAgent {
        try Agents.makeParallel(
            id, observationSpace: pendulumObservations, actionSpace: pendulumActions, environments: environments, seed: seed,
            overrides: overrides)
    }

    /// A batch with random observations, squashed actions in (−1, 1), rewards, and discounts of γ or 0.
    static func randomBatch(count: Int, observationSize: Int, actionSize: Int, seed: UInt64) -> TransitionBatch {
        var rng = RandomSource(seed: seed)
        var batch = TransitionBatch(count: count, observationSize: observationSize, actionSize: actionSize)
        batch.observations = (0..<(count * observationSize)).map { _ in rng.normal() }
        batch.nextObservations = (0..<(count * observationSize)).map { _ in rng.normal() }
        batch.actions = (0..<(count * actionSize)).map { _ in rng.uniform(-0.9, 0.9) }
        batch.rewards = (0..<count).map { _ in rng.normal() }
        batch.discounts = (0..<count).map { row in row % 3 == 2 ? 0 : 0.99 }
        return batch
    }

    /// A snapshot of everything a learner updates: parameters of the actor, critics and targets.
    static func parameters(of agent: any ParallelAgent) -> [[Float]] {
        switch agent {
        case let sac as SAC:
            return [sac.learner.actor.model.parameters] + critics(sac.learner.critics) + [sac.learner.logAlpha!.model.parameters]
        case let td3 as TD3:
            return [td3.learner.actor.model.parameters, td3.learner.actor.target!.parameters] + critics(td3.learner.critics)
        case let ddpg as DDPG:
            return [ddpg.learner.actor.model.parameters, ddpg.learner.actor.target!.parameters] + critics(ddpg.learner.critics)
        default:
            XCTFail("not a continuous-control agent: \(agent.id)")
            return []
        }
    }

    private static func critics(_ critics: QCritics) -> [[Float]] {
        critics.members.flatMap { [$0.model.parameters, $0.target!.parameters] }
    }

    /// Central finite difference (f(x + h) − f(x − h)) / 2h, evaluated in Double.
    static func centralDifference(step: Float, _ f: (Float) -> Float) -> Double {
        (Double(f(step)) - Double(f(-step))) / (2 * Double(step))
    }

    /// Trains `id` at its default configuration for `frames` frames on one Pendulum-v1 and asserts the
    /// mean return of 10 deterministic evaluation episodes is at least −200.
    /// With `environment`, Pendulum is that one (`gym:Pendulum-v1`, served by a Python environment host) for
    /// training and evaluation alike.
    static func assertSolvesPendulum(
        _ id: String, frames: Int, seed: UInt64, environment: EnvironmentSettings = EnvironmentSettings(id: "Pendulum-v1"),
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let agent = try pendulumAgent(id, seed: seed, overrides: [:])
        try AgentRunner.train(agent, on: VectorEnvironments.make(environment, count: 1, seed: seed), frames: frames, seed: seed)
        let returns = try AgentRunner.evaluate(agent, environment: environment, episodes: 10, seed: 100 + seed)
        let mean = returns.reduce(0, +) / Double(returns.count)
        XCTAssertGreaterThanOrEqual(mean, -200, "\(id) mean evaluation return \(mean) after \(frames) frames", file: file, line: line)
    }

    /// One input row through `network` with `forwardSingle`: the reference the batched paths are checked against.
    static func forwardSingle(_ network: any Network, _ input: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: network.outputSize)
        input.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { network.forwardSingle(x, into: $0) } }
        return output
    }

    static func storedTransitions(_ agent: any ParallelAgent) -> Int {
        (agent as! any OffPolicyContinuousAgent).driver.replay.count
    }

    /// Steps `agent` on `environments` for `frames` frames starting with `actions`. Returns the actions
    /// applied to the environments at each step, the flattened actions the agent chose, and the
    /// actions to apply next.
    static func drive(
        _ agent: any ParallelAgent, on environments: VectorEnvironment, from actions: [Action], frames: Int
    ) throws -> (applied: [[Action]], trace: [Float], next: [Action]) {
        var actions = actions
        var applied: [[Action]] = []
        var trace: [Float] = []
        var taken = 0
        while taken < frames {
            try environments.step(actions)
            applied.append(actions)
            taken += environments.count
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations).actions
            trace += actions.flatMap(\.encoded)
        }
        return (applied, trace, actions)
    }
}
