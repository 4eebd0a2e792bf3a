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


