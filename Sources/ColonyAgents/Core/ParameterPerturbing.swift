import ColonyNumerics

/// An agent whose acting network can take Gaussian parameter noise (AgileRL's parameter mutation): a population
/// member perturbed after a boundary acts a little differently from the member it came from.
public protocol ParameterPerturbing: ParallelAgent {
    /// Adds N(0, σ²) to every parameter of the network the agent acts with: DQN's online Q-network, the actor of
    /// SAC, TD3 and DDPG, the policy network of PPO, A2C and IMPALA. Targets, critics and optimizer moments stay.
    func perturbActingParameters(standardDeviation: Float, random: inout RandomSource)
}
