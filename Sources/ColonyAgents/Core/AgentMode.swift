/// Train mode explores, stores data and updates; eval mode acts with the evaluation policy
/// (greedy or the distribution's mode), makes no updates and stores nothing.
public enum AgentMode: String, Sendable, Equatable {
    case train, eval
}
