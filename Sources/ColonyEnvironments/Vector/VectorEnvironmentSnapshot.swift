/// Everything needed to continue a vector environment exactly: each copy's state, step count and
/// random stream, the current observations and the running episode statistics.
public struct VectorEnvironmentSnapshot: Sendable, Equatable {
    public var states: [[Double]]
    public var elapsedSteps: [Int]
    public var randomStates: [[UInt64]]
    public var observations: [Float]
    public var episodeReturns: [Double]
    public var episodeLengths: [Int]

    public init(states: [[Double]], elapsedSteps: [Int], randomStates: [[UInt64]], observations: [Float], episodeReturns: [Double], episodeLengths: [Int]) {
        self.states = states
        self.elapsedSteps = elapsedSteps
        self.randomStates = randomStates
        self.observations = observations
        self.episodeReturns = episodeReturns
        self.episodeLengths = episodeLengths
    }
}
