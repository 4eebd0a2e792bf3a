import ColonyNumerics

/// How a population decides, at a generation boundary, which members continue and which are replaced
/// by a copy of another (the exploit step).
public enum SelectionRule: Sendable, Equatable, CustomStringConvertible {
    /// Ray Tune's PBT: the members in the bottom `quantile` by fitness each copy one drawn uniformly from the
    /// top `quantile` and are then mutated; everyone else continues unchanged. The count is ⌈n·quantile⌉,
    /// at most ⌊n/2⌋; a quantile of 0 turns evolution off (the baseline of the same population).
    case truncation(quantile: Double)
    /// AgileRL's tournament: every slot takes the winner of a tournament of `size` members drawn with
    /// replacement (the best of them wins; failed members are not drawn) and is then mutated; with
    /// `elitism` the best member keeps its slot unchanged and unmutated.
    case tournament(size: Int, elitism: Bool)

    public var description: String {
        switch self {
        case .truncation(let quantile): "truncation (quantile \(quantile))"
        case .tournament(let size, let elitism): "tournament (size \(size)\(elitism ? ", elitism" : ""))"
        }
    }

    /// What happens to every slot given the members' fitness (nil: the member failed or has none yet).
    public func select(fitness: [Double?], random: inout RandomSource) -> SelectionOutcome {
        let ranking = Self.ranking(fitness)
        let count = fitness.count
        var outcome = SelectionOutcome(donors: Array(0..<count), mutated: [], ranking: ranking)
        guard count >= 2 else { return outcome }
        switch self {
        case .truncation(let quantile):
            let replaced = min(Int((Double(count) * quantile).rounded(.up)), count / 2)
            guard replaced > 0 else { return outcome }
            let top = Array(ranking.prefix(replaced))
            for slot in ranking.suffix(replaced) {
                outcome.donors[slot] = top[random.nextInt(below: top.count)]
                outcome.mutated.insert(slot)
            }
        case .tournament(let size, let elitism):
            // Rank positions decide tournaments: a better rank wins, so ties between equal fitness resolve
            // as the ranking does (lower slot first). Failed members do not enter while any member has fitness.
            var position = [Int](repeating: 0, count: count)
            for (place, slot) in ranking.enumerated() { position[slot] = place }
            let withFitness = ranking.filter { fitness[$0].map(\.isFinite) ?? false }
            let entrants = withFitness.isEmpty ? ranking : withFitness.sorted()
            let elite = ranking[0]
            for slot in 0..<count where !(elitism && slot == elite) {
                var winner = entrants[random.nextInt(below: entrants.count)]
                for _ in 1..<max(1, size) {
                    let entrant = entrants[random.nextInt(below: entrants.count)]
                    if position[entrant] < position[winner] { winner = entrant }
                }
                outcome.donors[slot] = winner
                outcome.mutated.insert(slot)
            }
        }
        return outcome
    }

    /// Slots best first: higher fitness first, equal fitness by lower slot, members without a finite
    /// fitness last (by slot).
    public static func ranking(_ fitness: [Double?]) -> [Int] {
        fitness.indices.sorted { a, b in
            switch (fitness[a].flatMap { $0.isFinite ? $0 : nil }, fitness[b].flatMap { $0.isFinite ? $0 : nil }) {
            case let (x?, y?): x != y ? x > y : a < b
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a < b
            }
        }
    }
}

/// The exploit decisions of one generation boundary.
public struct SelectionOutcome: Sendable, Equatable {
    /// For every slot, the slot whose member it continues from (itself when it keeps its own).
    public var donors: [Int]
    /// Slots whose configuration is mutated before the next interval.
    public var mutated: Set<Int>
    /// Slots best first (see `SelectionRule.ranking`).
    public var ranking: [Int]

    /// Slots that take a copy of another member.
    public var recipients: [Int] { donors.indices.filter { donors[$0] != $0 } }
}
