import ColonyNumerics

/// bsuite's Catch (Osband et al., 2020, "Behaviour Suite for Reinforcement Learning") seen as pixels: a ball falls
/// one row per step down a 10 × 5 board from a random column of the top row; the agent moves a paddle on the bottom
/// row left, not at all or right (actions 0, 1, 2, clipped at the edges). When the ball reaches the bottom row, after
/// 9 steps, the episode terminates with reward +1 if the paddle is under it and −1 if not; every other step pays 0.
///
/// The observation is a 1 × 10 × 5 uint8 image (channel first), 255 where the ball and the paddle are and 0
/// elsewhere: the smallest task whose policy has to be read off an image, which is what the pixel tests train
/// convolutional agents on in seconds. A random policy scores about −0.6, a perfect one +1. `state` is
/// `[ball row, ball column, paddle column]`.
public final class Catch: SnapshottableEnvironment {
    public static let rows = 10
    public static let columns = 5

    public let id = "Catch-v0"
    public let observationSpace: Space = .box(shape: [1, Catch.rows, Catch.columns], low: 0, high: 255, elementType: .uint8)
    public let actionSpace: Space = .discrete(3)
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource

    private var ballRow = 0, ballColumn = 0, paddleColumn = Catch.columns / 2
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
    }

    public var state: [Double] {
        get { [Double(ballRow), Double(ballColumn), Double(paddleColumn)] }
        set {
            precondition(stateProblem(newValue) == nil, "Catch state: \(stateProblem(newValue)!)")
            (ballRow, ballColumn, paddleColumn) = (Int(newValue[0]), Int(newValue[1]), Int(newValue[2]))
            hasState = true
        }
    }

    public func stateProblem(_ candidate: [Double]) -> String? {
        guard candidate.count == 3, candidate.allSatisfy({ $0.rounded() == $0 }),
              (0..<Self.rows).contains(Int(exactly: candidate[0]) ?? -1),
              (0..<Self.columns).contains(Int(exactly: candidate[1]) ?? -1),
              (0..<Self.columns).contains(Int(exactly: candidate[2]) ?? -1) else {
            return "Catch's state is [ball row in 0..<10, ball column in 0..<5, paddle column in 0..<5], not \(candidate)"
        }
        return nil
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        (ballRow, ballColumn, paddleColumn) = (0, randomSource.nextInt(below: Self.columns), Self.columns / 2)
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .discrete(let move) = action, (0..<3).contains(move) else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }
        paddleColumn = min(max(paddleColumn + move - 1, 0), Self.columns - 1)
        // After the terminating step the ball stays on the bottom row (Gymnasium's convention: dynamics keep running).
        ballRow = min(ballRow + 1, Self.rows - 1)
        elapsedSteps += 1
        observe(into: observation)
        let landed = ballRow == Self.rows - 1
        return StepOutcome(
            reward: landed ? (paddleColumn == ballColumn ? 1 : -1) : 0, terminated: landed,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == Self.rows * Self.columns, "Catch observations have 50 elements")
        observation.update(repeating: 0)
        observation[ballRow * Self.columns + ballColumn] = 255
        observation[(Self.rows - 1) * Self.columns + paddleColumn] = 255
    }

    /// The board: `o` the ball, `=` the paddle (`@` both), `.` empty.
    public func render() -> String {
        (0..<Self.rows).map { row in
            String((0..<Self.columns).map { column -> Character in
                let ball = row == ballRow && column == ballColumn, paddle = row == Self.rows - 1 && column == paddleColumn
                return ball && paddle ? "@" : ball ? "o" : paddle ? "=" : "."
            })
        }.joined(separator: "\n")
    }
}
