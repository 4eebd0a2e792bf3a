import ColonyNumerics

/// Gymnasium's `Acrobot-v1`: swing a two-link pendulum, actuated at the elbow, above a line.
///
/// Sutton & Barto's "book" dynamics integrated with one RK4 step of 0.2 s, then angles wrapped to
/// [−π, π] and velocities bounded to ±4π and ±9π, all in Gymnasium's float64 operation order. The
/// system is chaotic (a one-ulp change shows up at 1e-5 within ~100 steps), so the arithmetic
/// mirrors NumPy exactly, `x**2` included (libm `pow`, not `x * x`).
/// Actions 0, 1, 2 apply torque −1, 0, +1. Reward −1 per step, 0 on the terminating step
/// (`−cos θ1 − cos(θ1 + θ2) > 1`); `Acrobot-v1` truncates at 500 steps.
/// Observation `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]`; `state` is `[θ1, θ2, θ̇1, θ̇2]`.
public final class Acrobot: SnapshottableEnvironment {
    public static let defaultMaxEpisodeSteps = 500

    public let id: String = "Acrobot-v1"
    public let observationSpace: Space
    public let actionSpace: Space = .discrete(3)
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource
    /// Uniform noise added to the torque; Gymnasium's default (and ours) is 0.
    public let torqueNoiseMax: Double

    static let dt = 0.2
    static let maxVelocity1 = 4 * Double.pi
    static let maxVelocity2 = 9 * Double.pi
    static let availableTorque: [Double] = [-1.0, 0.0, 1.0]

    // Gymnasium's link parameters; `**2` of these is exact, so they are precomputed.
    private let m1 = 1.0, m2 = 1.0, l1 = 1.0, l2 = 1.0, lc1 = 0.5, lc2 = 0.5, i1 = 1.0, i2 = 1.0
    private let g = 9.8

    private var theta1 = 0.0, theta2 = 0.0, dtheta1 = 0.0, dtheta2 = 0.0
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil, torqueNoiseMax: Double = 0) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.torqueNoiseMax = torqueNoiseMax
        let high: [Float] = [1, 1, 1, 1, Float(Acrobot.maxVelocity1), Float(Acrobot.maxVelocity2)]
        observationSpace = .box(low: high.map { -$0 }, high: high)
    }

    public var state: [Double] {
        get { [theta1, theta2, dtheta1, dtheta2] }
        set {
            precondition(newValue.count == 4, "Acrobot state is [theta1, theta2, dtheta1, dtheta2]")
            (theta1, theta2, dtheta1, dtheta2) = (newValue[0], newValue[1], newValue[2], newValue[3])
            hasState = true
        }
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        // Gymnasium stores the reset state as float32.
        theta1 = Double(Float(randomSource.uniform(-0.1, 0.1)))
        theta2 = Double(Float(randomSource.uniform(-0.1, 0.1)))
        dtheta1 = Double(Float(randomSource.uniform(-0.1, 0.1)))
        dtheta2 = Double(Float(randomSource.uniform(-0.1, 0.1)))
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .discrete(let index) = action, index >= 0, index < 3 else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }

        var torque = Acrobot.availableTorque[index]
        if torqueNoiseMax > 0 { torque += randomSource.uniform(-torqueNoiseMax, torqueNoiseMax) }

        // One RK4 step over [0, dt], as Gymnasium's `rk4(self._dsdt, s_augmented, [0, self.dt])`.
        let y0 = (theta1, theta2, dtheta1, dtheta2)
        let dt = Acrobot.dt - 0
        let dt2 = dt / 2.0
        let k1 = derivatives(y0, torque)
        let k2 = derivatives(
            (y0.0 + dt2 * k1.0, y0.1 + dt2 * k1.1, y0.2 + dt2 * k1.2, y0.3 + dt2 * k1.3), torque)
        let k3 = derivatives(
            (y0.0 + dt2 * k2.0, y0.1 + dt2 * k2.1, y0.2 + dt2 * k2.2, y0.3 + dt2 * k2.3), torque)
        let k4 = derivatives(
            (y0.0 + dt * k3.0, y0.1 + dt * k3.1, y0.2 + dt * k3.2, y0.3 + dt * k3.3), torque)
        let sixth = dt / 6.0
        let n0 = y0.0 + sixth * (k1.0 + 2 * k2.0 + 2 * k3.0 + k4.0)
        let n1 = y0.1 + sixth * (k1.1 + 2 * k2.1 + 2 * k3.1 + k4.1)
        let n2 = y0.2 + sixth * (k1.2 + 2 * k2.2 + 2 * k3.2 + k4.2)
        let n3 = y0.3 + sixth * (k1.3 + 2 * k2.3 + 2 * k3.3 + k4.3)

        theta1 = Acrobot.wrap(n0, -Double.pi, Double.pi)
        theta2 = Acrobot.wrap(n1, -Double.pi, Double.pi)
        dtheta1 = Acrobot.bound(n2, -Acrobot.maxVelocity1, Acrobot.maxVelocity1)
        dtheta2 = Acrobot.bound(n3, -Acrobot.maxVelocity2, Acrobot.maxVelocity2)

        let terminated = -libmCos(theta1) - libmCos(theta2 + theta1) > 1.0
        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: terminated ? 0.0 : -1.0, terminated: terminated,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    /// Gymnasium's `_dsdt` ("book" variant): the time derivative of `[θ1, θ2, θ̇1, θ̇2]`.
    @inline(__always)
    private func derivatives(
        _ s: (Double, Double, Double, Double), _ a: Double
    ) -> (Double, Double, Double, Double) {
        let (theta1, theta2, dtheta1, dtheta2) = s
        let pi = Double.pi
        let lc1Squared = lc1 * lc1, l1Squared = l1 * l1, lc2Squared = lc2 * lc2  // exact
        let cosTheta2 = libmCos(theta2)
        let sinTheta2 = libmSin(theta2)
        let d1 = m1 * lc1Squared + m2 * (l1Squared + lc2Squared + 2 * l1 * lc2 * cosTheta2) + i1 + i2
        let d2 = m2 * (lc2Squared + l1 * lc2 * cosTheta2) + i2
        let phi2 = m2 * lc2 * g * libmCos(theta1 + theta2 - pi / 2.0)
        let phi1 = -m2 * l1 * lc2 * libmPow(dtheta2, 2) * sinTheta2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sinTheta2
            + (m1 * lc1 + m2 * l1) * g * libmCos(theta1 - pi / 2)
            + phi2
        let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * libmPow(dtheta1, 2) * sinTheta2 - phi2)
            / (m2 * lc2Squared + i2 - libmPow(d2, 2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return (dtheta1, dtheta2, ddtheta1, ddtheta2)
    }

    /// Gymnasium's `wrap`: shifts by whole periods into [m, M].
    static func wrap(_ x: Double, _ m: Double, _ M: Double) -> Double {
        let diff = M - m
        var x = x
        while x > M { x = x - diff }
        while x < m { x = x + diff }
        return x
    }

    /// Gymnasium's `bound`: Python's `min(max(x, m), M)`.
    static func bound(_ x: Double, _ m: Double, _ M: Double) -> Double {
        var value = x
        if m > value { value = m }
        if M < value { value = M }
        return value
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 6, "Acrobot observations have 6 elements")
        observation[0] = Float(libmCos(theta1))
        observation[1] = Float(libmSin(theta1))
        observation[2] = Float(libmCos(theta2))
        observation[3] = Float(libmSin(theta2))
        observation[4] = Float(dtheta1)
        observation[5] = Float(dtheta2)
    }

    /// Both links hanging from the pivot `O`; the dashed line is the height to swing above.
    public func render() -> String {
        var canvas = TextCanvas()
        let pivotColumn = 30.0, pivotRow = 7.0
        let columnsPerMetre = 6.4, rowsPerMetre = 3.2
        func cell(_ x: Double, _ y: Double) -> (Double, Double) {
            (pivotColumn + x * columnsPerMetre, pivotRow - y * rowsPerMetre)
        }
        let targetRow = Int((pivotRow - 1.0 * rowsPerMetre).rounded())
        for column in stride(from: 0, to: canvas.width, by: 2) {
            canvas.plot(column: column, row: targetRow, "-")
        }
        let p1 = (l1 * libmSin(theta1), -l1 * libmCos(theta1))
        let p2 = (p1.0 + l2 * libmSin(theta1 + theta2), p1.1 - l2 * libmCos(theta1 + theta2))
        let c0 = cell(0, 0), c1 = cell(p1.0, p1.1), c2 = cell(p2.0, p2.1)
        canvas.line(fromX: c0.0, y0: c0.1, toX: c1.0, y1: c1.1, "#")
        canvas.line(fromX: c1.0, y0: c1.1, toX: c2.0, y1: c2.1, "*")
        canvas.plot(x: c0.0, y: c0.1, "O")
        canvas.plot(x: c1.0, y: c1.1, "o")
        canvas.plot(x: c2.0, y: c2.1, "@")
        canvas.write(
            "theta1=\(format(theta1)) theta2=\(format(theta2)) w1=\(format(dtheta1)) w2=\(format(dtheta2))",
            column: 0, row: canvas.height - 1)
        return canvas.rendered()
    }
}
