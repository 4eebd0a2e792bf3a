import Foundation
import XCTest
import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import ColonyAgents

/// Helpers shared by the value-based tests.
enum ValueBasedTestSupport {
    /// A resolved dqn or q_learning agent on `environment`'s spaces.
    static func agent(_ id: String, environment: String, environments: Int = 1, seed: UInt64, _ overrides: [String: ConfigurationValue] = [:]) throws -> any ParallelAgent {
        let probe = try Environments.make(environment, seed: 0)
        return try Agents.makeParallel(
            id, observationSpace: probe.observationSpace, actionSpace: probe.actionSpace, environments: environments, seed: seed,
            overrides: overrides)
    }

    /// Steps `agent` on `environments` for `frames` frames starting from `actions` (no reset), and
    /// returns the next actions, the finished episodes' returns and the step infos.
    @discardableResult
    static func drive(
        _ agent: any ParallelAgent, on environments: VectorEnvironment, frames: Int, from actions: [Action]
    ) throws -> (actions: [Action], returns: [Double], infos: [AgentInfo]) {
        var actions = actions
        var returns: [Double] = []
        var infos: [AgentInfo] = []
        var taken = 0
        while taken < frames {
            try environments.step(actions)
            taken += environments.count
            let step = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations)
            actions = step.actions
            if !step.info.isEmpty { infos.append(step.info) }
            returns += environments.completedEpisodes.map(\.episodeReturn)
        }
        return (actions, returns, infos)
    }

    /// Trains `agent` in chunks of `every` frames and evaluates 20 greedy episodes after each
    /// (SB3's EvalCallback with a reward threshold), stopping at the first mean ≥ `threshold` or after
    /// `budget` frames. Returns the frames trained when the threshold was met (nil: never) and the means.
    /// `maxEpisodeSteps` caps evaluation episodes (CliffWalking has no time limit, and a half-trained
    /// greedy policy can walk in circles forever).
    static func framesToThreshold(
        _ agent: any ParallelAgent, environment id: String, seed: UInt64, threshold: Double, budget: Int, every: Int,
        maxEpisodeSteps: Int? = nil
    ) throws -> (frames: Int?, means: [Double]) {
        let environments = try LocalVectorEnvironment(id: id, count: agent.environmentCount, seed: seed)
        agent.mode = .train
        var actions = agent.reset(observations: environments.observations)
        var means: [Double] = []
        var trained = 0
        while trained < budget {
            actions = try drive(agent, on: environments, frames: every, from: actions).actions
            trained += every
            let returns = try evaluate(agent, environment: id, episodes: 20, seed: 1_000 + seed, maxEpisodeSteps: maxEpisodeSteps)
            means.append(returns.reduce(0, +) / Double(returns.count))
            if means.last! >= threshold { return (trained, means) }
        }
        return (nil, means)
    }

    /// `AgentRunner.evaluate`, optionally on environments with a time limit of `maxEpisodeSteps`.
    static func evaluate(_ agent: any ParallelAgent, environment id: String, episodes: Int, seed: UInt64, maxEpisodeSteps: Int?) throws -> [Double] {
        guard let maxEpisodeSteps else { return try AgentRunner.evaluate(agent, environment: id, episodes: episodes, seed: seed) }
        precondition(agent.environmentCount == 1, "the capped evaluation drives one environment")
        let previous = agent.mode
        agent.mode = .eval
        defer { agent.mode = previous }
        let environment = try Environments.make(id, seed: 0)
        environment.maxEpisodeSteps = maxEpisodeSteps
        let environments = LocalVectorEnvironment(environments: [environment], seed: seed)
        var actions = agent.reset(observations: environments.observations)
        var returns: [Double] = []
        while returns.count < episodes {
            try environments.step(actions)
            actions = agent.step(
                observations: environments.observations, rewards: environments.rewards, terminated: environments.terminated,
                truncated: environments.truncated, finalObservations: environments.finalObservations).actions
            returns += environments.completedEpisodes.map(\.episodeReturn)
        }
        return returns
    }

    /// A fresh temporary file path ending in `.h5`, removed at the end of the test.
    static func temporaryPath(_ testCase: XCTestCase, _ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("colony-valuebased-\(UUID().uuidString)-\(name).h5").path
        testCase.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Writes `body`'s checkpoint entries to a temporary HDF5 file and returns a reader of it.
    static func roundTrip(_ testCase: XCTestCase, _ body: (CheckpointWriter) throws -> Void) throws -> CheckpointReader {
        let path = temporaryPath(testCase, "entries")
        let file = try HDF5File.create(path)
        try body(CheckpointWriter(file: file))
        file.close()
        return CheckpointReader(file: try HDF5File.open(path))
    }
}

/// |a − e| ≤ absolute + relative · max(|a|, |e|) for every element.
func assertClose(
    _ actual: [Float], _ expected: [Float], absolute: Float, relative: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "counts differ \(message)", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= absolute + relative * max(abs(a), abs(e))) {
        XCTFail("element \(index): \(a) vs expected \(e) \(message)", file: file, line: line)
        return
    }
}
