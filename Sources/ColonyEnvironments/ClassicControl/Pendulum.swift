import ColonyNumerics

/// Gymnasium's `Pendulum-v1`: swing a pendulum up and hold it upright with a limited torque.
///
/// The torque is clipped to [−2, 2] as Gymnasium clips it (larger actions are accepted). Reward is
/// `−(θ̂² + 0.1·θ̇² + 0.001·u²)` with θ̂ the angle normalised to [−π, π); the angular velocity is
/// clipped to ±8. It never terminates; `Pendulum-v1` truncates at 200 steps. The float32 parts of
/// Gymnasium's arithmetic (the torque terms, under NumPy 2 promotion) are kept float32 here.
/// Observation `[cos θ, sin θ, θ̇]`; `state` is `[θ, θ̇]` with θ = 0 upright.
public final class Pendulum: SnapshottableEnvironment {
    public static let defaultMaxEpisodeSteps = 200

    public let id: String = "Pendulum-v1"
    public let observationSpace: Space = .box(low: [-1, -1, -8], high: [1, 1, 8])
    public let actionSpace: Space = .box(low: [-2], high: [2])
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource
    /// Gravitational acceleration, Gymnasium's `g` argument (default 10.0).
    public let g: Double

    static let maxSpeed = 8.0
    static let maxTorque: Float = 2.0
    static let dt = 0.05
    private let m = 1.0, l = 1.0

    private var theta = 0.0, thetaDot = 0.0
    /// The last applied (clipped) torque, for `render()`.
    private var lastTorque: Float?
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil, g: Double = 10.0) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.g = g
    }

    public var state: [Double] {
        get { [theta, thetaDot] }
        set {
            precondition(newValue.count == 2, "Pendulum state is [theta, theta_dot]")
            (theta, thetaDot) = (newValue[0], newValue[1])
            hasState = true
        }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        theta = randomSource.uniform(-Double.pi, Double.pi)
        thetaDot = randomSource.uniform(-1.0, 1.0)
        lastTorque = nil
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .continuous(let values) = action, values.count == 1, values[0].isFinite else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }

        // np.clip of the float32 action stays float32, and so do the products with it.
        let u = min(max(values[0], -Self.maxTorque), Self.maxTorque)
        lastTorque = u
        let torqueCost = Double(Float(0.001 as Double) * libmPowf(u, 2))
        let costs = libmPow(Self.angleNormalize(theta), 2) + 0.1 * libmPow(thetaDot, 2) + torqueCost
        let torqueTerm = Double(Float(3.0 / (m * libmPow(l, 2))) * u)
        var newThetaDot = thetaDot + (3 * g / (2 * l) * libmSin(theta) + torqueTerm) * Self.dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        let newTheta = theta + newThetaDot * Self.dt
        theta = newTheta
        thetaDot = newThetaDot

        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: -costs, terminated: false,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    /// Gymnasium's `angle_normalize`: `((x + π) % 2π) − π`, with NumPy's floored remainder.
    static func angleNormalize(_ x: Double) -> Double {
        numpyRemainder(x + Double.pi, 2 * Double.pi) - Double.pi
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 3, "Pendulum observations have 3 elements")
        observation[0] = Float(libmCos(theta))
        observation[1] = Float(libmSin(theta))
        observation[2] = Float(thetaDot)
    }

    /// The rod from the pivot `O` to the bob `@`; θ = 0 points up.
    public func render() -> String {
        var canvas = TextCanvas()
        let pivot = (30.0, 7.0)
        let tip = (pivot.0 - 12 * libmSin(theta), pivot.1 - 6 * libmCos(theta))
        canvas.line(fromX: pivot.0, y0: pivot.1, toX: tip.0, y1: tip.1, "#")
        canvas.plot(x: pivot.0, y: pivot.1, "O")
        canvas.plot(x: tip.0, y: tip.1, "@")
        let torque = lastTorque.map { format(Double($0)) } ?? "none"
        canvas.write(
            "theta=\(format(theta)) omega=\(format(thetaDot)) torque=\(torque)",
            column: 0, row: canvas.height - 1)
        return canvas.rendered()
    }
}
