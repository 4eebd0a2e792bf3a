import Foundation

/// The registry of environments by Gymnasium id, like `gymnasium.make`.
///
/// ```swift
/// let env = try Environments.make("CartPole-v1", seed: 7)   // with its 500-step time limit
/// ```
/// The built-in ids are Gymnasium 1.2's registrations of the classic-control and cliff-walking
/// tasks, and Catch-v0 (bsuite's Catch as a small image, Colony's pixel test task); `register` adds
/// more. Thread-safe.
public enum Environments {
    /// Gymnasium's registrations of the environments this module implements, and Catch.
    public static let builtIn: [EnvironmentSpec] = [
        EnvironmentSpec(id: "Catch-v0", maxEpisodeSteps: nil, rewardThreshold: 0.9) {
            Catch(seed: $0)
        },
        EnvironmentSpec(id: "CartPole-v1", maxEpisodeSteps: CartPole.defaultMaxEpisodeSteps, rewardThreshold: 475) {
            CartPole(seed: $0)
        },
        EnvironmentSpec(id: "Acrobot-v1", maxEpisodeSteps: Acrobot.defaultMaxEpisodeSteps, rewardThreshold: -100) {
            Acrobot(seed: $0)
        },
        EnvironmentSpec(id: "MountainCar-v0", maxEpisodeSteps: MountainCar.defaultMaxEpisodeSteps, rewardThreshold: -110) {
            MountainCar(seed: $0)
        },
        EnvironmentSpec(
            id: "MountainCarContinuous-v0", maxEpisodeSteps: MountainCarContinuous.defaultMaxEpisodeSteps,
            rewardThreshold: 90
        ) {
            MountainCarContinuous(seed: $0)
        },
        EnvironmentSpec(id: "Pendulum-v1", maxEpisodeSteps: Pendulum.defaultMaxEpisodeSteps) {
            Pendulum(seed: $0)
        },
        EnvironmentSpec(id: "CliffWalking-v1", maxEpisodeSteps: nil) {
            CliffWalking(seed: $0)
        },
        // Gymnasium 1.x renamed v0 to v1 when it added the (default-off) slippery option; the dynamics
        // are the same, so the older id keeps working for code and papers that use it.
        EnvironmentSpec(id: "CliffWalking-v0", maxEpisodeSteps: nil) {
            CliffWalking(seed: $0)
        },
        EnvironmentSpec(id: "CliffWalkingSlippery-v1", maxEpisodeSteps: nil) {
            CliffWalking(seed: $0, isSlippery: true)
        },
    ]

    private static let registry = Registry(specs: builtIn)

    /// Builds the environment registered as `id`, seeded with `seed` and with its time limit.
    /// Throws `EnvironmentError.unknownEnvironment` naming the known ids and the closest one.
    public static func make(_ id: String, seed: UInt64) throws -> any Environment {
        guard let spec = registry.spec(id) else {
            let known = ids
            throw EnvironmentError.unknownEnvironment(id: id, known: known, closest: closestMatch(to: id, in: known, minimumTolerance: idTypoTolerance))
        }
        let environment = spec.factory(seed)
        environment.maxEpisodeSteps = spec.maxEpisodeSteps
        return environment
    }

    /// The registration of `id`, if any.
    public static func spec(_ id: String) -> EnvironmentSpec? { registry.spec(id) }

    /// All registered ids, sorted.
    public static var ids: [String] { registry.ids }

    /// Adds an id. Throws `EnvironmentError.duplicateRegistration` if it is taken.
    public static func register(_ spec: EnvironmentSpec) throws {
        try registry.add(spec)
    }

    /// Environment ids allow 3 edits where other names allow 2 (see `closestMatch`).
    static let idTypoTolerance = 3

    /// The mutable table behind the static API, guarded by a lock.
    private final class Registry: @unchecked Sendable {
        private let lock = NSLock()
        private var specs: [String: EnvironmentSpec]

        init(specs: [EnvironmentSpec]) {
            self.specs = Dictionary(uniqueKeysWithValues: specs.map { ($0.id, $0) })
        }

        func spec(_ id: String) -> EnvironmentSpec? {
            lock.withLock { specs[id] }
        }

        var ids: [String] {
            lock.withLock { specs.keys.sorted() }
        }

        func add(_ spec: EnvironmentSpec) throws {
            try lock.withLock {
                guard specs[spec.id] == nil else { throw EnvironmentError.duplicateRegistration(id: spec.id) }
                specs[spec.id] = spec
            }
        }
    }
}
