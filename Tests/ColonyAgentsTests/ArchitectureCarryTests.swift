import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyAgents

/// A checkpoint saved under one `hidden_sizes` resumed by an agent built with another (a population's architecture
/// mutation): every layer-stack entry (parameters, targets, optimizer moments) carries its overlapping values, new
/// units keep the new agent's initialization and zero moments, and everything else of the file loads unchanged.
final class ArchitectureCarryTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "colony-carry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func check(_ id: String, environment: String, from old: [Int], to new: [Int], frames: Int, overrides: [String: ConfigurationValue],
                       line: UInt = #line) throws {
        let environments = try VectorEnvironments.make(id: environment, count: 1, seed: 3)
        func agent(_ sizes: [Int]) throws -> any ParallelAgent {
            try Agents.makeParallel(id, observationSpace: environments.observationSpace, actionSpace: environments.actionSpace, environments: 1, seed: 4,
                                    overrides: overrides.merging(["hidden_sizes": .intList(sizes)]) { $1 })
        }
        let trained = try agent(old)
        try AgentRunner.train(trained, on: environments, frames: frames, seed: 5)
        let before = root + "/\(id)-before.h5", fresh = root + "/\(id)-fresh.h5", carried = root + "/\(id)-carried.h5", after = root + "/\(id)-after.h5"
        try AgentCheckpoint.save(trained, to: before)
        let resumed = try XCTUnwrap(try agent(new) as? any ArchitectureResizing, "\(id) resizes", line: line)
        XCTAssertEqual(try Agents.schema(id).resizable, ["hidden_sizes"], line: line)
        try AgentCheckpoint.save(resumed, to: fresh)
        // As saved, the file does not fit the new shapes; carried, it does.
        XCTAssertThrowsError(try AgentCheckpoint.load(try agent(new), from: before), line: line) {
            XCTAssertTrue("\($0)".contains("different network"), "\($0)", line: line)
        }
        let saved = ArchitectureCarry.changedValues(savedConfiguration: try AgentCheckpoint.Header(path: before).configurationTOML, for: resumed)
        XCTAssertEqual(saved, ["hidden_sizes": .intList(old)], line: line)
        try ArchitectureCarry.carry(checkpoint: before, savedValues: saved, into: carried, for: resumed, environments: 1, seed: 4)
        try AgentCheckpoint.load(resumed, from: carried)
        try AgentCheckpoint.save(resumed, to: after)

        let stacks = Dictionary(uniqueKeysWithValues: resumed.layerStackEntries.map { ("agent/" + $0.path, $0) })
        let oldStacks = Dictionary(uniqueKeysWithValues: (try agent(old) as! any ArchitectureResizing).layerStackEntries.map { ("agent/" + $0.path, $0) })
        let (savedValues, freshValues, afterValues) = (try floatDatasets(HDF5File.open(before)), try floatDatasets(HDF5File.open(fresh)), try floatDatasets(HDF5File.open(after)))
        XCTAssertEqual(Set(afterValues.keys), Set(savedValues.keys), line: line)
        var resized: [String] = []
        for (path, values) in afterValues.sorted(by: { $0.key < $1.key }) {
            let group = (path as NSString).deletingLastPathComponent
            guard let stack = stacks[path] ?? stacks[group].flatMap({ $0.fresh == nil && !path.hasSuffix("/step") ? $0 : nil }) else {
                XCTAssertEqual(values, savedValues[path], "\(path) loads as saved", line: line)
                continue
            }
            let key = stacks[path] != nil ? path : group
            var expected = freshValues[path] ?? [Float](repeating: 0, count: stack.count)
            XCTAssertEqual(expected.count, stack.count, path, line: line)
            LayerStackCarry.carry(savedValues[path]!, layers: oldStacks[key]!.layers, into: &expected, layers: stack.layers)
            XCTAssertEqual(values, expected, "\(path): overlapping values carried, the rest as the new agent made it", line: line)
            resized.append(path)
        }
        XCTAssertGreaterThanOrEqual(resized.count, 4, "parameters, and Adam's two moments at least: \(resized)", line: line)
        XCTAssertTrue(resized.contains { $0.hasSuffix("exp_avg_sq") }, "the optimizer has stepped: \(resized)", line: line)
        // The carried agent trains on.
        try AgentRunner.train(resumed, on: environments, frames: frames / 2, seed: 6)
        XCTAssertTrue(resumed.configuration.intList("hidden_sizes") == new, line: line)
    }

    func testEveryLayerStackEntryCarriesItsOverlapAndTheRestLoadsAsSaved() throws {
        try check("dqn", environment: "CartPole-v1", from: [16, 16], to: [19, 16, 16], frames: 600,
                  overrides: ["learning_starts": .int(100), "batch_size": .int(16), "train_freq": .int(4), "gradient_steps": .int(1), "buffer_size": .int(2_000)])
        try check("ppo", environment: "CartPole-v1", from: [16, 16], to: [12], frames: 256,
                  overrides: ["n_steps": .int(64), "batch_size": .int(32), "n_epochs": .int(1)])
        try check("sac", environment: "Pendulum-v1", from: [16], to: [16, 24], frames: 300,
                  overrides: ["learning_starts": .int(100), "batch_size": .int(16), "buffer_size": .int(1_000)])
        XCTAssertEqual(try Agents.schema("q_learning").resizable, [], "a table has no layers")
        // Every agent whose schema declares a resizable key names its layer-stack entries, and only those.
        for (id, environment) in [("a2c", "CartPole-v1"), ("td3", "Pendulum-v1"), ("ddpg", "Pendulum-v1"), ("impala", "CartPole-v1"), ("apex_dqn", "CartPole-v1")] {
            let space = try Environments.make(environment, seed: 0)
            guard let agent = try? Agents.makeParallel(id, observationSpace: space.observationSpace, actionSpace: space.actionSpace, environments: 1, seed: 1) else { continue }
            XCTAssertEqual(agent is any ArchitectureResizing, !(try Agents.schema(id).resizable.isEmpty), id)
            XCTAssertEqual((agent as? any ArchitectureResizing)?.layerStackEntries.isEmpty, (agent is any ArchitectureResizing) ? false : nil, id)
        }
    }
}
