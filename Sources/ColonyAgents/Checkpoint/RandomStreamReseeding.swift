import ColonyNumerics

/// Every random stream of a restored agent derived afresh from one seed and the stream's entry name,
/// instead of continuing the saved ones. Population-based training restores a copied member this way:
/// it takes the donor's parameters, moments, replay and counters, but two copies of one donor (or a copy
/// and its donor) never draw the same exploration noise or minibatches, and the streams still follow
/// from the population's seed, so a rerun is identical.
public struct RandomStreamReseeding: Sendable, Equatable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The stream for the checkpoint entry `path` (e.g. `agent/rng/exploration`).
    public func source(for path: String) -> RandomSource {
        // FNV-1a of the name, spread over the word before it is mixed with the seed.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return RandomSource(seed: seed ^ (hash &* 0x9e37_79b9_7f4a_7c15))
    }
}
