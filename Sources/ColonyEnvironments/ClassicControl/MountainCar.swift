import ColonyNumerics

/// Gymnasium's `MountainCar-v0`: an underpowered car must rock back and forth to reach the flag.
///
/// Actions 0, 1, 2 accelerate left, not at all, right. Velocity is clipped to ±0.07 and position to
/// [−1.2, 0.6]; hitting the left wall stops the car. Reward −1 per step; terminates at
/// `position >= 0.5` with `velocity >= goalVelocity`; `MountainCar-v0` truncates at 200 steps.
/// `state` is `[position, velocity]` (float64, as in Gymnasium); the observation is its float32.
public final class MountainCar: SnapshottableEnvironment {
    public static let defaultMaxEpisodeSteps = 200

    public let id: String = "MountainCar-v0"
    public let observationSpace: Space
    public let actionSpace: Space = .discrete(3)
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource
    /// Gymnasium's `goal_velocity` argument (default 0).
    public let goalVelocity: Double

    static let minPosition = -1.2
    static let maxPosition = 0.6
    static let maxSpeed = 0.07
    static let goalPosition = 0.5
    static let force = 0.001
    static let gravity = 0.0025

    private var position = 0.0, velocity = 0.0
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil, goalVelocity: Double = 0) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.goalVelocity = goalVelocity
        observationSpace = .box(
            low: [Float(MountainCar.minPosition), Float(-MountainCar.maxSpeed)],
            high: [Float(MountainCar.maxPosition), Float(MountainCar.maxSpeed)])
    }

    public var state: [Double] {
        get { [position, velocity] }
        set {
            precondition(newValue.count == 2, "MountainCar state is [position, velocity]")
            (position, velocity) = (newValue[0], newValue[1])
            hasState = true
        }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        position = randomSource.uniform(-0.6, -0.4)
        velocity = 0
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .discrete(let index) = action, index >= 0, index < 3 else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }

        velocity += Double(index - 1) * MountainCar.force + libmCos(3 * position) * (-MountainCar.gravity)
        velocity = MountainCar.clip(velocity, -MountainCar.maxSpeed, MountainCar.maxSpeed)
        position += velocity
        position = MountainCar.clip(position, MountainCar.minPosition, MountainCar.maxPosition)
        if position == MountainCar.minPosition && velocity < 0 { velocity = 0 }
        let terminated = position >= MountainCar.goalPosition && velocity >= goalVelocity

        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: -1.0, terminated: terminated,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    @inline(__always)
    static func clip(_ value: Double, _ low: Double, _ high: Double) -> Double {
        value < low ? low : (value > high ? high : value)
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 2, "MountainCar observations have 2 elements")
        observation[0] = Float(position)
        observation[1] = Float(velocity)
    }

    /// The hill, the car `C` and the goal flag `F`.
    public func render() -> String {
        renderMountainCar(position: position, velocity: velocity, goalPosition: MountainCar.goalPosition)
    }
}

/// The frame shared by both mountain-car environments: Gymnasium's hill `sin(3x)·0.45 + 0.55`.
func renderMountainCar(position: Double, velocity: Double, goalPosition: Double) -> String {
    var canvas = TextCanvas()
    let low = MountainCar.minPosition, high = MountainCar.maxPosition
    let columns = Double(canvas.width - 1)
    func height(_ x: Double) -> Double { libmSin(3 * x) * 0.45 + 0.55 }
    func row(_ y: Double) -> Double { 13 - y * 11 }
    func column(_ x: Double) -> Double { (x - low) / (high - low) * columns }
    for c in 0..<canvas.width {
        let x = low + Double(c) / columns * (high - low)
        canvas.plot(x: Double(c), y: row(height(x)), ".")
    }
    canvas.plot(x: column(goalPosition), y: row(height(goalPosition)) - 1, "F")
    canvas.plot(x: column(goalPosition), y: row(height(goalPosition)) - 2, ">")
    canvas.plot(x: column(position), y: row(height(position)) - 1, "C")
    canvas.write("position=\(format(position)) velocity=\(format(velocity, digits: 4))", column: 0, row: canvas.height - 1)
    return canvas.rendered()
}
