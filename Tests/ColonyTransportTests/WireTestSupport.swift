@testable import ColonyTransport

/// A tiny seeded generator (SplitMix64) so randomized tests replay exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A trajectory schema like the learner's: T steps of N environments with obs-sized observations.
let trajectorySchema = MessageSchema(tensors: [
    .init("observations", .f32, ["T+1", "N", "obs"]),
    .init("actions", .i32, ["T", "N"]),
    .init("rewards", .f32, ["T", "N"]),
], bounds: ["T": 1...1000, "N": 1...256])

func trajectory(steps: Int = 5, environments: Int = 3, observationSize: Int = 4, sender: UInt64 = 0x1234, sequence: UInt64 = 7) -> WireMessage {
    let observations = (0..<((steps + 1) * environments * observationSize)).map { Float($0) * 0.5 }
    let actions = (0..<(steps * environments)).map { Int32($0 % 2) }
    let rewards = (0..<(steps * environments)).map { _ in Float(1) }
    return WireMessage(type: .trajectory, runID: 0xABCD, senderID: sender, sequence: sequence, parameterVersion: 42, tensors: [
        WireTensor(observations, shape: [steps + 1, environments, observationSize]),
        WireTensor(actions, shape: [steps, environments]),
        WireTensor(rewards, shape: [steps, environments]),
    ])
}

func limitsWithTrajectorySchema() -> WireLimits {
    var limits = WireLimits.default
    limits.schemas[.trajectory] = trajectorySchema
    return limits
}

extension Array where Element == UInt8 {
    /// Overwrites a little-endian integer at `offset`.
    mutating func patch<Value: FixedWidthInteger>(_ value: Value, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: Value.self) }
    }
}
