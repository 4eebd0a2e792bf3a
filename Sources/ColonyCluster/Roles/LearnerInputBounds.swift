import ColonyAgents
import ColonyTransport

/// What a learner's data socket accepts from workers in this run, beyond the message shapes: the
/// run's spaces and parameter count, the longest unroll, the most frames one message may claim
/// (docs/wire.md, "Meaning"). Built once from the settings; the learner's `WireLimits` check every
/// message against it as it arrives, so nothing downstream sees an action outside the space, a
/// reward of 3e38 or a report of ten million frames.
struct LearnerInputBounds: Sendable {
    let values: ReceivedValueBounds
    /// The learner's parameter count (A3C gradients must have exactly as many).
    let parameterCount: Int
    /// The longest unroll (T) a worker of this run sends.
    let maximumUnroll: Int
    /// Frames one `episodes` report or gradient may claim (a worker reports what it stepped since
    /// its last report: about one insert's transitions, or one unroll).
    let maximumFramesPerMessage: Int
    /// Which data messages this run's workers send: a gradient to an IMPALA learner is refused on arrival.
    let dataFlow: DistributedDataFlow
    /// How trajectories carry observations: u8 when the run's observations are a uint8 Box (frames), else f32.
    let observationType: WireDType

    init(settings: ClusterSettings, parameterCount: Int) throws {
        let setup = try settings.distributedSetup()
        dataFlow = try settings.distributed.dataFlow
        values = ReceivedValueBounds(actionSpace: setup.actionSpace, observationSize: setup.observationSize)
        observationType = setup.observationSpace.storesAsBytes ? .u8 : .f32
        self.parameterCount = parameterCount
        let configuration = settings.configuration
        let unroll = ["unroll_length", "n_steps"].first { configuration.schema.key($0) != nil }.map { configuration.int($0) }
        maximumUnroll = max(1, unroll ?? 10_000)
        // A worker may run up to envs_per_worker's bound (`colony-worker --envs`), whatever the file says.
        let environments = ClusterSettings.environmentsPerWorkerRange.upperBound
        if let replay = settings.replay {
            // A replay worker reports after each finished insert: its transitions plus the n-step tail of every environment.
            let nStep = configuration.schema.key("n_step") != nil ? configuration.int("n_step") : 1
            maximumFramesPerMessage = 8 * replay.transitionsPerInsert + (nStep + 8) * environments
        } else {
            // An A3C gradient counts one unroll of every environment.
            maximumFramesPerMessage = maximumUnroll * environments
        }
    }

    /// The learner's data socket limits with the schemas and these bounds.
    var limits: WireLimits {
        var limits = LearnerMessages.learnerLimits
        switch dataFlow {
        case .trajectories: limits.acceptedTypes = [.trajectory, .episodes, .credit]
        case .gradients: limits.acceptedTypes = [.gradient, .episodes, .credit]
        case .replayTransitions: limits.acceptedTypes = [.episodes, .credit]
        }
        limits.schemas[.trajectory] = LearnerMessages.trajectorySchema(observations: observationType).checkingMeaning(trajectoryProblem)
        limits.schemas[.gradient] = LearnerMessages.gradientSchema.checkingMeaning(gradientProblem)
        limits.schemas[.episodes] = LearnerMessages.episodesSchema.checkingMeaning(episodesProblem)
        return limits
    }

    /// Observations and actions of the run's sizes, actions in the space, bounded rewards and log-probabilities.
    func trajectoryProblem(_ message: WireMessage, _ sizes: [String: Int]) -> String? {
        guard sizes["obs"] == values.observationSize, sizes["act"] == values.actionSize else {
            return "observations of \(sizes["obs"] ?? 0) and actions of \(sizes["act"] ?? 0) floats; this run has \(values.observationSize) and \(values.actionSize)"
        }
        guard let steps = try? message.tensors[8].int32s(), steps.count == 2, Int(steps[0]) <= maximumUnroll,
              Int(steps[1]) <= ClusterSettings.environmentsPerWorkerRange.upperBound else {
            return "an unroll longer than \(maximumUnroll) steps or wider than \(ClusterSettings.environmentsPerWorkerRange.upperBound) environments"
        }
        let t = message.tensors
        let observationLimit = ReceivedValueBounds.maximumObservation
        // Bytes are bounded by their type; Floats are checked.
        let floats = observationType == .f32
        return Self.inPlace(t[1]) { values.actionsProblem($0, withinBox: false) }
            ?? (floats ? Self.inPlace(t[0]) { ReceivedValueBounds.magnitudeProblem($0, limit: observationLimit, what: "observation element") } : nil)
            ?? (floats ? Self.inPlace(t[7]) { ReceivedValueBounds.magnitudeProblem($0, limit: observationLimit, what: "truncation observation element") } : nil)
            ?? Self.inPlace(t[2]) { ReceivedValueBounds.magnitudeProblem($0, limit: ReceivedValueBounds.maximumReward, what: "reward") }
            ?? Self.inPlace(t[5]) { ReceivedValueBounds.magnitudeProblem($0, limit: ReceivedValueBounds.maximumLogProbability, what: "behaviour log-probability") }
    }

    /// Exactly the learner's parameter count, bounded elements, 1...maximumFramesPerMessage frames.
    func gradientProblem(_ message: WireMessage, _ sizes: [String: Int]) -> String? {
        guard sizes["P"] == parameterCount else { return "a gradient of \(sizes["P"] ?? 0) values; this learner has \(parameterCount) parameters" }
        guard let frames = try? message.tensors[1].int32s().first, frames >= 1, Int(frames) <= maximumFramesPerMessage else {
            return "frames must be in 1...\(maximumFramesPerMessage)"
        }
        return Self.inPlace(message.tensors[0]) { ReceivedValueBounds.magnitudeProblem($0, limit: ReceivedValueBounds.maximumGradient, what: "gradient element") }
    }

    /// Finite bounded returns, positive lengths, at most maximumFramesPerMessage frames.
    func episodesProblem(_ message: WireMessage, _ sizes: [String: Int]) -> String? {
        guard let returns = try? message.tensors[0].doubles(), let lengths = try? message.tensors[1].int32s() else { return "unreadable episodes" }
        if let bad = returns.first(where: { !(abs($0) <= ReceivedValueBounds.maximumReturn) }) {
            return "episode return \(bad) is beyond ±\(ReceivedValueBounds.maximumReturn)"
        }
        if let bad = lengths.first(where: { $0 < 1 }) { return "episode length \(bad) is not positive" }
        let frames = LearnerMessages.reportedFrames(message)
        guard frames <= maximumFramesPerMessage else { return "\(frames) frames in one report exceed \(maximumFramesPerMessage)" }
        return nil
    }

    /// Runs `check` on a float tensor's values where they lie (no copy).
    private static func inPlace(_ tensor: WireTensor, _ check: (UnsafeBufferPointer<Float>) -> String?) -> String? {
        do { return try tensor.withValues(as: Float.self) { check($0) } } catch { return "tensor is not f32" }
    }
}
