import ColonyEnvironments
import ColonyNumerics

/// The number of values of a discrete space, or the one-line error an algorithm that needs one
/// throws (SB3 style): "dqn needs a discrete action space; the environment has Box(...)".
func discreteCount(of space: Space, agent: String, role: String) throws -> Int {
    guard let count = space.discreteCount else {
        throw AgentError("\(agent) needs a discrete \(role) space; the environment has \(space)")
    }
    return count
}

/// ε on the frame clock, as SB3's `exploration_initial_eps`, `exploration_final_eps` and
/// `exploration_fraction` define it (and CleanRL's `linear_schedule`): linear from the initial to
/// the final value over the first `fraction · totalFrames` frames, then constant.
func explorationSchedule(initial: Float, final: Float, fraction: Double, totalFrames: Int) -> Schedule {
    .linearDecay(from: initial, to: final, over: Int((fraction * Double(totalFrames)).rounded()))
}

extension CheckpointReader {
    /// A generator saved as its four state words; throws instead of trapping on a damaged entry.
    func randomSource(_ name: String) throws -> RandomSource {
        let state = try uint64s(name)
        guard state.count == 4 else { throw CheckpointError.shapeMismatch(entry: path(name), expected: 4, found: state.count) }
        guard state.contains(where: { $0 != 0 }) else { throw invalid(name, "holds an all-zero generator state") }
        return RandomSource(state: state)
    }
}
