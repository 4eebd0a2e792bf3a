import ColonyNumerics

/// An agent whose networks may change width and depth between two intervals of a population (AgileRL's architecture
/// mutation): its schema's `resizable` keys (`hidden_sizes`) shape only layer stacks, and it names the checkpoint
/// entries laid out as those stacks, so that a checkpoint saved under one architecture can be carried into another
/// (`ArchitectureCarry`).
public protocol ArchitectureResizing: ParallelAgent {
    /// Every checkpoint entry (path under the checkpoint's `agent` group) laid out as one of the agent's layer stacks.
    var layerStackEntries: [LayerStackEntry] { get }
}

/// One checkpoint entry laid out as a layer stack.
public struct LayerStackEntry: Sendable {
    /// A dataset under `agent/`; with `fresh` nil, a group whose every dataset of the stack's length is such a buffer
    /// (an optimizer's moments).
    public let path: String
    public let layers: [LinearLayer]
    /// The agent's own values: what new units and layers keep. Nil: zero.
    public let fresh: [Float]?

    public init(path: String, layers: [LinearLayer], fresh: [Float]?) {
        self.path = path
        self.layers = layers
        self.fresh = fresh
    }

    /// Scalars in the stack's buffer.
    public var count: Int { layers.last?.biasRange.upperBound ?? 0 }
}
