import ColonyNumerics

/// Gymnasium's `MountainCarContinuous-v0`: the mountain car with a continuous force in [−1, 1].
///
/// The force is clipped to [−1, 1] as Gymnasium clips it (larger actions are accepted); the reward
/// is `100` on reaching `position >= 0.45` with `velocity >= goalVelocity`, minus `0.1·a²` of the
/// *unclipped* action, as in Gymnasium. `MountainCarContinuous-v0` truncates at 999 steps.
///
/// Gymnasium stores this environment's state as float32 after every step while reset leaves it
/// float64, and NumPy 2 then computes parts of the next step in float32. This type tracks that
/// (`NumPyScalar`) so trajectories, and the exact step on which the goal is reached, replay
/// identically. `state` is `[position, velocity]`; setting it behaves like assigning a float64
/// array, as after a reset.
public final class MountainCarContinuous: SnapshottableEnvironment {
    public static let defaultMaxEpisodeSteps = 999

    public let id: String = "MountainCarContinuous-v0"
    public let observationSpace: Space
    public let actionSpace: Space = .box(low: [-1], high: [1])
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource
    /// Gymnasium's `goal_velocity` argument (default 0).
    public let goalVelocity: Double

    static let minAction = -1.0
    static let maxAction = 1.0
    static let minPosition = -1.2
    static let maxPosition = 0.6
    static let maxSpeed = 0.07
    static let goalPosition = 0.45
    static let power = 0.0015

    private var position = 0.0, velocity = 0.0
    /// Whether Gymnasium would hold the state as float32 (after a step) rather than float64.
    private var stateIsFloat32 = false
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil, goalVelocity: Double = 0) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.goalVelocity = goalVelocity
        observationSpace = .box(
            low: [Float(Self.minPosition), Float(-Self.maxSpeed)],
            high: [Float(Self.maxPosition), Float(Self.maxSpeed)])
    }

    public var state: [Double] {
        get { [position, velocity] }
        set {
            precondition(newValue.count == 2, "MountainCarContinuous state is [position, velocity]")
            (position, velocity) = (newValue[0], newValue[1])
            stateIsFloat32 = false
            hasState = true
        }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        position = randomSource.uniform(-0.6, -0.4)
        velocity = 0
        stateIsFloat32 = false
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .continuous(let values) = action, values.count == 1, values[0].isFinite else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }
        typealias Scalar = NumPyScalar
        let raw = values[0]

        // Gymnasium's step, with each value carrying the type NumPy gives it.
        var position: Scalar = stateIsFloat32 ? .float32(Float(self.position)) : .float64(self.position)
        var velocity: Scalar = stateIsFloat32 ? .float32(Float(self.velocity)) : .float64(self.velocity)
        var force = Scalar.float32(raw)  // min(max(action[0], min_action), max_action)
        if Scalar.python(Self.minAction) > force { force = .python(Self.minAction) }
        if Scalar.python(Self.maxAction) < force { force = .python(Self.maxAction) }
        let slope = Scalar.python(0.0025 * libmCos((Scalar.python(3) * position).value))
        velocity = velocity + (force * .python(Self.power) - slope)
        if velocity > .python(Self.maxSpeed) { velocity = .python(Self.maxSpeed) }
        if velocity < .python(-Self.maxSpeed) { velocity = .python(-Self.maxSpeed) }
        position = position + velocity
        if position > .python(Self.maxPosition) { position = .python(Self.maxPosition) }
        if position < .python(Self.minPosition) { position = .python(Self.minPosition) }
        if position == .python(Self.minPosition) && velocity < .python(0) { velocity = .python(0) }
        let terminated = position >= .python(Self.goalPosition) && velocity >= .python(goalVelocity)
        let reward = (terminated ? 100.0 : 0.0) - libmPow(Double(raw), 2) * 0.1

        self.position = Double(Float(position.value))
        self.velocity = Double(Float(velocity.value))
        stateIsFloat32 = true
        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: reward, terminated: terminated,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 2, "MountainCarContinuous observations have 2 elements")
        observation[0] = Float(position)
        observation[1] = Float(velocity)
    }

    /// The hill, the car `C` and the goal flag `F`.
    public func render() -> String {
        renderMountainCar(position: position, velocity: velocity, goalPosition: Self.goalPosition)
    }
}
