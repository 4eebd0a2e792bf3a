import ColonyNumerics

/// One or more action-value critics Q_k(s, a), each an MLP over the concatenated input
/// [observation, action] with its own Adam optimizer and Polyak-averaged target network:
/// DDPG's single critic, TD3's and SAC's twin critics (Fujimoto et al., 2018).
///
/// Every batch method takes row-major `count × observationSize` observations and
/// `count × actionSize` squashed actions; the concatenated input is built with one allocation per
/// batch, never one per row. Between calls every critic's gradient buffer is zero.
public final class QCritics: Checkpointable {
    /// How several critics' values combine into the one an update uses.
    public enum Reduction: Sendable {
        /// Q_1 alone: TD3's and DDPG's actor objective.
        case first
        /// min_k Q_k per row: clipped double Q (TD3, SAC targets) and SAC's actor objective.
        case minimum
    }

    /// The critics, checkpointed as "qf1", "qf2", ... (CleanRL's names).
    public let members: [Approximation<any Network>]
    public let observationSize: Int
    public let actionSize: Int

    /// `count` critics with layer widths [observationSize + actionSize] + hiddenSizes + [1],
    /// PyTorch's default initialization, drawn from `rng` one critic after the other.
    public init(
        count: Int, observationSize: Int, actionSize: Int, hiddenSizes: [Int], activation: Activation,
        learningRate: Float, rng: inout RandomSource
    ) {
        precondition(count >= 1, "QCritics needs at least one critic")
        self.observationSize = observationSize
        self.actionSize = actionSize
        let sizes = [observationSize + actionSize] + hiddenSizes + [1]
        var members: [Approximation<any Network>] = []
        for index in 1...count {
            let network = MLP(sizes: sizes, hidden: activation, output: .identity, initialization: .torchLinearDefault, rng: &rng)
            members.append(Approximation(
                name: "qf\(index)", model: network, optimizer: Adam(), schedule: .constant(learningRate), target: network.copy()))
        }
        self.members = members
    }

    /// [s_i, a_i] for every row: a `count × (observationSize + actionSize)` tensor.
    public func input(observations: [Float], actions: [Float], count: Int) -> Tensor {
        let (o, d) = (observationSize, actionSize)
        precondition(observations.count == count * o && actions.count == count * d, "QCritics: expected \(count) rows of \(o) + \(d) values")
        let width = o + d
        let scalars = [Float](unsafeUninitializedCapacity: count * width) { buffer, initialized in
            observations.withUnsafeBufferPointer { s in
                actions.withUnsafeBufferPointer { a in
                    for row in 0..<count {
                        let destination = buffer.baseAddress! + row * width
                        destination.initialize(from: s.baseAddress! + row * o, count: o)
                        (destination + o).initialize(from: a.baseAddress! + row * d, count: d)
                    }
                }
            }
            initialized = count * width
        }
        return Tensor(shape: [count, width], scalars: scalars)
    }

    /// min_k Q'_k(s, a) of the target networks: the clipped double-Q estimate of TD3 and SAC
    /// (with one critic, DDPG's Q'(s, a)).
    public func targetMinimum(observations: [Float], actions: [Float], count: Int) -> [Float] {
        let x = input(observations: observations, actions: actions, count: count)
        var minimum = members[0].target!.forward(x).scalars
        for member in members.dropFirst() {
            let values = member.target!.forward(x).scalars
            for row in 0..<count { minimum[row] = Swift.min(minimum[row], values[row]) }
        }
        return minimum
    }

    /// One Adam step of every critic on L = Σ_k mean_i (Q_k(s_i, a_i) − y_i)², CleanRL's
    /// `qf_loss = qf1_loss + qf2_loss` (each critic's gradient depends on its own term only).
    /// Returns that loss and the mean of Q_1 before the step.
    @discardableResult
    public func regress(observations: [Float], actions: [Float], targets: [Float], count: Int) -> (loss: Float, meanQ: Float) {
        precondition(targets.count == count, "QCritics.regress: \(targets.count) targets for \(count) rows")
        let x = input(observations: observations, actions: actions, count: count)
        var loss: Double = 0
        var meanQ: Double = 0
        for (index, member) in members.enumerated() {
            let values = member.model.forward(x).scalars
            var outputGradient = [Float](repeating: 0, count: count)
            for row in 0..<count {
                let error = values[row] - targets[row]
                loss += Double(error * error) / Double(count)
                outputGradient[row] = 2 * error / Float(count)
                if index == 0 { meanQ += Double(values[row]) / Double(count) }
            }
            member.model.backward(Tensor(shape: [count, 1], scalars: outputGradient))
            member.step()
        }
        return (Float(loss), Float(meanQ))
    }

    /// The values Q(s_i, a_i) (reduced over critics as asked) and their gradient with respect to
    /// the actions, ∂Q(s_i, a_i)/∂a_i (`count × actionSize`), read off the critics' input gradient.
    /// For `.minimum` each row's gradient comes from the critic that attains the minimum (the
    /// first on ties), as autograd differentiates `torch.min`. Critic parameters are not changed
    /// and their gradients are left at zero.
    public func actionGradient(observations: [Float], actions: [Float], count: Int, reduction: Reduction) -> (values: [Float], gradient: [Float]) {
        let x = input(observations: observations, actions: actions, count: count)
        let used = reduction == .first ? [members[0]] : members
        let outputs = used.map { $0.model.forward(x).scalars }
        var values = outputs[0]
        var chosen = [Int](repeating: 0, count: count)
        for (index, output) in outputs.enumerated().dropFirst() {
            for row in 0..<count where output[row] < values[row] {
                values[row] = output[row]
                chosen[row] = index
            }
        }
        let (o, d) = (observationSize, actionSize)
        var gradient = [Float](repeating: 0, count: count * d)
        for (index, member) in used.enumerated() {
            let upstream = Tensor(shape: [count, 1], scalars: chosen.map { $0 == index ? 1 : 0 })
            let inputGradient = member.model.backward(upstream).scalars
            for row in 0..<count {
                for j in 0..<d { gradient[row * d + j] += inputGradient[row * (o + d) + o + j] }
            }
            member.model.zeroGradients()
        }
        return (values, gradient)
    }

    /// θ'_k ← τ·θ_k + (1 − τ)·θ'_k for every critic.
    public func updateTargets(tau: Float) {
        for member in members { member.updateTarget(tau: tau) }
    }

    public func save(to writer: CheckpointWriter) throws {
        for member in members { try member.save(to: writer) }
    }

    public func restore(from reader: CheckpointReader) throws {
        for member in members { try member.restore(from: reader) }
    }
}
