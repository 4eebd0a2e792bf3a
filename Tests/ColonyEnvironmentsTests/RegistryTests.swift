import ColonyNumerics
import XCTest
@testable import ColonyEnvironments

final class RegistryTests: XCTestCase {
    func testBuiltInIdsAreSortedAndMatchGymnasiumRegistrations() throws {
        XCTAssertEqual(Environments.ids, Environments.ids.sorted())
        let limits: [String: Int?] = [
            "CartPole-v1": 500, "Acrobot-v1": 500, "MountainCar-v0": 200,
            "MountainCarContinuous-v0": 999, "Pendulum-v1": 200,
            "CliffWalking-v1": nil, "CliffWalkingSlippery-v1": nil,
        ]
        for (id, limit) in limits {
            let env = try Environments.make(id, seed: 1)
            XCTAssertEqual(env.id, id)
            XCTAssertEqual(env.maxEpisodeSteps, limit, id)
            XCTAssertTrue(Environments.ids.contains(id))
        }
    }

    func testUnknownIdListsKnownIdsAndTheClosestOne() {
        XCTAssertThrowsError(try Environments.make("CartPole-v0", seed: 0)) { error in
            guard case .unknownEnvironment(let id, let known, let closest) = error as? EnvironmentError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(id, "CartPole-v0")
            XCTAssertEqual(known, Environments.ids)
            XCTAssertEqual(closest, "CartPole-v1")
            let message = String(describing: error)
            XCTAssertTrue(message.contains("Did you mean \"CartPole-v1\"?"), message)
            XCTAssertTrue(message.contains("Pendulum-v1"), message)
        }
        XCTAssertThrowsError(try Environments.make("CliffWalking-v2", seed: 0)) { error in
            guard case .unknownEnvironment(_, _, let closest) = error as? EnvironmentError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertNotNil(closest)
            XCTAssertTrue(closest!.hasPrefix("CliffWalking-v"))
        }
        // Gymnasium 1.x renamed CliffWalking-v0 to v1 (same dynamics); Colony keeps both ids.
        XCTAssertEqual(try Environments.make("CliffWalking-v0", seed: 0).observationSpace, .discrete(48))
        XCTAssertThrowsError(try Environments.make("completely different", seed: 0)) { error in
            guard case .unknownEnvironment(_, _, let closest) = error as? EnvironmentError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertNil(closest)
        }
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance(Array("kitten"), Array("sitting")), 3)
        XCTAssertEqual(editDistance(Array(""), Array("abc")), 3)
        XCTAssertEqual(editDistance(Array("same"), Array("same")), 0)
    }

    func testClosestMatchTolerances() {
        // Three edits away from a short word: a typo for environment ids, too far for other names.
        XCTAssertNil(closestMatch(to: "abc", in: ["xyz", "longer name"]))
        XCTAssertEqual(closestMatch(to: "abc", in: ["xyz", "longer name"], minimumTolerance: Environments.idTypoTolerance), "xyz")
        // Long words allow half their length either way; matching ignores case.
        XCTAssertEqual(closestMatch(to: "LEARNINGRATE", in: ["learning_rate", "batch_size"]), "learning_rate")
        XCTAssertNil(closestMatch(to: "learning_rate", in: ["entropy"]))
        XCTAssertNil(closestMatch(to: "anything", in: []))
    }

    func testRegisteringMoreIds() throws {
        let id = "CartPoleLong-test"
        try Environments.register(EnvironmentSpec(id: id, maxEpisodeSteps: 1_000) { CartPole(seed: $0) })
        XCTAssertTrue(Environments.ids.contains(id))
        let env = try Environments.make(id, seed: 3)
        XCTAssertEqual(env.maxEpisodeSteps, 1_000)
        XCTAssertEqual(Environments.spec(id)?.maxEpisodeSteps, 1_000)
        XCTAssertThrowsError(try Environments.register(EnvironmentSpec(id: id, maxEpisodeSteps: nil) { CartPole(seed: $0) })) {
            XCTAssertEqual($0 as? EnvironmentError, .duplicateRegistration(id: id))
        }
    }
}
