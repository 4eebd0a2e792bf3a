import XCTest
@testable import ColonyAgents

final class ConfigurationTests: XCTestCase {
    private let schema = ConfigurationSchema(agent: "toy", keys: [
        ConfigurationKey("learning_rate", .double(3e-4), "Adam step size", range: 0...1),
        ConfigurationKey("batch_size", .int(64), "transitions per update", range: 1...65536),
        ConfigurationKey("double_q", .bool(true), "use double Q-learning targets"),
        ConfigurationKey("activation", .string("tanh"), "hidden activation", choices: ["tanh", "relu"]),
        ConfigurationKey("hidden_sizes", .intList([64, 64]), "hidden layer widths", range: 1...4096),
    ])

    func testDefaultsAndOverridesAreTypedAndTracked() throws {
        let configuration = try schema.resolve(["batch_size": .int(128), "learning_rate": .int(1)])
        XCTAssertEqual(configuration.int("batch_size"), 128)
        XCTAssertEqual(configuration.double("learning_rate"), 1.0, "an int is accepted where a float is expected")
        XCTAssertEqual(configuration.intList("hidden_sizes"), [64, 64])
        XCTAssertTrue(configuration.isExplicit("batch_size"))
        XCTAssertFalse(configuration.isExplicit("double_q"))
        let toml = configuration.toml()
        XCTAssertTrue(toml.contains("batch_size = 128"), toml)
        XCTAssertTrue(toml.contains("# set: transitions per update"), toml)
        XCTAssertTrue(toml.contains("double_q = true"), toml)
        XCTAssertTrue(toml.contains("# default: use double Q-learning targets"), toml)
        XCTAssertTrue(toml.contains("learning_rate = 1.0"), toml)
    }

    func testUnknownKeyNamesTheClosestKnownKey() {
        XCTAssertThrowsError(try schema.resolve(["learning_rat": .double(0.1)])) { error in
            XCTAssertEqual(error as? ConfigurationError, .unknownKey(key: "learning_rat", agent: "toy", suggestion: "learning_rate"))
            XCTAssertTrue("\(error)".contains("did you mean 'learning_rate'"), "\(error)")
        }
        XCTAssertThrowsError(try schema.parseAssignment("batchsize=3")) { error in
            XCTAssertTrue("\(error)".contains("'batch_size'"), "\(error)")
        }
    }

    func testWrongTypesRangesAndChoicesAreErrors() {
        XCTAssertThrowsError(try schema.resolve(["batch_size": .double(1.5)])) { XCTAssertTrue("\($0)".contains("takes an int"), "\($0)") }
        XCTAssertThrowsError(try schema.resolve(["double_q": .string("yes")]))
        XCTAssertThrowsError(try schema.resolve(["learning_rate": .double(2)])) { XCTAssertTrue("\($0)".contains("outside its range [0, 1]"), "\($0)") }
        XCTAssertThrowsError(try schema.resolve(["activation": .string("gelu")])) { XCTAssertTrue("\($0)".contains("\"tanh\", \"relu\""), "\($0)") }
        XCTAssertThrowsError(try schema.resolve(["hidden_sizes": .intList([64, 0])]))
        XCTAssertThrowsError(try schema.resolve(["learning_rate": .double(.nan)]))
    }

    func testAssignmentsParseByTheKeysType() throws {
        XCTAssertEqual(try schema.parseAssignment("batch_size=1e3").value, .int(1000))
        XCTAssertEqual(try schema.parseAssignment("learning_rate = 0.001").value, .double(0.001))
        XCTAssertEqual(try schema.parseAssignment("double_q=false").value, .bool(false))
        XCTAssertEqual(try schema.parseAssignment("activation=relu").value, .string("relu"))
        XCTAssertEqual(try schema.parseAssignment("hidden_sizes=[256, 256]").value, .intList([256, 256]))
        XCTAssertThrowsError(try schema.parseAssignment("batch_size=lots")) { XCTAssertTrue("\($0)".contains("cannot read 'lots' as an int"), "\($0)") }
        XCTAssertThrowsError(try schema.parseAssignment("no-equals-sign")) { XCTAssertTrue("\($0)".contains("key=value"), "\($0)") }
    }
}
