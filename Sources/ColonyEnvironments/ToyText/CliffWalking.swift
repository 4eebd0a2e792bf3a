import ColonyNumerics

/// Gymnasium's `CliffWalking-v1` (and `CliffWalkingSlippery-v1`): walk a 4×12 grid from the
/// bottom-left corner to the bottom-right one along a cliff.
///
/// Actions 0, 1, 2, 3 move up, right, down, left; moves off the grid leave the agent in place.
/// Every step costs −1; stepping into the cliff (row 3, columns 1–10) costs −100 and puts the agent
/// back on the start cell without ending the episode; reaching the goal (row 3, column 11)
/// terminates. When slippery, the agent moves in the intended direction or either perpendicular one
/// with probability 1/3 each (Gymnasium 1.x's `is_slippery`, off by default). Gymnasium registers no
/// time limit for it. The observation is one element, the cell index `row·12 + column`
/// (Gymnasium's `Discrete(48)`); `state` is `[index]`.
public final class CliffWalking: SnapshottableEnvironment {
    public static let rows = 4
    public static let columns = 12
    public static let startIndex = 3 * 12
    public static let goalIndex = 3 * 12 + 11

    public let id: String
    public let observationSpace: Space = .discrete(48)
    public let actionSpace: Space = .discrete(4)
    public var maxEpisodeSteps: Int?
    public var elapsedSteps = 0
    public var randomSource: RandomSource
    public let isSlippery: Bool

    /// The deterministic outcome of each (cell, move): `transitions[cell * 4 + move]`.
    private let transitions: [(next: Int, reward: Double, terminated: Bool)]
    private var cell = CliffWalking.startIndex
    private var hasState = false

    public init(seed: UInt64 = 0, maxEpisodeSteps: Int? = nil, isSlippery: Bool = false) {
        randomSource = RandomSource(seed: seed)
        self.maxEpisodeSteps = maxEpisodeSteps
        self.isSlippery = isSlippery
        id = isSlippery ? "CliffWalkingSlippery-v1" : "CliffWalking-v1"
        let moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]  // up, right, down, left
        var table: [(next: Int, reward: Double, terminated: Bool)] = []
        for cell in 0..<(Self.rows * Self.columns) {
            for (dr, dc) in moves {
                let row = min(max(cell / Self.columns + dr, 0), Self.rows - 1)
                let column = min(max(cell % Self.columns + dc, 0), Self.columns - 1)
                let next = row * Self.columns + column
                if Self.isCliff(next) {
                    table.append((Self.startIndex, -100, false))
                } else {
                    table.append((next, -1, next == Self.goalIndex))
                }
            }
        }
        transitions = table
    }

    static func isCliff(_ cell: Int) -> Bool {
        cell / columns == rows - 1 && cell % columns >= 1 && cell % columns <= columns - 2
    }

    public var state: [Double] {
        get { [Double(cell)] }
        set {
            precondition(
                newValue.count == 1 && newValue[0] >= 0 && newValue[0] < 48 && newValue[0].rounded() == newValue[0],
                "CliffWalking state is [cell index in 0..<48]")
            cell = Int(newValue[0])
            hasState = true
        }
    }

    public func stateProblem(_ candidate: [Double]) -> String? {
        guard candidate.count == 1, candidate[0] >= 0, candidate[0] < 48, candidate[0].rounded() == candidate[0] else {
            return "CliffWalking's state is one cell index in 0..<48, not \(candidate)"
        }
        return nil
    }

    public func reset(seed: UInt64?, observation: UnsafeMutableBufferPointer<Float>) {
        if let seed { randomSource = RandomSource(seed: seed) }
        cell = Self.startIndex
        elapsedSteps = 0
        hasState = true
        observe(into: observation)
    }

    public func step(_ action: Action, observation: UnsafeMutableBufferPointer<Float>) throws -> StepOutcome {
        guard case .discrete(let move) = action, move >= 0, move < 4 else {
            throw EnvironmentError.invalidAction(environment: id, action: action, space: actionSpace)
        }
        guard hasState else { throw EnvironmentError.resetNeeded(environment: id) }

        var taken = move
        if isSlippery {
            // Gymnasium's categorical_sample over [(move−1)%4, move, (move+1)%4], each 1/3.
            let third = 1.0 / 3.0
            let u = randomSource.nextDouble()
            let pick = third > u ? 0 : (third + third > u ? 1 : (third + third + third > u ? 2 : 0))
            taken = (move + 3 + pick) % 4
        }
        let outcome = transitions[cell * 4 + taken]
        cell = outcome.next
        elapsedSteps += 1
        observe(into: observation)
        return StepOutcome(
            reward: outcome.reward, terminated: outcome.terminated,
            truncated: timeLimitReached(elapsedSteps, maxEpisodeSteps))
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        precondition(observation.count == 1, "CliffWalking observations have 1 element")
        observation[0] = Float(cell)
    }

    /// Gymnasium's `ansi` frame: `x` the agent, `C` the cliff, `T` the goal, `o` the floor.
    public func render() -> String {
        var text = ""
        for index in 0..<(Self.rows * Self.columns) {
            let column = index % Self.columns
            var symbol = index == cell ? " x " : (index == Self.goalIndex ? " T " : (Self.isCliff(index) ? " C " : " o "))
            if column == 0 { symbol = String(symbol.drop { $0 == " " }) }
            if column == Self.columns - 1 {
                while symbol.last == " " { symbol.removeLast() }
                symbol += "\n"
            }
            text += symbol
        }
        return text + "\n"
    }
}
