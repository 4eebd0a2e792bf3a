/// One finished episode of one environment in a vector, as Gymnasium's `RecordEpisodeStatistics`
/// reports it (`r`, `l`).
public struct EpisodeRecord: Sendable, Equatable {
    /// Which environment of the vector finished.
    public var environmentIndex: Int
    /// The undiscounted sum of the episode's rewards.
    public var episodeReturn: Double
    /// The number of steps in the episode.
    public var length: Int
    /// Whether it ended by termination (as opposed to truncation only).
    public var terminated: Bool

    public init(environmentIndex: Int, episodeReturn: Double, length: Int, terminated: Bool) {
        self.environmentIndex = environmentIndex
        self.episodeReturn = episodeReturn
        self.length = length
        self.terminated = terminated
    }
}
