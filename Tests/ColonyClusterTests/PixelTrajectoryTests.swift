@testable import ColonyAgents
@testable import ColonyCluster
import ColonyStorage
import ColonyTransport
import XCTest

/// Trajectories of a run whose observations are frames (a uint8 Box) carry them as u8 on the wire: a quarter of the
/// bytes, the same values at the learner, and the learner of such a run refuses Float observations (and the reverse).
final class PixelTrajectoryTests: XCTestCase {
    private func bounds(_ env: String) throws -> LearnerInputBounds {
        let settings = try ClusterSettings(document: try TOMLDocument(parsing: """
            algorithm = "impala"
            env = "\(env)"
            runs_dir = "/tmp/r"
            [agent]
            unroll_length = 3
            """), source: "test.toml")
        return try LearnerInputBounds(settings: settings, parameterCount: 10)
    }

    private func trajectory() -> TrajectoryBatch {
        var batch = TrajectoryBatch(steps: 3, environments: 2, observationSize: 50, actionSize: 1)
        batch.observations = (0..<(4 * 2 * 50)).map { Float(($0 * 37) % 256) }
        batch.actions = [0, 1, 2, 2, 1, 0]
        batch.rewards = [0, 0, 1, 0, -1, 0]
        batch.terminated = [false, false, true, false, true, false]
        batch.truncated = [false, true, false, false, false, false]
        batch.behaviourLogProbs = [Float](repeating: -1.1, count: 6)
        batch.truncationIndices = [1]
        batch.truncationObservations = (0..<50).map { Float(255 - $0) }
        return batch
    }

    private func send(_ tensors: [WireTensor], to limits: WireLimits) throws -> WireMessage {
        let message = WireMessage(type: .trajectory, runID: 1, senderID: 2, sequence: 3, tensors: tensors)
        return try WireMessage.decode(frames: message.encode(), limits: limits)
    }

    func testFramesTravelAsBytesAndArriveAsTheSameValues() throws {
        let batch = trajectory()
        let catchLimits = try bounds("Catch-v0").limits
        let bytes = LearnerMessages.trajectoryTensors(batch, observationsAsBytes: true)
        XCTAssertEqual(bytes[0].dtype, .u8)
        XCTAssertEqual(bytes[7].dtype, .u8)
        let floats = LearnerMessages.trajectoryTensors(batch)
        XCTAssertEqual(bytes[0].buffer.count * 4, floats[0].buffer.count, "a quarter of the bytes")
        let received = try LearnerMessages.trajectory(try send(bytes, to: catchLimits))
        XCTAssertEqual(received.observations, batch.observations)
        XCTAssertEqual(received.truncationObservations, batch.truncationObservations)
        XCTAssertEqual(received.actions, batch.actions)
        XCTAssertEqual(received.terminated, batch.terminated)
        XCTAssertThrowsError(try send(floats, to: catchLimits), "a frames run refuses Float observations")
        XCTAssertThrowsError(try send(bytes, to: try bounds("CartPole-v1").limits), "a vector run refuses byte observations")
    }
}
