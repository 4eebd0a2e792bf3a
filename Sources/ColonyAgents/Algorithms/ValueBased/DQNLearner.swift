import ColonyEnvironments
import ColonyNumerics

/// One DQN gradient step on a batch of transitions: the part of DQN that a learner process runs.
///
/// `learn(from:)` takes a `TransitionBatch` (n-step rewards and discounts already folded in:
/// the target is `reward + discount · Q(next, ·)`, discount = γⁿ or 0 at termination), updates the
/// online network and returns the TD errors, so that a caller with a prioritized buffer (DQN here,
/// Ape-X's learner in the cluster) can update priorities. When to sample, when to sync the target
/// and where the batch comes from is the caller's business.
public final class DQNLearner {
    /// The regression loss on the TD error δ.
    public enum Loss: String, Sendable, CaseIterable {
        /// Smooth L1 (Huber, threshold 1): quadratic for |δ| < 1, linear beyond — the error clipping
        /// of Mnih et al. (2015); SB3's and CleanRL's `smooth_l1_loss`.
        case huber
        /// Mean squared error (`F.mse_loss`).
        case mse
    }

    /// The outcome of one `learn(from:)`.
    public struct Step: Sendable {
        /// δ_i = y_i − Q(s_i, a_i) per row, before the update: new priorities |δ| + ε.
        public var tdErrors: [Float]
        /// The importance-weighted loss that was minimised.
        public var loss: Double
        /// Mean Q(s_i, a_i) of the batch (online network, before the update).
        public var meanQ: Double
        /// Global gradient norm before clipping (0 when clipping is off).
        public var gradientNorm: Float
    }

    /// The online network with its optimizer, learning rate, gradient clipping and target copy.
    public let approximation: Approximation<QNetwork>
    /// Double DQN (van Hasselt et al., 2016): the online network picks a′, the target net evaluates it.
    public let doubleQ: Bool
    public let loss: Loss

    public var online: QNetwork { approximation.model }
    public var target: QNetwork { approximation.target! }

    public init(online: QNetwork, optimizer: any Optimizer, learningRate: Schedule, maxGradientNorm: Float?, doubleQ: Bool, loss: Loss) {
        approximation = Approximation(
            name: "q_network", model: online, optimizer: optimizer, schedule: learningRate,
            maxGradientNorm: maxGradientNorm, target: online.copy())
        self.doubleQ = doubleQ
        self.loss = loss
    }

    /// The learner a `dqn` configuration describes (encoder, hidden_sizes, dueling, learning_rate, adam_epsilon,
    /// max_grad_norm, double_q, loss), its network initialized from `rng`: what `DQN` trains in one
    /// process, and what an Ape-X learner and its workers build from the same configuration.
    public convenience init(configuration c: Configuration, observationSpace: Space, actionCount: Int, rng: inout RandomSource) throws {
        let hiddenSizes = c.intList("hidden_sizes")
        let builder = try ObservationNetworkBuilder(
            configuration: c, observationSpace: observationSpace, encodedSize: observationSpace.elementCount, agent: c.agent)
        let dueling = c.bool("dueling")
        if dueling && hiddenSizes.isEmpty && builder.architecture == .mlp {
            throw AgentError("dqn: dueling needs at least one hidden layer (hidden_sizes is empty)")
        }
        let online: QNetwork
        if builder.architecture == .mlp {
            online = QNetwork(observationSize: builder.inputSize, actionCount: actionCount, hiddenSizes: hiddenSizes, dueling: dueling, rng: &rng)
        } else {
            // PyTorch's default initialisation, as the MLP's (SB3's and CleanRL's DQN).
            let network = builder.make(outputs: dueling ? 1 + actionCount : actionCount, hiddenSizes: [], activation: .relu,
                                       initialization: .torchLinearDefault, outputInitialization: .torchLinearDefault, rng: &rng)
            online = QNetwork(network: network, actionCount: actionCount, dueling: dueling)
        }
        let maxGradNorm = c.float("max_grad_norm")
        self.init(
            online: online,
            optimizer: Adam(epsilon: c.float("adam_epsilon")), learningRate: .constant(c.float("learning_rate")),
            maxGradientNorm: maxGradNorm > 0 ? maxGradNorm : nil, doubleQ: c.bool("double_q"), loss: Loss(rawValue: c.string("loss"))!)
    }

    /// TD targets without gradient:
    ///
    ///     y = r + discount · Q_target(s′, a*),   a* = argmax_a Q_online(s′, a)   (double Q)
    ///                                            a* = argmax_a Q_target(s′, a)   (DQN: the max)
    ///
    /// Uses the online network's forward cache when double Q, so call it before the forward that
    /// the loss backpropagates through.
    public func targets(for batch: TransitionBatch) -> [Float] {
        targets(for: batch, bootstrapValues: bootstrapValues(for: batch))
    }

    /// Q_target(s′, a*) of each row, the value a target bootstraps from (a* as in `targets(for:)`).
    /// Without double Q it depends on the target network alone, so while the target network stays
    /// put, values computed once serve every minibatch that draws the same transition.
    public func bootstrapValues(for batch: TransitionBatch) -> [Float] {
        let rows = batch.count, actions = online.actionCount
        let next = Tensor(shape: [rows, online.observationSize], scalars: batch.nextObservations)
        let targetQ = target.forward(next)
        let onlineQ = doubleQ ? online.forward(next) : targetQ
        var values = [Float](repeating: 0, count: rows)
        targetQ.scalars.withUnsafeBufferPointer { targetQ in
            onlineQ.scalars.withUnsafeBufferPointer { selector in
                for row in 0..<rows {
                    let best = QNetwork.argmax(selector.baseAddress! + row * actions, count: actions)
                    values[row] = targetQ[row * actions + best]
                }
            }
        }
        return values
    }

    private func targets(for batch: TransitionBatch, bootstrapValues values: [Float]) -> [Float] {
        precondition(values.count == batch.count, "DQNLearner: \(values.count) bootstrap values for \(batch.count) transitions")
        return (0..<batch.count).map { row in batch.rewards[row] + batch.discounts[row] * values[row] }
    }

    /// δ = y − Q(s, a) without updating anything: initial priorities computed where the data is
    /// collected (Ape-X actors), or diagnostics. Uses the online network's forward cache.
    public func tdErrors(for batch: TransitionBatch) -> [Float] {
        let y = targets(for: batch)
        let q = online.forward(Tensor(shape: [batch.count, online.observationSize], scalars: batch.observations))
        let chosen = q.gathering(columnPerRow: batch.discreteActions)
        return (0..<batch.count).map { y[$0] - chosen.scalars[$0] }
    }

    /// One gradient step on `batch`; returns the TD errors for priority updates.
    @discardableResult
    public func learn(from batch: TransitionBatch) -> Step {
        learn(from: batch, bootstrapValues: bootstrapValues(for: batch))
    }

    /// One gradient step on `batch` with its rows' `bootstrapValues` given: computed earlier by
    /// `bootstrapValues(for:)` with the same target network (and, with double Q, the same online
    /// network). DQN shares them across a training round.
    @discardableResult
    public func learn(from batch: TransitionBatch, bootstrapValues: [Float]) -> Step {
        let rows = batch.count
        let actions = batch.discreteActions

        // Targets (no gradient; double-Q selection from the online net, evaluation by the target net).
        let y = targets(for: batch, bootstrapValues: bootstrapValues)

        // TD error of the taken actions: δ = y − Q(s, a). This forward is the one backward uses.
        let q = online.forward(Tensor(shape: [rows, online.observationSize], scalars: batch.observations))
        let chosen = q.gathering(columnPerRow: actions)

        // Loss, weighted by the importance-sampling weights w (all 1 without prioritized replay), and
        // its gradient with respect to Q(s, a):
        //   Huber: L = mean_i w_i · huber(δ_i),  ∂L/∂Q(s_i, a_i) = −w_i · clip(δ_i, −1, 1) / B
        //   MSE:   L = mean_i w_i · δ_i²,        ∂L/∂Q(s_i, a_i) = −2 · w_i · δ_i / B
        var tdErrors = [Float](repeating: 0, count: rows)
        var qGradient = [Float](repeating: 0, count: rows)
        var totalLoss = 0.0, totalQ = 0.0
        let scale = 1 / Float(rows)
        for row in 0..<rows {
            let delta = y[row] - chosen.scalars[row]
            let weight = batch.weights[row]
            tdErrors[row] = delta
            totalQ += Double(chosen.scalars[row])
            switch loss {
            case .huber:
                let magnitude = abs(delta)
                totalLoss += Double(weight * (magnitude < 1 ? 0.5 * delta * delta : magnitude - 0.5))
                qGradient[row] = -weight * min(max(delta, -1), 1) * scale
            case .mse:
                totalLoss += Double(weight * delta * delta)
                qGradient[row] = -2 * weight * delta * scale
            }
        }

        // Backward through the (dueling) network, then clip the global norm and step the optimizer.
        online.backward(Tensor.scattering(Tensor(qGradient), columnPerRow: actions, columnCount: online.actionCount))
        let norm = approximation.step()
        return Step(tdErrors: tdErrors, loss: totalLoss / Double(rows), meanQ: totalQ / Double(rows), gradientNorm: norm)
    }

    /// Target sync: θ⁻ ← τ·θ + (1 − τ)·θ⁻ (τ = 1, the DQN default: a hard copy, done in place).
    public func updateTarget(tau: Float = 1) {
        target.softUpdate(from: online, tau: tau)
    }

    public var learningRate: Float { approximation.learningRate }
}

extension DQNLearner: Checkpointable {
    /// Online and target parameters, optimizer moments and the update count (under "q_network").
    public func save(to writer: CheckpointWriter) throws { try approximation.save(to: writer) }
    public func restore(from reader: CheckpointReader) throws { try approximation.restore(from: reader) }
}
