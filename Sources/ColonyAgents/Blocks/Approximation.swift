import ColonyNumerics

/// A trainable function approximator with everything that goes with updating it (ALL's
/// `Approximation`): the model, its optimizer, a learning-rate schedule, global-norm gradient
/// clipping, and an optional target copy updated by copy or Polyak averaging. Algorithms compute
/// the loss gradient into `model.gradients` (via `MLP.backward`) and call `step()`.
public final class Approximation<Model: Trainable> {
    public let name: String
    public let model: Model
    public var optimizer: any Optimizer
    public let schedule: Schedule
    /// Global-norm clip on the gradients before each step; nil: no clipping.
    public let maxGradientNorm: Float?
    /// The target network (DQN, SAC, TD3): a copy lagging behind `model`.
    public let target: Model?
    public private(set) var updates = 0

    public init(name: String, model: Model, optimizer: any Optimizer, schedule: Schedule, maxGradientNorm: Float? = nil, target: Model? = nil) {
        self.name = name
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.maxGradientNorm = maxGradientNorm
        self.target = target
        if let target { target.parameters = model.parameters }
    }

    public var learningRate: Float { schedule.value(at: updates) }

    /// Clips, applies one optimizer step, clears the gradients. Returns the gradient norm before
    /// clipping (0 when clipping is off and the norm was not computed).
    @discardableResult
    public func step() -> Float {
        var norm: Float = 0
        if let maxGradientNorm { norm = clipGlobalNorm([model], maxNorm: maxGradientNorm) }
        optimizer.step(model, learningRate: learningRate)
        model.zeroGradients()
        updates += 1
        return norm
    }

    /// target ← τ·model + (1 − τ)·target (τ = 1: hard copy).
    public func updateTarget(tau: Float = 1) {
        guard let target else { return }
        if tau >= 1 {
            target.parameters = model.parameters
            return
        }
        let source = model.parameters
        target.parameters.withUnsafeMutableBufferPointer { t in
            source.withUnsafeBufferPointer { s in
                for i in 0..<t.count { t[i] += tau * (s[i] - t[i]) }
            }
        }
    }
}

extension Approximation: Checkpointable {
    public func save(to writer: CheckpointWriter) throws {
        let group = writer.group(name)
        try group.write(model.parameters, "parameters")
        if let target { try group.write(target.parameters, "target_parameters") }
        try group.write(updates, "updates")
        let state = optimizer.state
        try group.write(state.stepCount, "optimizer/step")
        for (key, buffer) in state.buffers { try group.write(buffer, "optimizer/\(key)") }
    }

    public func restore(from reader: CheckpointReader) throws {
        let group = reader.group(name)
        model.parameters = try group.floats("parameters", count: model.parameters.count)
        if let target { target.parameters = try group.floats("target_parameters", count: target.parameters.count) }
        updates = try group.int("updates")
        var buffers: [String: [Float]] = [:]
        if group.contains("optimizer") {
            for key in try group.file.members(of: group.path("optimizer")) where key != "step" {
                buffers[key] = try group.floats("optimizer/\(key)")
            }
        }
        try optimizer.restore(OptimizerState(stepCount: try group.int("optimizer/step"), buffers: buffers))
        model.zeroGradients()
    }
}
