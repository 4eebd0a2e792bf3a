import ColonyNumerics

/// A trainable function approximator with everything that goes with updating it (ALL's
/// `Approximation`): the model, its optimizer, a learning-rate schedule, global-norm gradient
/// clipping, and an optional target copy updated by copy or Polyak averaging. Algorithms compute
/// the loss gradient into `model.gradients` (via `Network.backward`) and call `step()`.
///
/// `Model` is a concrete `Trainable` (a `ParameterVector`, a `QNetwork`) or `any Network`, so that
/// any network architecture plugs in; the update code only needs the flat buffers of `Trainable`.
public final class Approximation<Model> {
    public let name: String
    public let model: Model
    public var optimizer: any Optimizer
    public let schedule: Schedule
    /// Global-norm clip on the gradients before each step; nil: no clipping.
    public let maxGradientNorm: Float?
    /// The target network (DQN, SAC, TD3): a copy lagging behind `model`.
    public let target: Model?
    public private(set) var updates = 0
    /// `model` and `target` seen as their parameter and gradient buffers.
    private let trainable: any Trainable
    private let targetTrainable: (any Trainable)?

    private init(
        name: String, model: Model, trainable: any Trainable, optimizer: any Optimizer, schedule: Schedule,
        maxGradientNorm: Float?, target: Model?, targetTrainable: (any Trainable)?
    ) {
        self.name = name
        self.model = model
        self.trainable = trainable
        self.optimizer = optimizer
        self.schedule = schedule
        self.maxGradientNorm = maxGradientNorm
        self.target = target
        self.targetTrainable = targetTrainable
        targetTrainable?.copyParameters(from: trainable)
    }

    public var learningRate: Float { schedule.value(at: updates) }

    /// Clips, applies one optimizer step, clears the gradients. Returns the gradient norm before
    /// clipping (0 when clipping is off and the norm was not computed).
    @discardableResult
    public func step() -> Float {
        var norm: Float = 0
        if let maxGradientNorm { norm = clipGlobalNorm([trainable], maxNorm: maxGradientNorm) }
        optimizer.step(trainable, learningRate: learningRate)
        trainable.zeroGradients()
        updates += 1
        return norm
    }

    /// Adds N(0, σ²) to every parameter of `model` (AgileRL's parameter mutation); the target and the optimizer's
    /// moments are left as they are.
    public func perturbParameters(standardDeviation: Float, random: inout RandomSource) {
        var parameters = trainable.parameters
        for index in parameters.indices { parameters[index] += random.normal(mean: 0, std: standardDeviation) }
        trainable.parameters = parameters
    }

    /// target ← target + τ·(model − target) (τ = 1: hard copy).
    public func updateTarget(tau: Float = 1) {
        targetTrainable?.softUpdate(from: trainable, tau: tau)
    }
}

extension Approximation where Model: Trainable {
    public convenience init(name: String, model: Model, optimizer: any Optimizer, schedule: Schedule, maxGradientNorm: Float? = nil, target: Model? = nil) {
        self.init(
            name: name, model: model, trainable: model, optimizer: optimizer, schedule: schedule,
            maxGradientNorm: maxGradientNorm, target: target, targetTrainable: target)
    }
}

extension Approximation where Model == any Network {
    public convenience init(
        name: String, model: any Network, optimizer: any Optimizer, schedule: Schedule, maxGradientNorm: Float? = nil,
        target: (any Network)? = nil
    ) {
        self.init(
            name: name, model: model, trainable: model, optimizer: optimizer, schedule: schedule,
            maxGradientNorm: maxGradientNorm, target: target, targetTrainable: target)
    }
}

extension Approximation: Checkpointable {
    public func save(to writer: CheckpointWriter) throws {
        let group = writer.group(name)
        try group.write(trainable.parameters, "parameters")
        if let targetTrainable { try group.write(targetTrainable.parameters, "target_parameters") }
        try group.write(updates, "updates")
        let state = optimizer.state
        try group.write(state.stepCount, "optimizer/step")
        // In key order: the same state is then the same file, byte for byte.
        for key in state.buffers.keys.sorted() { try group.write(state.buffers[key]!, "optimizer/\(key)") }
    }

    public func restore(from reader: CheckpointReader) throws {
        let group = reader.group(name)
        trainable.parameters = try group.floats("parameters", count: trainable.parameters.count)
        if let targetTrainable { targetTrainable.parameters = try group.floats("target_parameters", count: targetTrainable.parameters.count) }
        updates = try group.int("updates")
        var buffers: [String: [Float]] = [:]
        if group.contains("optimizer") {
            for key in try group.file.members(of: group.path("optimizer")) where key != "step" {
                buffers[key] = try group.floats("optimizer/\(key)")
            }
        }
        try optimizer.restore(OptimizerState(stepCount: try group.int("optimizer/step"), buffers: buffers))
        trainable.zeroGradients()
    }
}

extension Approximation {
    /// The checkpoint entries of this approximation laid out as its model's layer stack, under `prefix` (the group
    /// its owner saves it in): the parameters and the target copy with their current values, and the optimizer's
    /// group, whose moment buffers start at zero where a network grows. Empty when the model is not a layer stack.
    public func layerStackEntries(under prefix: String = "") -> [LayerStackEntry] {
        guard let layers = (trainable as? any LayerStackShaped)?.layerStack else { return [] }
        let group = (prefix.isEmpty ? "" : prefix + "/") + name
        var entries = [LayerStackEntry(path: group + "/parameters", layers: layers, fresh: trainable.parameters)]
        if let targetTrainable { entries.append(LayerStackEntry(path: group + "/target_parameters", layers: layers, fresh: targetTrainable.parameters)) }
        entries.append(LayerStackEntry(path: group + "/optimizer", layers: layers, fresh: nil))
        return entries
    }
}
