/// The candidate nearest to `word` by case-insensitive edit distance, when it is near enough to be
/// a plausible typo: at most half the length of `word`, and never less than `minimumTolerance`.
///
/// Environment ids allow 3 edits (`"CartPole-v0"` for `"CartPole-v1"` with a typo on top);
/// configuration keys and agent names keep the default 2.
public func closestMatch(to word: String, in candidates: [String], minimumTolerance: Int = 2) -> String? {
    let target = Array(word.lowercased())
    var best: (name: String, distance: Int)? = nil
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased()))
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    guard let best, best.distance <= max(minimumTolerance, target.count / 2) else { return nil }
    return best.name
}

/// Levenshtein distance: insertions, deletions and substitutions, O(|a|·|b|) time and O(|b|) memory.
public func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
