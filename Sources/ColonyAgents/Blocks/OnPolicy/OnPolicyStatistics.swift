/// Batch statistics the on-policy updates log.
enum OnPolicyStatistics {
    /// The arithmetic mean (0 for no values).
    static func mean(_ values: [Float]) -> Float {
        values.isEmpty ? 0 : values.reduce(0, +) / Float(values.count)
    }

    /// (x − mean) / (std + 1e-8) with the unbiased standard deviation, as torch.std: advantage
    /// normalisation. Fewer than two values are returned as they are.
    static func standardized(_ values: [Float]) -> [Float] {
        guard values.count > 1 else { return values }
        let m = mean(values)
        let std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(values.count - 1)).squareRoot()
        return values.map { ($0 - m) / (std + 1e-8) }
    }

    /// 1 − Var(returns − values) / Var(returns): how much of the returns' variance the critic
    /// explains (CleanRL's `losses/explained_variance`; NaN when the returns are constant).
    static func explainedVariance(values: [Float], returns: [Float]) -> Float {
        func variance(_ x: [Float]) -> Float {
            let m = mean(x)
            return mean(x.map { ($0 - m) * ($0 - m) })
        }
        let returnsVariance = variance(returns)
        return returnsVariance == 0 ? .nan : 1 - variance(zip(returns, values).map { $0 - $1 }) / returnsVariance
    }
}

extension AgentInfo {
    /// The scalars every actor–critic update logs, under CleanRL's tags.
    static func actorCritic(policyLoss: Float, valueLoss: Float, entropy: Float, learningRate: Float, gradientNorm: Float) -> AgentInfo {
        AgentInfo([
            "losses/policy_loss": Double(policyLoss), "losses/value_loss": Double(valueLoss), "losses/entropy": Double(entropy),
            "charts/learning_rate": Double(learningRate), "losses/grad_norm": Double(gradientNorm),
        ])
    }
}
