import ColonyEnvironments
import ColonyNumerics

/// The foundation issue's figures: CartPole steps/s (one environment, and 64 on one thread) and
/// MLP 4-64-64-2 tanh Adam updates/s at batch 256 and single-observation forwards/s.
struct FoundationBenchmarks {
    let options: BenchOptions

    func run() throws {
        let seconds = options.seconds
        let references = ReferenceScript(python: options.referencePython)
        let envReference = references.run(repositoryRoot + "/Benchmarks/reference/cartpole_steps.py", arguments: [String(seconds)])
        let torchReference = references.run(repositoryRoot + "/Benchmarks/reference/torch_mlp.py", arguments: [String(seconds)])

        let single = try Self.cartPoleSingle(seconds: seconds)
        let vector = try Self.cartPoleVector(count: 64, seconds: seconds)
        let (updates, forwards) = mlp(seconds: seconds)

        printTable(title: "Environments: CartPole-v1 steps per second (random actions, auto-reset, one thread)", rows: [
            BenchRow(name: "1 environment", unit: "steps/s", colony: single, referenceName: "gymnasium, 1 env",
                     reference: envReference.values["gymnasium_1"], goal: 50),
            BenchRow(name: "1 environment", unit: "steps/s", colony: single, referenceName: "EnvPool, 1 env",
                     reference: envReference.values["envpool_1"], goal: nil),
            BenchRow(name: "vector of 64", unit: "steps/s", colony: vector, referenceName: "EnvPool, 64 envs, 1 thread",
                     reference: envReference.values["envpool_64"], goal: 10),
        ], notes: envReference.notes)

        printTable(title: "Networks: MLP 4-64-64-2 (tanh), one thread", rows: [
            BenchRow(name: "Adam update, batch 256", unit: "updates/s", colony: updates, referenceName: "PyTorch",
                     reference: torchReference.values["torch_adam_updates"], goal: 5),
            BenchRow(name: "forward, 1 observation", unit: "forwards/s", colony: forwards, referenceName: "PyTorch (no_grad)",
                     reference: torchReference.values["torch_single_forwards"], goal: 50),
        ], notes: torchReference.notes)
    }

    /// One environment through the allocation-free core API, resetting when an episode ends.
    static func cartPoleSingle(seconds: Double) throws -> Double {
        let environment = try Environments.make("CartPole-v1", seed: 0)
        var rng = RandomSource(seed: 1)
        let actions = (0..<65_536).map { _ in Action.discrete(rng.nextInt(below: 2)) }
        var observation = [Float](repeating: 0, count: 4)
        var index = 0
        return try observation.withUnsafeMutableBufferPointer { buffer in
            environment.reset(seed: 0, observation: buffer)
            return try measureRate(seconds: seconds, roundSize: 10_000) {
                let outcome = try environment.step(actions[index & 0xFFFF], observation: buffer)
                index &+= 1
                if outcome.terminated || outcome.truncated { environment.reset(seed: nil, observation: buffer) }
            }
        }
    }

    /// `count` copies stepped together with auto-reset and episode bookkeeping.
    static func cartPoleVector(count: Int, seconds: Double) throws -> Double {
        let environments = try LocalVectorEnvironment(id: "CartPole-v1", count: count, seed: 0)
        var rng = RandomSource(seed: 2)
        let batches = (0..<64).map { _ in (0..<count).map { _ in rng.nextInt(below: 2) } }
        var index = 0
        return try measureRate(seconds: seconds, operationsPerCall: count, roundSize: 200) {
            try environments.step(discrete: batches[index & 63])
            index &+= 1
        }
    }

    /// A regression step like the PyTorch reference: forward, MSE gradient, backward, Adam.
    private func mlp(seconds: Double) -> (updates: Double, forwards: Double) {
        var rng = RandomSource(seed: 0)
        let network = MLP(sizes: [4, 64, 64, 2], hidden: .tanh, output: .identity, initialization: .torchLinearDefault, rng: &rng)
        var optimizer = Adam()
        let inputs = Tensor(shape: [256, 4], scalars: (0..<1024).map { _ in rng.normal() })
        let targets = Tensor(shape: [256, 2], scalars: (0..<512).map { _ in rng.normal() })
        let updates = measureRate(seconds: seconds, roundSize: 50) {
            network.zeroGradients()
            let outputs = network.forward(inputs)
            let gradient = (outputs - targets) * (2 / Float(outputs.count))
            network.backward(gradient)
            optimizer.step(network, learningRate: 1e-3)
        }
        var input: [Float] = [0.1, -0.2, 0.03, 0.4]
        var output: [Float] = [0, 0]
        let forwards = input.withUnsafeMutableBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                measureRate(seconds: seconds, roundSize: 10_000) {
                    network.forwardSingle(UnsafeBufferPointer(x), into: y)
                    x[0] = y[0] * 1e-3  // feed back so the work cannot be hoisted out of the loop
                }
            }
        }
        return (updates, forwards)
    }
}
