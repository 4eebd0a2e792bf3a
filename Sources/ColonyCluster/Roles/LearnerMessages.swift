import ColonyAgents
import ColonyTransport

/// The data messages between workers and the learner (docs/wire.md), their schemas and codecs.
///
/// - `trajectory` (worker → learner, header parameter version = the version that acted):
///   observations f32 [(T+1)·N, obs], actions f32 [T·N, act], rewards f32 [T·N], terminated u8 [T·N],
///   truncated u8 [T·N], behaviour_log_probs f32 [T·N], truncation_indices i32 [K],
///   truncation_observations f32 [K, obs], steps i32 [2] = (T, N). In a run whose observations are a
///   uint8 Box (frames) both observation tensors are u8 instead: a quarter of the bytes.
/// - `gradient` (A3C worker → learner): gradients f32 [P], frames i32 [1]
/// - `episodes` (worker → learner): returns f64 [E], lengths i32 [E], optionally frames i32 [1]
/// - `parameters` (learner → workers, PUB): parameters f32 [P], header version = the parameter version
/// - `credit` (both ways): i32 [1]; from a worker a request to be topped up, from the learner a grant
enum LearnerMessages {
    static let trajectorySchema = trajectorySchema(observations: .f32)

    /// The trajectory schema with observations of `observations` (f32, or u8 for frames).
    static func trajectorySchema(observations: WireDType) -> MessageSchema { MessageSchema(tensors: [
        .init("observations", observations, ["R", "obs"]),
        .init("actions", .f32, ["S", "act"]),
        .init("rewards", .f32, ["S"]),
        .init("terminated", .u8, ["S"]),
        .init("truncated", .u8, ["S"]),
        .init("behaviour_log_probs", .f32, ["S"]),
        .init("truncation_indices", .i32, ["K"]),
        .init("truncation_observations", observations, ["K", "obs"]),
        .init("steps", .i32, [2]),
    ], bounds: ["obs": 1...100_000, "act": 1...10_000, "S": 1...10_000_000]) { message, sizes in
        guard let steps = try? message.tensors[8].int32s(), steps.count == 2, steps[0] >= 1, steps[1] >= 1 else {
            return "steps must hold two positive numbers (T, N)"
        }
        let (t, n) = (Int(steps[0]), Int(steps[1]))
        guard t.multipliedReportingOverflow(by: n).partialValue == sizes["S"], (t + 1) * n == sizes["R"] else {
            return "steps (T \(t), N \(n)) do not match \(sizes["S"] ?? 0) steps and \(sizes["R"] ?? 0) observations"
        }
        guard let indices = try? message.tensors[6].int32s(), indices.allSatisfy({ $0 >= 0 && Int($0) < t * n }) else {
            return "truncation indices outside the trajectory"
        }
        return nil
    } }

    static let gradientSchema = MessageSchema(tensors: [
        .init("gradients", .f32, ["P"]), .init("frames", .i32, [1]),
    ], bounds: ["P": 1...100_000_000])

    /// An optional third tensor, frames i32 [1], is the frames the worker stepped since its last report
    /// (replay-based runs, where the learner sees no trajectories to count).
    static let episodesSchema = MessageSchema(tensors: [
        .init("returns", .f64, ["E"]), .init("lengths", .i32, ["E"]),
    ], extraTensorsAllowed: 1, bounds: ["E": 0...100_000]) { message, _ in
        guard message.tensors.count == 3 else { return nil }
        guard message.tensors[2].dtype == .i32, let frames = try? message.tensors[2].int32s(), frames.count == 1, (0...10_000_000).contains(frames[0]) else {
            return "frames must be one i32 in 0...10000000"
        }
        return nil
    }

    /// The frames an `episodes` message reports (0 without the optional tensor).
    static func reportedFrames(_ message: WireMessage) -> Int {
        message.tensors.count == 3 ? Int((try? message.tensors[2].int32s().first) ?? 0) : 0
    }

    /// An optional second tensor, published_at f64 [1] (seconds since 1970), lets workers measure
    /// how long parameters take to reach acting.
    static let parametersSchema = MessageSchema(
        tensors: [.init("parameters", .f32, ["P"])], extraTensorsAllowed: 1, bounds: ["P": 1...100_000_000])

    /// What the learner's data socket accepts.
    static var learnerLimits: WireLimits {
        var limits = WireLimits(maximumMessageBytes: 256 << 20, acceptedTypes: [.trajectory, .gradient, .episodes, .credit])
        limits.schemas[.trajectory] = trajectorySchema
        limits.schemas[.gradient] = gradientSchema
        limits.schemas[.episodes] = episodesSchema
        return limits
    }

    /// What a worker accepts from the learner (credits on the data socket, parameters on the subscription).
    static var workerLimits: WireLimits {
        var limits = WireLimits(maximumMessageBytes: 512 << 20, acceptedTypes: [.credit, .parameters])
        limits.schemas[.parameters] = parametersSchema
        return limits
    }

    /// - Parameter observationsAsBytes: send the observations as u8 (a uint8 space's values, 0…255).
    static func trajectoryTensors(_ batch: TrajectoryBatch, observationsAsBytes: Bool = false) -> [WireTensor] {
        let steps = batch.count
        func observations(_ values: [Float], rows: Int) -> WireTensor {
            guard observationsAsBytes else { return WireTensor(values, shape: [rows, batch.observationSize]) }
            return WireTensor(of: UInt8.self, shape: [rows, batch.observationSize]) { bytes in
                for index in values.indices { bytes[index] = UInt8(Swift.min(Swift.max(values[index], 0), 255)) }
            }
        }
        return [
            observations(batch.observations, rows: steps + batch.environments),
            WireTensor(batch.actions, shape: [steps, batch.actionSize]),
            WireTensor(batch.rewards),
            WireTensor(batch.terminated.map { UInt8($0 ? 1 : 0) }),
            WireTensor(batch.truncated.map { UInt8($0 ? 1 : 0) }),
            WireTensor(batch.behaviourLogProbs),
            WireTensor(batch.truncationIndices.map(Int32.init)),
            observations(batch.truncationObservations, rows: batch.truncationIndices.count),
            WireTensor([Int32(batch.steps), Int32(batch.environments)]),
        ]
    }

    /// A trajectory from a message the schema already accepted (shapes, steps and truncation indices
    /// are consistent); the learner validates it against its networks once (`TrajectoryLearner.validate`).
    static func trajectory(_ message: WireMessage) throws -> TrajectoryBatch {
        let tensors = message.tensors
        let steps = try tensors[8].int32s()
        var batch = TrajectoryBatch(
            steps: Int(steps[0]), environments: Int(steps[1]), observationSize: tensors[0].shape[1], actionSize: tensors[1].shape[1])
        func observations(_ tensor: WireTensor) throws -> [Float] {
            tensor.dtype == .u8 ? try tensor.uint8s().map(Float.init) : try tensor.floats()
        }
        batch.observations = try observations(tensors[0])
        batch.actions = try tensors[1].floats()
        batch.rewards = try tensors[2].floats()
        batch.terminated = try tensors[3].uint8s().map { $0 != 0 }
        batch.truncated = try tensors[4].uint8s().map { $0 != 0 }
        batch.behaviourLogProbs = try tensors[5].floats()
        batch.truncationIndices = try tensors[6].int32s().map(Int.init)
        batch.truncationObservations = try observations(tensors[7])
        return batch
    }
}
