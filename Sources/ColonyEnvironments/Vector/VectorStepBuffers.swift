/// Everything a vector environment's step writes, in one value so that `step` can move it into a
/// local and write elements without a class-property access (and its exclusivity check) per
/// element. Shared by `LocalVectorEnvironment` and `RemoteVectorEnvironment`.
struct VectorStepBuffers {
    var observations: [Float] = []
    var rewards: [Double] = []
    var terminated: [Bool] = []
    var truncated: [Bool] = []
    var finalObservations: [[Float]?] = []
    var completedEpisodes: [EpisodeRecord] = []
    var episodeReturns: [Double] = []
    var episodeLengths: [Int] = []
    /// Where `finalObservations` is non-nil, to clear it cheaply.
    var finishedIndices: [Int] = []

    init() {}

    /// Zeroed buffers for `count` environments of `observationCount` floats each, no episode running.
    init(count: Int, observationCount: Int) {
        observations = [Float](repeating: 0, count: count * observationCount)
        rewards = [Double](repeating: 0, count: count)
        terminated = [Bool](repeating: false, count: count)
        truncated = [Bool](repeating: false, count: count)
        finalObservations = [[Float]?](repeating: nil, count: count)
        episodeReturns = [Double](repeating: 0, count: count)
        episodeLengths = [Int](repeating: 0, count: count)
    }
}
