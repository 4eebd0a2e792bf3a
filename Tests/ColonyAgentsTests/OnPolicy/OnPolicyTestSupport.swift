import XCTest
import ColonyAgents
import ColonyEnvironments
import ColonyNumerics
import ColonyTestSupport

/// Shared helpers of the on-policy tests: building agents by registry id and driving them by hand.
enum OnPolicyTesting {
    /// An agent for `environment` with `environments` copies (default: the algorithm's num_envs).
    static func makeAgent(
        _ id: String, environment: String, environments: Int? = nil, seed: UInt64, overrides: [String: ConfigurationValue] = [:]
    ) throws -> (agent: any RolloutAgent, environments: VectorEnvironment) {
        try makeAgent(id, environment: EnvironmentSettings(id: environment), environments: environments, seed: seed, overrides: overrides)
    }

    /// `makeAgent` for any environment settings: a `gym:` id runs in Python environment hosts.
    static func makeAgent(
        _ id: String, environment settings: EnvironmentSettings, environments: Int? = nil, seed: UInt64, overrides: [String: ConfigurationValue] = [:]
    ) throws -> (agent: any RolloutAgent, environments: VectorEnvironment) {
        let configuration = try Agents.schema(id).resolve(overrides)
        let count = environments ?? configuration.int("num_envs")
        let vector = try VectorEnvironments.make(settings, count: count, seed: seed)
        let agent = try Agents.makeParallel(
            configuration, observationSpace: vector.observationSpace, actionSpace: vector.actionSpace, environments: count, seed: seed)
        return (try XCTUnwrap(agent as? any RolloutAgent), vector)
    }

    /// Trains with `AgentRunner.train` for `frames`, then returns the mean of 20 deterministic evaluation episodes.
    static func trainAndEvaluate(
        _ id: String, environment: String, frames: Int, seed: UInt64, overrides: [String: ConfigurationValue] = [:]
    ) throws -> Double {
        try trainAndEvaluate(id, environment: EnvironmentSettings(id: environment), frames: frames, seed: seed, overrides: overrides)
    }

    /// `trainAndEvaluate` for any environment settings; a `gym:` id trains and evaluates through Python environment hosts.
    static func trainAndEvaluate(
        _ id: String, environment settings: EnvironmentSettings, frames: Int, seed: UInt64, overrides: [String: ConfigurationValue] = [:]
    ) throws -> Double {
        let (agent, vector) = try makeAgent(id, environment: settings, seed: seed, overrides: overrides)
        try AgentRunner.train(agent, on: vector, frames: frames, seed: seed)
        XCTAssertGreaterThanOrEqual(agent.frames, frames)
        let returns = try AgentRunner.evaluate(agent, environment: settings, episodes: 20, seed: seed + 1000)
        XCTAssertEqual(returns.count, 20)
        return returns.reduce(0, +) / Double(returns.count)
    }

    /// What one vector step handed the agent.
    struct StepInput {
        var observations: [Float]
        var rewards: [Double]
        var terminated: [Bool]
        var truncated: [Bool]
        var finalObservations: [[Float]?]
    }

    /// Steps `vector` with `actions` and the agent `steps` times; returns what the agent was given,
    /// what it answered, and the actions to continue with.
    static func drive(
        _ agent: any ParallelAgent, on vector: VectorEnvironment, from actions: [Action], steps: Int
    ) throws -> (inputs: [StepInput], outputs: [ParallelAgentStep], actions: [Action]) {
        var actions = actions
        var inputs: [StepInput] = []
        var outputs: [ParallelAgentStep] = []
        for _ in 0..<steps {
            try vector.step(actions)
            let input = StepInput(
                observations: vector.observations, rewards: vector.rewards, terminated: vector.terminated,
                truncated: vector.truncated, finalObservations: vector.finalObservations)
            let output = replay(input, into: agent)
            inputs.append(input)
            outputs.append(output)
            actions = output.actions
        }
        return (inputs, outputs, actions)
    }

    static func replay(_ input: StepInput, into agent: any ParallelAgent) -> ParallelAgentStep {
        agent.step(
            observations: input.observations, rewards: input.rewards, terminated: input.terminated, truncated: input.truncated,
            finalObservations: input.finalObservations)
    }

    /// Every trainable parameter of the agent, in one vector.
    static func parameters(_ agent: any RolloutAgent) -> [Float] {
        agent.networks.trainables.flatMap(\.parameters)
    }

    /// Equal scalars bit for bit (NaN equals NaN).
    static func same(_ a: AgentInfo, _ b: AgentInfo) -> Bool {
        a.scalars.mapValues(\.bitPattern) == b.scalars.mapValues(\.bitPattern)
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("colony-onpolicy-\(name)-\(UUID().uuidString).h5").path
    }
}
