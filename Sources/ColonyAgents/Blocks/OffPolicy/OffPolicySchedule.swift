/// When an off-policy agent acts at random and when it trains, counted in frames (environment
/// steps summed over the N environments), as Stable-Baselines3 counts `num_timesteps`:
/// - uniformly random actions while fewer than `learningStarts` frames have been taken;
/// - once more than `learningStarts` frames have been taken, `gradientSteps` gradient steps each
///   time the frame count passes a multiple of `trainFrequency` (`gradientSteps` −1: one per frame,
///   `trainFrequency` per round, DQN's option).
///
/// With one environment this is SB3's and CleanRL's loop (`train_freq = 1`, `gradient_steps = 1`:
/// one update per step). With N environments the number of updates per frame stays
/// `gradientSteps / trainFrequency`, so N changes the wall-clock, not the update-to-data ratio.
/// DQN, SAC and TD3 share it.
public struct OffPolicySchedule: Sendable, Equatable {
    public let learningStarts: Int
    public let trainFrequency: Int
    public let gradientSteps: Int
    public let batchSize: Int

    public init(learningStarts: Int, trainFrequency: Int, gradientSteps: Int, batchSize: Int) {
        precondition(learningStarts >= 0 && trainFrequency >= 1 && gradientSteps >= -1 && batchSize >= 1, "invalid off-policy schedule")
        self.learningStarts = learningStarts
        self.trainFrequency = trainFrequency
        self.gradientSteps = gradientSteps
        self.batchSize = batchSize
    }

    /// Whether the action taken after `frames` frames is the uniformly random warm-up.
    public func actsRandomly(afterFrames frames: Int) -> Bool { frames < learningStarts }

    /// Gradient steps due when the frame count goes from `previous` to `current`: `gradientSteps`
    /// for every multiple of `trainFrequency` in (max(previous, learningStarts), current].
    public func gradientStepsDue(from previous: Int, to current: Int) -> Int {
        let start = Swift.max(previous, learningStarts)
        guard current > start else { return 0 }
        return (current / trainFrequency - start / trainFrequency) * stepsPerRound
    }

    private var stepsPerRound: Int { gradientSteps >= 0 ? gradientSteps : trainFrequency }
}
