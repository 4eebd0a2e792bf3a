import ColonyEnvironments

/// What an agent returns from `step`: the next actions and a record of what happened inside
/// (losses, exploration rate, learning rate...). Keys are stable TensorBoard tags such as
/// "losses/value_loss" or "charts/epsilon"; an empty info means no update happened this step.
public struct AgentInfo: Sendable, Equatable {
    public var scalars: [String: Double]

    public init(_ scalars: [String: Double] = [:]) { self.scalars = scalars }

    public subscript(key: String) -> Double? {
        get { scalars[key] }
        set { scalars[key] = newValue }
    }

    public var isEmpty: Bool { scalars.isEmpty }

    public mutating func merge(_ other: AgentInfo) {
        scalars.merge(other.scalars) { _, new in new }
    }
}

public struct ParallelAgentStep: Sendable {
    public var actions: [Action]
    public var info: AgentInfo

    public init(actions: [Action], info: AgentInfo = AgentInfo()) {
        self.actions = actions
        self.info = info
    }
}

public struct AgentStep: Sendable {
    public var action: Action
    public var info: AgentInfo

    public init(action: Action, info: AgentInfo = AgentInfo()) {
        self.action = action
        self.info = info
    }
}
