import ColonyNumerics

/// Independent streams from one seed: networks' initialization, the learner's noise (SAC's
/// reparameterization, TD3's target smoothing), exploration and replay sampling.
struct OffPolicyRandomStreams {
    var initialization: RandomSource
    var learning: RandomSource
    var exploration: RandomSource
    var replay: RandomSource

    init(seed: UInt64) {
        var root = RandomSource(seed: seed)
        initialization = root.split()
        learning = root.split()
        exploration = root.split()
        replay = root.split()
    }
}
