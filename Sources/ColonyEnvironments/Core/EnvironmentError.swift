/// Everything the environments throw. Messages name the environment and the offending value, so a
/// mismatch between agent and environment reads as one clear line.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    /// `make` was asked for an id nobody registered.
    case unknownEnvironment(id: String, known: [String], closest: String?)
    /// `register` was given an id that is already taken.
    case duplicateRegistration(id: String)
    /// The action is of the wrong kind or shape, out of a discrete range, or not finite.
    case invalidAction(environment: String, action: Action, space: Space)
    /// `step` before the first `reset` (or before a state was set), as Gymnasium's `ResetNeeded`.
    case resetNeeded(environment: String)
    /// A vector environment was asked to restore a snapshot, but its copies are not `SnapshottableEnvironment`s.
    case notSnapshottable(environment: String)
    /// A vector was asked to draw in a way its environment does not offer.
    case unsupportedRenderMode(environment: String, mode: String, available: [String])
    /// A snapshot (read from a checkpoint) does not fit these environments.
    case invalidSnapshot(environment: String, reason: String)

    public var description: String {
        switch self {
        case .unknownEnvironment(let id, let known, let closest):
            let hint = closest.map { " Did you mean \"\($0)\"?" } ?? ""
            return "Unknown environment \"\(id)\".\(hint) Known environments: \(known.joined(separator: ", "))."
        case .duplicateRegistration(let id):
            return "An environment with id \"\(id)\" is already registered."
        case .invalidAction(let environment, let action, let space):
            return "\(environment): action \(action) is not in the action space \(space)."
        case .resetNeeded(let environment):
            return "\(environment): call reset() (or set a state) before step()."
        case .notSnapshottable(let environment):
            return "\(environment): these environments cannot be snapshotted or restored."
        case .unsupportedRenderMode(let environment, let mode, let available):
            let offered = available.isEmpty ? "no render mode" : "render modes \(available.joined(separator: ", "))"
            return "\(environment) cannot render as \(mode): it offers \(offered)."
        case .invalidSnapshot(let environment, let reason):
            return "\(environment): the saved environment state cannot be restored: \(reason)."
        }
    }
}
