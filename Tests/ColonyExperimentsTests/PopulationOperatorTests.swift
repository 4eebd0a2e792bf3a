import ColonyAgents
import ColonyNumerics
import XCTest
@testable import ColonyExperiments

final class PopulationOperatorTests: XCTestCase {
    // MARK: Mutations

    func testMutationSpecificationsParseAndEveryMistakeIsOneError() throws {
        XCTAssertEqual(try HyperparameterMutation(parsing: "learning_rate=log:1e-5..1e-1").domain, .logarithmic(1e-5, 1e-1))
        XCTAssertEqual(try HyperparameterMutation(parsing: "gamma=linear:0.9..0.999").domain, .linear(0.9, 0.999))
        XCTAssertEqual(try HyperparameterMutation(parsing: "batch_size=int:16..256").domain, .integer(16, 256))
        XCTAssertEqual(try HyperparameterMutation(parsing: "loss=choice:huber,mse").domain, .choice(["huber", "mse"]))
        for (text, expected) in [
            ("learning_rate", "needs the form"), ("learning_rate=1e-3", "needs a kind"), ("learning_rate=log:0..1", "LOW > 0"),
            ("learning_rate=log:1..0.1", "LOW < HIGH"), ("x=exp:1..2", "unknown kind 'exp'"), ("n=int:1.5..4", "whole numbers"),
            ("loss=choice:huber", "at least two distinct"), ("gamma=linear:nan..1", "finite"),
        ] {
            XCTAssertThrowsError(try HyperparameterMutation(parsing: text), text) { XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)") }
        }
    }

    func testOnlyKeysTheAgentCanChangeMidRunAreAccepted() throws {
        let schema = try Agents.schema("dqn")
        try HyperparameterMutation(parsing: "learning_rate=log:1e-5..1e-1").check(against: schema)
        XCTAssertThrowsError(try HyperparameterMutation(parsing: "buffer_size=int:1000..100000").check(against: schema)) {
            XCTAssertTrue("\($0)".contains("cannot change buffer_size while it trains"), "\($0)")
            XCTAssertTrue("\($0)".contains("learning_rate"), "the message lists what can change: \($0)")
        }
        XCTAssertThrowsError(try HyperparameterMutation(parsing: "learning_rat=log:1e-5..1e-1").check(against: schema)) {
            XCTAssertTrue("\($0)".contains("no such key"), "\($0)")
        }
        XCTAssertThrowsError(try HyperparameterMutation(parsing: "gamma=linear:0.5..1.5").check(against: schema)) {
            XCTAssertTrue("\($0)".contains("refuses"), "\($0)")
        }
        // Every reconfigurable key is a key of its agent, for every registered agent.
        for agent in Agents.list() {
            let schema = try Agents.schema(agent)
            XCTAssertTrue(schema.reconfigurable.isSubset(of: schema.keys.map(\.name)), agent)
        }
    }

    func testPerturbationIsRaysAndStaysInsideTheRange() throws {
        let rate = try HyperparameterMutation(parsing: "learning_rate=log:1e-4..1e-2")
        var random = RandomSource(seed: 3)
        var operations = Set<HyperparameterMutation.Operation>()
        for _ in 0..<200 {
            let (value, operation) = rate.mutate(.double(1e-3), resampleProbability: 0.25, random: &random)
            operations.insert(operation)
            guard case .double(let x) = value else { return XCTFail("a float key stays a float") }
            switch operation {
            case .perturbDown: XCTAssertEqual(x, 0.8e-3, accuracy: 1e-12)
            case .perturbUp: XCTAssertEqual(x, 1.2e-3, accuracy: 1e-12)
            case .resample: XCTAssertTrue((1e-4...1e-2).contains(x))
            default: XCTFail("\(operation) for a number")
            }
        }
        XCTAssertEqual(operations, [.perturbDown, .perturbUp, .resample])
        // Clamped at the ends; integers move at least one step; choices move to a neighbour.
        XCTAssertEqual(rate.mutate(.double(1e-2), resampleProbability: 0, random: &random).0 <= .double(1e-2), true)
        let steps = try HyperparameterMutation(parsing: "n=int:1..5")
        var seen = Set<Int>()
        for _ in 0..<50 {
            guard case .int(let n) = steps.mutate(.int(2), resampleProbability: 0, random: &random).0 else { return XCTFail() }
            seen.insert(n)
        }
        XCTAssertEqual(seen, [1, 3])
        let loss = try HyperparameterMutation(parsing: "loss=choice:huber,mse")
        for _ in 0..<20 {
            let (value, operation) = loss.mutate(.string("huber"), resampleProbability: 0, random: &random)
            XCTAssertEqual(value, operation == .nextChoice ? .string("mse") : .string("huber"))
        }
    }

    /// `hidden_sizes=mlp:LAYERS,WIDTHS`: AgileRL's architecture mutation, inside the bounds, one change at a time.
    func testArchitectureMutatesOneLayerOrOneWidthInsideItsBounds() throws {
        XCTAssertEqual(try HyperparameterMutation(parsing: "hidden_sizes=mlp:1..3,16..512").domain, .layerStack(depth: 1...3, width: 16...512))
        for (text, expected) in [
            ("hidden_sizes=mlp:0..3,16..512", "1 <= LOW <= HIGH"), ("hidden_sizes=mlp:1..3", "LAYERS_LOW..LAYERS_HIGH,WIDTH_LOW..WIDTH_HIGH"),
            ("hidden_sizes=mlp:2..2,64..64", "not both ranges a single value"), ("hidden_sizes=mlp:3..1,16..64", "LOW <= HIGH"),
        ] {
            XCTAssertThrowsError(try HyperparameterMutation(parsing: text), text) { XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)") }
        }
        try HyperparameterMutation(parsing: "hidden_sizes=mlp:1..3,16..512").check(against: try Agents.schema("dqn"))
        try HyperparameterMutation(parsing: "hidden_sizes=mlp:1..3,16..512").check(against: try Agents.schema("sac"))
        for (text, agent, expected) in [
            ("hidden_sizes=int:1..3", "dqn", "an architecture mutates as hidden_sizes=mlp:"),
            ("learning_rate=mlp:1..2,8..16", "dqn", "changes its architecture through hidden_sizes, not learning_rate"),
            ("hidden_sizes=mlp:1..2,8..16", "impala", "cannot change its networks' architecture"),
            ("hidden_sizes=mlp:1..2,8..70000", "dqn", "refuses"),
        ] {
            XCTAssertThrowsError(try HyperparameterMutation(parsing: text).check(against: try Agents.schema(agent)), text) {
                XCTAssertTrue("\($0)".contains(expected), "\(text): \($0)")
            }
        }

        let layers = try HyperparameterMutation(parsing: "hidden_sizes=mlp:1..3,16..128")
        var random = RandomSource(seed: 11)
        var operations = Set<HyperparameterMutation.Operation>()
        for start in [[64, 64], [16], [128, 128, 128], [100, 20]] {
            for _ in 0..<300 {
                let (value, operation) = layers.mutate(.intList(start), resampleProbability: 0.1, random: &random)
                operations.insert(operation)
                guard case .intList(let sizes) = value else { return XCTFail("a layer stack stays an int list") }
                XCTAssertTrue((1...3).contains(sizes.count) && sizes.allSatisfy { (16...128).contains($0) }, "\(start) → \(sizes)")
                switch operation {
                case .addLayer: XCTAssertEqual(sizes, start + [start.last!])
                case .removeLayer: XCTAssertEqual(sizes, Array(start.dropLast()))
                case .addNodes, .removeNodes:
                    let changed = zip(start, sizes).filter { $0 != $1 }
                    XCTAssertEqual(sizes.count, start.count)
                    XCTAssertEqual(changed.count, 1, "one layer's width changes: \(start) → \(sizes)")
                    if let (before, after) = changed.first {
                        let scaled = Int((Double(before) * (operation == .addNodes ? 1.2 : 0.8)).rounded())
                        XCTAssertEqual(after, min(128, max(16, operation == .addNodes ? max(before + 1, scaled) : min(before - 1, scaled))))
                    }
                case .resample: break
                default: XCTFail("\(operation) for a layer stack")
                }
            }
        }
        XCTAssertEqual(operations, [.addLayer, .removeLayer, .addNodes, .removeNodes, .resample])
    }

    func testMutationIsReproducibleFromItsSeed() throws {
        let rate = try HyperparameterMutation(parsing: "learning_rate=log:1e-5..1e-1")
        func draws(_ seed: UInt64) -> [ConfigurationValue] {
            var random = RandomSource(seed: seed)
            return (0..<20).map { _ in rate.mutate(.double(1e-3), resampleProbability: 0.25, random: &random).0 }
        }
        XCTAssertEqual(draws(7), draws(7))
        XCTAssertNotEqual(draws(7), draws(8))
    }

    // MARK: Selection

    func testRankingBreaksTiesBySlotAndPutsFailedMembersLast() {
        XCTAssertEqual(SelectionRule.ranking([1, 3, nil, 3, .nan, 2]), [1, 3, 5, 0, 2, 4])
    }

    func testTruncationReplacesTheBottomQuantileWithCopiesOfTheTop() {
        let fitness: [Double?] = [10, 80, 30, 50, 20, 70, 60, 40]
        var random = RandomSource(seed: 1)
        let outcome = SelectionRule.truncation(quantile: 0.25).select(fitness: fitness, random: &random)
        XCTAssertEqual(Set(outcome.recipients), [0, 4], "⌈8 × 0.25⌉ = 2 worst members are replaced")
        for slot in [0, 4] { XCTAssertTrue([1, 5].contains(outcome.donors[slot]), "a recipient copies one of the 2 best") }
        XCTAssertEqual(outcome.mutated, [0, 4], "only recipients are mutated")
        var again = RandomSource(seed: 1)
        XCTAssertEqual(SelectionRule.truncation(quantile: 0.25).select(fitness: fitness, random: &again), outcome, "same seed, same outcome")
        // Quantile 0 is the no-evolution baseline; at most half the population is ever replaced.
        XCTAssertTrue(SelectionRule.truncation(quantile: 0).select(fitness: fitness, random: &random).recipients.isEmpty)
        XCTAssertEqual(SelectionRule.truncation(quantile: 0.5).select(fitness: [1, 2, 3], random: &random).recipients.count, 1)
    }

    func testTournamentKeepsTheEliteAndMutatesEveryoneElse() {
        let fitness: [Double?] = [5, nil, 9, 9, 1]
        var random = RandomSource(seed: 4)
        let outcome = SelectionRule.tournament(size: 2, elitism: true).select(fitness: fitness, random: &random)
        XCTAssertEqual(outcome.ranking.first, 2, "equal fitness: the lower slot ranks first")
        XCTAssertEqual(outcome.donors[2], 2)
        XCTAssertFalse(outcome.mutated.contains(2), "the elite is not mutated")
        XCTAssertEqual(outcome.mutated, [0, 1, 3, 4])
        XCTAssertFalse(outcome.donors.contains(1), "a failed member wins no tournament against one with fitness")
        // A tournament of the whole population with replacement is won by the best member drawn; size 1 is a random draw.
        var counts = [Int](repeating: 0, count: 5)
        for seed in 0..<200 {
            var random = RandomSource(seed: UInt64(seed))
            let winners = SelectionRule.tournament(size: 3, elitism: false).select(fitness: fitness, random: &random).donors
            for winner in winners { counts[winner] += 1 }
        }
        XCTAssertGreaterThan(counts[2], counts[0])
        XCTAssertGreaterThan(counts[0], counts[4])
        XCTAssertEqual(counts[1], 0)
    }

    func testSettingsRefuseWhatCannotRun() {
        func settings(_ change: (inout PopulationSettings) -> Void) -> PopulationSettings {
            var settings = PopulationSettings(agent: "dqn", environment: "CartPole-v1", size: 4, interval: 1000, generations: 2,
                                              mutations: ["learning_rate=log:1e-5..1e-1"])
            change(&settings)
            return settings
        }
        XCTAssertNoThrow(try settings { _ in }.validate())
        for (change, expected) in [
            ({ (s: inout PopulationSettings) in s.size = 1 }, "--population"), ({ $0.selection = "best" }, "--selection"),
            ({ $0.quantile = 0.75 }, "--quantile"), ({ $0.selection = "tournament"; $0.tournamentSize = 9 }, "--tournament-size"),
            ({ $0.agent = "nope" }, "unknown agent"), ({ $0.mutations.append("learning_rate=log:1e-4..1e-2") }, "twice"),
            ({ $0.overrides = ["gamma=2"] }, "gamma"), ({ $0.generations = 0 }, "--generations"),
        ] as [((inout PopulationSettings) -> Void, String)] {
            XCTAssertThrowsError(try settings(change).validate(), expected) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }
}

private func <= (lhs: ConfigurationValue, rhs: ConfigurationValue) -> Bool {
    switch (lhs, rhs) {
    case let (.double(a), .double(b)): a <= b
    default: false
    }
}
