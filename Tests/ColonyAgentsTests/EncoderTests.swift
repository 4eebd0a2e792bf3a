import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyAgents

/// The `encoder` key: which network each agent builds for which observation space, and the errors for spaces a
/// convolutional encoder cannot read.
final class EncoderTests: XCTestCase {
    private let frames = Space.box(shape: [4, 84, 84], low: 0, high: 255, elementType: .uint8)

    private func policyNetwork(_ agent: String, _ space: Space, _ overrides: [String: ConfigurationValue] = [:]) throws -> any Network {
        // A small replay buffer: this test is about the network (the default 100k frames would be 5.6 GB of bytes).
        let configuration = try Agents.schema(agent).resolve(agent == "dqn" ? overrides.merging(["buffer_size": .int(100)]) { $1 } : overrides)
        let context = AgentContext(observationSpace: space, actionSpace: .discrete(6), environmentCount: 1, seed: 1)
        switch agent {
        case "ppo": return try PPO(configuration: configuration, context: context).networks.policy.network
        case "a2c": return try A2C(configuration: configuration, context: context).networks.policy.network
        default: return try DQN(configuration: configuration, context: context).learner.online.network
        }
    }

    func testAutoPicksTheNatureCNNForFramesAndTheMLPForVectors() throws {
        for agent in ["ppo", "a2c", "dqn"] {
            // The actor–critics' one network over frames has the value after the six policy outputs (trunk = auto).
            let heads = agent == "dqn" ? 0 : 1
            let nature = try XCTUnwrap(try policyNetwork(agent, frames) as? ConvolutionalNetwork, agent)
            XCTAssertEqual(nature.parameterCount, 1_687_206 + heads * 513, "\(agent): Nature CNN with 6 outputs")
            XCTAssertEqual(nature.inputScale, 1 / 255, "uint8 frames are read ÷255")
            XCTAssertTrue(try policyNetwork(agent, .box(low: -1, high: 1, count: 4)) is MLP, agent)
            // Below 36 × 36 auto reads the image with the IMPALA ResNet, which pads.
            XCTAssertTrue(try policyNetwork(agent, .box(shape: [1, 10, 5], low: 0, high: 255, elementType: .uint8)) is ResidualNetwork, agent)
            let impala = try XCTUnwrap(try policyNetwork(agent, frames, ["encoder": .string("impala_cnn")]) as? ResidualNetwork, agent)
            XCTAssertEqual(impala.parameterCount, 1_090_774 + heads * 257)
        }
        let dueling = try XCTUnwrap(try policyNetwork("dqn", frames, ["dueling": .bool(true)]) as? ConvolutionalNetwork)
        XCTAssertEqual(dueling.outputSize, 7, "V and six advantages")
    }

    /// trunk = auto: the policy and the critic share one convolutional network over images (CleanRL's Atari agent) and
    /// keep separate MLPs over vectors (SB3's MlpPolicy); either can be asked for.
    func testActorCriticsShareTheirTrunkOverImagesAndNotOverVectors() throws {
        let vectors = Space.box(low: -1, high: 1, count: 4)
        let context = { (space: Space) in AgentContext(observationSpace: space, actionSpace: .discrete(6), environmentCount: 1, seed: 1) }
        func networks(_ space: Space, _ trunk: String) throws -> ActorCritic {
            try PPO(configuration: try PPO.schema.resolve(["trunk": .string(trunk)]), context: context(space)).networks
        }
        for (space, trunk, layout, networkCount) in [(frames, "auto", ActorCritic.Layout.shared, 1), (vectors, "auto", .separate, 2),
                                                     (frames, "separate", .separate, 2), (vectors, "shared", .shared, 1)] {
            let actorCritic = try networks(space, trunk)
            XCTAssertEqual(actorCritic.layout, layout, "\(trunk) on \(space)")
            XCTAssertEqual(actorCritic.trainables.count, networkCount, "\(trunk) on \(space)")
            XCTAssertEqual(actorCritic.policy.network.outputSize, layout == .shared ? 7 : 6)
        }
        XCTAssertEqual(try networks(vectors, "shared").parameterCount, 4 * 64 + 64 + 64 * 64 + 64 + 64 * 7 + 7)
        XCTAssertThrowsError(try PPO.schema.resolve(["trunk": .string("both")]))
    }

    /// Channel-last images (MiniGrid's 7 × 7 × 3, raw Atari's 210 × 160 × 3) are read by a network that reorders them.
    func testChannelLastImagesAreReadByTheConvolutionalEncoders() throws {
        let atari = Space.box(shape: [210, 160, 3], low: 0, high: 255, elementType: .uint8)
        let nature = try XCTUnwrap(try policyNetwork("dqn", atari) as? ConvolutionalNetwork)
        XCTAssertEqual(nature.layout, .channelsLast)
        XCTAssertEqual(nature.imageShape, [3, 210, 160])
        XCTAssertEqual(nature.inputShape, [210, 160, 3])
        let miniGrid = try XCTUnwrap(try policyNetwork("ppo", .box(shape: [7, 7, 3], low: 0, high: 255, elementType: .uint8)) as? ResidualNetwork)
        XCTAssertEqual(miniGrid.layout, .channelsLast)
        XCTAssertEqual(miniGrid.imageShape, [3, 7, 7])
        XCTAssertEqual(try XCTUnwrap(try policyNetwork("a2c", frames) as? ConvolutionalNetwork).layout, .channelsFirst)
    }

    func testPixelsAndTheirFloatCopiesGiveTheSameOutputs() throws {
        let network = try XCTUnwrap(try policyNetwork("ppo", frames, ["encoder": .string("impala_cnn")]) as? ResidualNetwork)
        var rng = RandomSource(seed: 4)
        let pixels = (0..<(2 * network.inputSize)).map { _ in UInt8(rng.nextInt(below: 256)) }
        let twin = network.copy()
        XCTAssertEqual(network.forward(pixels: pixels, batch: 2), twin.forward(Tensor(shape: [2, network.inputSize], scalars: pixels.map(Float.init))))
    }

    func testSpacesAConvolutionalEncoderCannotReadAreRefusedWithTheFix() throws {
        func message(_ space: Space, _ overrides: [String: ConfigurationValue]) -> String {
            do {
                _ = try policyNetwork("ppo", space, overrides)
                return "no error"
            } catch { return String(describing: error) }
        }
        XCTAssertTrue(message(.box(low: -1, high: 1, count: 4), ["encoder": .string("nature_cnn")]).contains("reads images"))
        XCTAssertTrue(message(.box(shape: [10, 3, 5], low: 0, high: 255, elementType: .uint8), [:]).contains("transpose them"))
        XCTAssertTrue(message(.box(shape: [1, 10, 5], low: 0, high: 255, elementType: .uint8), ["encoder": .string("nature_cnn")]).contains("impala_cnn"))
        XCTAssertTrue(message(frames, ["normalize_observations": .bool(true)]).contains("normalize_observations = false"))
        XCTAssertThrowsError(try PPO.schema.resolve(["encoder": .string("resnet")]))
    }

    /// DQN and PPO with a convolutional encoder train on Catch's pixels and checkpoint: the file loads into a fresh agent,
    /// which saves it back value for value.
    func testConvolutionalAgentsTrainAndCheckpoint() throws {
        let root = NSTemporaryDirectory() + "colony-encoder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (id, overrides) in [("dqn", ["learning_starts": ConfigurationValue.int(100), "train_freq": .int(50), "gradient_steps": .int(4)]),
                                ("ppo", ["n_steps": .int(16), "num_envs": .int(2), "n_epochs": .int(2)])] {
            let environments = try VectorEnvironments.make(id: "Catch-v0", count: 2, seed: 3)
            func agent() throws -> any ParallelAgent {
                try Agents.makeParallel(id, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace, environments: 2,
                                        seed: 4, overrides: overrides)
            }
            let trained = try agent()
            try AgentRunner.train(trained, on: environments, frames: 400, seed: 5)
            let (first, second) = (root + "/\(id)-1.h5", root + "/\(id)-2.h5")
            try AgentCheckpoint.save(trained, to: first)
            let resumed = try agent()
            try AgentCheckpoint.load(resumed, from: first)
            try AgentCheckpoint.save(resumed, to: second)
            let (saved, again) = (try floatDatasets(HDF5File.open(first)), try floatDatasets(HDF5File.open(second)))
            XCTAssertEqual(saved, again, id)
            XCTAssertTrue(saved.values.contains { $0.count > 10_000 }, "\(id): the convolutional network's parameters are in the file")
        }
    }
}
