import ColonyNumerics

/// Gymnasium's `CartPole-v1`: push a cart left or right to keep a pole upright.
///
/// Dynamics, thresholds and rewards are Gymnasium's `CartPoleEnv` line for line (float64 state,
/// float32 observation `[x, ẋ, θ, θ̇]`), so recorded Gymnasium trajectories replay exactly.
/// Reward is 1 per step including the terminating one, then 0 for steps taken after termination
/// without a reset (Gymnasium warns there); `suttonBartoReward` gives 0 per step and −1 on failure.
/// Episodes terminate when `|x| > 2.4` or `|θ| > 12°`; `CartPole-v1` truncates at 500 steps.
/// `state` is `[x, ẋ, θ, θ̇]`; setting it, as in Gymnasium, does not clear the after-termination count
/// (only `reset` does).
public final class CartPole: SnapshottableEnvironment {
    /// How the state is advanced; Gymnasium's default is `.euler`.
    public enum Integrator: Sendable {
        case euler
        case semiImplicitEuler
    }

    public static let defaultMaxEpisodeSteps = 500

    public let id: String = "CartPole-v1"
    public let observationSpace: Space
    public let actionSpace: Space = .discrete(2)
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource

    public let suttonBartoReward: Bool
    public let integrator: Integrator

    // Gymnasium's constants, derived the same way so every float64 matches.
    let gravity = 9.8
    let massCart = 1.0
    let massPole = 0.1
    let totalMass: Double
    let length = 0.5  // half the pole's length
    let poleMassLength: Double
    let forceMagnitude = 10.0
    let tau = 0.02
    let thetaThresholdRadians = 12 * 2 * Double.pi / 360
    let xThreshold = 2.4

    private var x = 0.0, xDot = 0.0, theta = 0.0, thetaDot = 0.0
    private var hasState = false
    /// Gymnasium's `steps_beyond_terminated`: nil until the pole falls.
    private var stepsBeyondTerminated: Int?

    public init(
        seed: UInt64 = 0, maxEpisodeSteps: Int? = nil,
        suttonBartoReward: Bool = false, integrator: Integrator = .euler
    ) {
        self.randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.suttonBartoReward = suttonBartoReward
        self.integrator = integrator
        totalMass = massPole + massCart
        poleMassLength = massPole * length
        let high: [Float] = [
            Float(xThreshold * 2), .infinity, Float(thetaThresholdRadians * 2), .infinity,
        ]
        observationSpace = .box(low: high.map { -$0 }, high: high)
    }

    public var state: [Double] {
        get { [x, xDot, theta, thetaDot] }
        set {
            precondition(newValue.count == 4, "CartPole state is [x, x_dot, theta, theta_dot]")
            (x, xDot, theta, thetaDot) = (newValue[0], newValue[1], newValue[2], newValue[3])
            hasState = true
        }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        x = randomSource.uniform(-0.05, 0.05)
        xDot = randomSource.uniform(-0.05, 0.05)
        theta = randomSource.uniform(-0.05, 0.05)
        thetaDot = randomSource.uniform(-0.05, 0.05)
        stepsBeyondTerminated = nil
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .discrete(let index) = action, index == 0 || index == 1 else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }

        let force = index == 1 ? forceMagnitude : -forceMagnitude
        let cosTheta = libmCos(theta)
        let sinTheta = libmSin(theta)
        // https://coneural.org/florian/papers/05_cart_pole.pdf, in Gymnasium's operation order.
        let temp = (force + poleMassLength * (thetaDot * thetaDot) * sinTheta) / totalMass
        let thetaAcc = (gravity * sinTheta - cosTheta * temp)
            / (length * (4.0 / 3.0 - massPole * (cosTheta * cosTheta) / totalMass))
        let xAcc = temp - poleMassLength * thetaAcc * cosTheta / totalMass

        switch integrator {
        case .euler:
            x = x + tau * xDot
            xDot = xDot + tau * xAcc
            theta = theta + tau * thetaDot
            thetaDot = thetaDot + tau * thetaAcc
        case .semiImplicitEuler:
            xDot = xDot + tau * xAcc
            x = x + tau * xDot
            thetaDot = thetaDot + tau * thetaAcc
            theta = theta + tau * thetaDot
        }

        let terminated = x < -xThreshold || x > xThreshold
            || theta < -thetaThresholdRadians || theta > thetaThresholdRadians
        let reward: Double
        if !terminated {
            reward = suttonBartoReward ? 0.0 : 1.0
        } else if let beyond = stepsBeyondTerminated {
            stepsBeyondTerminated = beyond + 1
            reward = suttonBartoReward ? -1.0 : 0.0
        } else {
            stepsBeyondTerminated = 0
            reward = suttonBartoReward ? -1.0 : 1.0
        }

        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: reward, terminated: terminated,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    @inline(__always)
    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 4, "CartPole observations have 4 elements")
        observation[0] = Float(x)
        observation[1] = Float(xDot)
        observation[2] = Float(theta)
        observation[3] = Float(thetaDot)
    }

    /// The cart on its track (`|` marks ±2.4), the pole drawn at its angle.
    public func render() -> String {
        var canvas = TextCanvas()
        let columnsPerMetre = 10.0, center = 30.0
        let trackRow = 12
        for column in 0..<canvas.width { canvas.plot(column: column, row: trackRow, "=") }
        for edge in [-xThreshold, xThreshold] {
            canvas.plot(x: center + edge * columnsPerMetre, y: Double(trackRow), "|")
        }
        let cartColumn = center + x * columnsPerMetre
        canvas.write("[###]", column: Int(cartColumn.rounded()) - 2, row: trackRow - 1)
        // Cells are about twice as tall as wide, so vertical distances take half the cells.
        let poleLength = 2 * length
        let tipX = cartColumn + poleLength * libmSin(theta) * columnsPerMetre
        let tipY = Double(trackRow - 2) - poleLength * libmCos(theta) * columnsPerMetre / 2
        canvas.line(fromX: cartColumn, y0: Double(trackRow - 2), toX: tipX, y1: tipY, "*")
        canvas.write(
            "x=\(format(x)) v=\(format(xDot)) theta=\(format(theta)) omega=\(format(thetaDot))",
            column: 0, row: canvas.height - 1)
        return canvas.rendered()
    }
}
