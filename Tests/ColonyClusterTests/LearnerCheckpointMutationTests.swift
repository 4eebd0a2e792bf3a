@testable import ColonyAgents
@testable import ColonyCluster
import ColonyExperiments
import ColonyNumerics
import ColonyStorage
import Foundation
import XCTest

/// A population's mutations of a member that trains as a cluster go into the learner's checkpoint, which the learner
/// resumes at its release: parameter noise must be exactly the seed's noise on the acting network, an architecture
/// change must carry every layer stack's overlap, and everything else in the file stays as saved.
final class LearnerCheckpointMutationTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "colony-noise-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func settings(_ algorithm: String, environment: String = "CartPole-v1", agent: String = "", name: String? = nil) throws -> ClusterSettings {
        let path = directory + "/\(name ?? algorithm).toml"
        try AtomicFile.write("""
            algorithm = "\(algorithm)"
            env = "\(environment)"
            frames = 4000
            seed = 5
            run_dir = "\(directory!)/\(algorithm)"

            [cluster]
            coordinator = "tcp://127.0.0.1:1"

            [agent]
            \(agent)
            """, to: path)
        return try ClusterSettings(path: path)
    }

    func testACheckpointCarriedIntoANewArchitectureKeepsEveryLayerStacksOverlap() throws {
        for (algorithm, environment, old, new) in [("a3c", "CartPole-v1", [16, 16], [24]), ("apex_dqn", "CartPole-v1", [16], [12, 20]),
                                                   ("apex_sac", "Pendulum-v1", [16], [16, 8])] {
            let before = try settings(algorithm, environment: environment, agent: "hidden_sizes = \(old)", name: "\(algorithm)-before")
            let after = try settings(algorithm, environment: environment, agent: "hidden_sizes = \(new)", name: "\(algorithm)-after")
            let group = LearnerCheckpoint.group(of: before)
            let saved = try before.makeLearner()
            // Saved values that are not any initialization: the carry must move these, not make its own.
            var random = RandomSource(seed: 3)
            saved.perturbActingParameters(standardDeviation: 0.5, random: &random)
            let path = directory + "/\(algorithm).h5"
            try LearnerCheckpoint.save(saved, group: group, counters: LearnerCounters(frames: 800, updates: 9, episodes: 4, version: 9),
                                       window: [1, 2], algorithm: algorithm, configurationTOML: before.configuration.toml(annotated: false), to: path)
            var unused = LearnerCounters()
            XCTAssertThrowsError(try LearnerCheckpoint.load(try after.makeLearner(), group: group, counters: &unused,
                                                            returns100: nil, settings: after, from: path), "\(algorithm): the saved shapes do not fit")

            let fresh = try after.makeLearner()
            XCTAssertEqual(try LearnerCheckpoint.carryIntoArchitecture(checkpoint: path, settings: after), ["hidden_sizes": .intList(old)], algorithm)
            let carried = try after.makeLearner()
            var counters = LearnerCounters()
            try LearnerCheckpoint.load(carried, group: group, counters: &counters, returns100: nil, settings: after, from: path)
            XCTAssertEqual([counters.frames, counters.updates, counters.episodes, counters.version], [800, 9, 4, 9], algorithm)
            XCTAssertEqual(try CheckpointReader(file: HDF5File.open(path)).doubles("returns100_window"), [1, 2], algorithm)

            // Every stack with values (parameters, targets): the saved overlap in the fresh learner's values.
            let savedStacks = Dictionary(uniqueKeysWithValues: saved.layerStackEntries.map { ($0.path, $0) })
            let freshStacks = Dictionary(uniqueKeysWithValues: fresh.layerStackEntries.map { ($0.path, $0) })
            var checked = 0
            for entry in carried.layerStackEntries {
                guard let values = entry.fresh else { continue }
                let (old, new) = (try XCTUnwrap(savedStacks[entry.path], entry.path), try XCTUnwrap(freshStacks[entry.path], entry.path))
                var expected = try XCTUnwrap(new.fresh)
                LayerStackCarry.carry(try XCTUnwrap(old.fresh), layers: old.layers, into: &expected, layers: new.layers)
                XCTAssertEqual(values, expected, "\(algorithm) \(entry.path)")
                XCTAssertNotEqual(values, new.fresh, "\(algorithm) \(entry.path): saved values were carried")
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 2, "\(algorithm): \(carried.layerStackEntries.map(\.path))")
            // The file now says what it is: carrying it again changes nothing.
            XCTAssertEqual(try LearnerCheckpoint.carryIntoArchitecture(checkpoint: path, settings: after), [:], algorithm)
        }
    }

    func testNoiseInALearnerCheckpointIsTheSeedsNoiseOnTheActingNetworkAndKeepsTheRest() throws {
        for algorithm in ["impala", "a3c", "apex_dqn"] {
            let settings = try settings(algorithm)
            let group = LearnerCheckpoint.group(of: settings)
            let saved = try settings.makeLearner()
            let counters = LearnerCounters(frames: 4000, updates: 17, episodes: 90, version: 17)
            let path = directory + "/\(algorithm).h5"
            try LearnerCheckpoint.save(saved, group: group, counters: counters, window: [9, 11, 13], algorithm: algorithm,
                                       configurationTOML: "learning_rate = 0.002\n", to: path)
            let noise = ParameterNoise(standardDeviation: 0.05, seed: 41)
            try LearnerCheckpoint.perturbActingParameters(checkpoint: path, settings: settings, noise: noise)

            let perturbed = try settings.makeLearner()
            var restored = LearnerCounters()
            try LearnerCheckpoint.load(perturbed, group: group, counters: &restored, returns100: nil, settings: settings, from: path)
            XCTAssertEqual([restored.frames, restored.updates, restored.episodes, restored.version], [4000, 17, 90, 17], algorithm)
            let file = try HDF5File.open(path)
            XCTAssertEqual(try CheckpointReader(file: file).doubles("returns100_window"), [9, 11, 13], algorithm)
            XCTAssertEqual(try file.readString(at: "config"), "learning_rate = 0.002\n", algorithm)

            // The same noise drawn here on the saved learner: bit-equal acting parameters.
            var random = RandomSource(seed: noise.seed)
            saved.perturbActingParameters(standardDeviation: noise.standardDeviation, random: &random)
            XCTAssertEqual(perturbed.actingParameters, saved.actingParameters, algorithm)
            let original = try settings.makeLearner().actingParameters
            let changes = zip(perturbed.actingParameters, original).map { $0 - $1 }.filter { $0 != 0 }
            XCTAssertGreaterThan(changes.count, original.count / 4, "\(algorithm): the policy (or Q-network) is perturbed")
            let spread = (changes.map { Double($0 * $0) }.reduce(0, +) / Double(changes.count)).squareRoot()
            XCTAssertEqual(spread, 0.05, accuracy: 0.005, "\(algorithm): the noise's standard deviation")

            // Another seed, other noise.
            let other = try settings.makeLearner()
            try LearnerCheckpoint.save(other, group: group, counters: counters, window: [], algorithm: algorithm, configurationTOML: "", to: path)
            try LearnerCheckpoint.perturbActingParameters(checkpoint: path, settings: settings, noise: ParameterNoise(standardDeviation: 0.05, seed: 42))
            try LearnerCheckpoint.load(other, group: group, counters: &restored, returns100: nil, settings: settings, from: path)
            XCTAssertNotEqual(other.actingParameters, perturbed.actingParameters, algorithm)
        }
    }

    func testNoiseOnAMissingOrForeignCheckpointSaysWhichFile() throws {
        let settings = try settings("impala")
        let missing = directory + "/missing.h5"
        XCTAssertThrowsError(try LearnerCheckpoint.perturbActingParameters(checkpoint: missing, settings: settings,
                                                                           noise: ParameterNoise(standardDeviation: 0.1, seed: 1))) {
            XCTAssertTrue("\($0)".contains("missing.h5"), "\($0)")
        }
        let apex = try self.settings("apex_dqn")
        let path = directory + "/apex.h5"
        try LearnerCheckpoint.save(try apex.makeLearner(), group: LearnerCheckpoint.group(of: apex), counters: LearnerCounters(), window: [],
                                   algorithm: "apex_dqn", configurationTOML: "", to: path)
        XCTAssertThrowsError(try LearnerCheckpoint.perturbActingParameters(checkpoint: path, settings: settings,
                                                                           noise: ParameterNoise(standardDeviation: 0.1, seed: 1))) {
            XCTAssertTrue("\($0)".contains("apex_dqn"), "\($0)")
        }
        XCTAssertEqual(try LearnerCheckpointEvaluation.frames(checkpoint: path), 0, "a refused file stays as it was")
    }
}
