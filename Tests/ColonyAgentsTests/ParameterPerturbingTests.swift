import ColonyEnvironments
import ColonyNumerics
import ColonyStorage
import ColonyTestSupport
import Foundation
import XCTest
@testable import ColonyAgents

/// Parameter noise (a population's `--parameter-noise`): exactly the acting network changes, by N(0, σ²) per
/// parameter, reproducibly from the seed; targets, critics, value networks and optimizer moments stay bit-equal.
final class ParameterPerturbingTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "colony-noise-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func check(_ id: String, environment: String, acting expected: String, line: UInt = #line) throws {
        let space = try Environments.make(environment, seed: 0)
        let agent = try Agents.makeParallel(id, observationSpace: space.observationSpace, actionSpace: space.actionSpace, environments: 1, seed: 4)
        let perturbing = try XCTUnwrap(agent as? any ParameterPerturbing, "\(id) takes parameter noise", line: line)
        XCTAssertTrue(Agents.perturbsParameters(id), line: line)
        try AgentCheckpoint.save(agent, to: root + "/\(id)-before.h5")
        let sigma: Float = 0.01
        var random = RandomSource(seed: 7)
        perturbing.perturbActingParameters(standardDeviation: sigma, random: &random)
        try AgentCheckpoint.save(agent, to: root + "/\(id)-after.h5")
        let before = try floatDatasets(HDF5File.open(root + "/\(id)-before.h5")), after = try floatDatasets(HDF5File.open(root + "/\(id)-after.h5"))
        XCTAssertEqual(Set(before.keys), Set(after.keys), line: line)
        let changed = before.keys.filter { before[$0] != after[$0] }.sorted()
        XCTAssertEqual(changed, [expected], "only the acting network's parameters change", line: line)
        guard let old = before[expected], let new = after[expected] else { return }
        let differences = zip(new, old).map { Double($0 - $1) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let deviation = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)).squareRoot()
        XCTAssertLessThan(abs(mean), 3 * Double(sigma) / Double(differences.count).squareRoot() + 1e-6, "\(id): mean \(mean)", line: line)
        XCTAssertEqual(deviation, Double(sigma), accuracy: Double(sigma) * 0.1, "\(id): σ of the differences", line: line)
        // The same seed draws the same noise.
        let again = try Agents.makeParallel(id, observationSpace: space.observationSpace, actionSpace: space.actionSpace, environments: 1, seed: 4)
        var sameRandom = RandomSource(seed: 7)
        (again as! any ParameterPerturbing).perturbActingParameters(standardDeviation: sigma, random: &sameRandom)
        try AgentCheckpoint.save(again, to: root + "/\(id)-again.h5")
        XCTAssertEqual(try floatDatasets(HDF5File.open(root + "/\(id)-again.h5"))[expected], new, line: line)
    }

    func testNoiseChangesOnlyTheActingNetworkByTheRequestedDeviation() throws {
        try check("dqn", environment: "CartPole-v1", acting: "agent/q_network/parameters")
        try check("sac", environment: "Pendulum-v1", acting: "agent/learner/actor/parameters")
        try check("ppo", environment: "CartPole-v1", acting: "agent/networks/policy/parameters")
        XCTAssertFalse(Agents.perturbsParameters("q_learning"), "a table has no network")
    }
}
