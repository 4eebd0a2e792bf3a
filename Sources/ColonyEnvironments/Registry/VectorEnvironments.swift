import Foundation

/// Builds the vector environments the trainer, the workers and evaluation step, for any id: the
/// environment source that serves its scheme (`gym:` → the Python environment host, bare ids →
/// the native registry) does the work.
///
/// ```swift
/// let native = try VectorEnvironments.make(id: "CartPole-v1", count: 8, seed: 1)
/// var pong = EnvironmentSettings(id: "gym:ALE/Pong-v5")
/// pong.wrappers = ["AtariPreprocessing(frame_skip=1)", "FrameStackObservation(stack_size=4)"]
/// pong.kwargs["frameskip"] = .int(1)
/// let remote = try VectorEnvironments.make(pong, count: 8, seed: 1)
/// ```
public enum VectorEnvironments {
    /// `count` copies of `settings.id`, seeded from `seed` and reset. Copies without a time limit
    /// of their own get `defaultMaxEpisodeSteps`, if given.
    public static func make(
        _ settings: EnvironmentSettings, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int? = nil, renderMode: String? = nil
    ) throws -> any VectorEnvironment {
        precondition(count > 0, "a vector environment needs at least one environment")
        return try source(for: settings.id).makeVector(settings, count: count, seed: seed, defaultMaxEpisodeSteps: defaultMaxEpisodeSteps, renderMode: renderMode)
    }

    /// `count` copies of `id` with default settings.
    public static func make(id: String, count: Int, seed: UInt64, defaultMaxEpisodeSteps: Int? = nil) throws -> any VectorEnvironment {
        try make(EnvironmentSettings(id: id), count: count, seed: seed, defaultMaxEpisodeSteps: defaultMaxEpisodeSteps)
    }

    /// Spaces and limits of `settings.id` (an unknown id fails here, naming the known ones).
    public static func describe(_ settings: EnvironmentSettings) throws -> EnvironmentDescription {
        try source(for: settings.id).describe(settings)
    }

    /// Adds a source for a new scheme. Throws `EnvironmentError.duplicateRegistration` if it is taken.
    public static func register(_ source: any EnvironmentSource) throws {
        try sources.add(source)
    }

    /// The registered schemes (`""` is the native registry).
    public static var schemes: [String] { sources.schemes }

    /// The scheme of an id: the text before its first `:`, or `""` for a bare id.
    public static func scheme(of id: String) -> String {
        guard let colon = id.firstIndex(of: ":") else { return "" }
        return String(id[..<colon])
    }

    static func source(for id: String) throws -> any EnvironmentSource {
        let scheme = scheme(of: id)
        guard let source = sources.source(scheme) else {
            throw EnvironmentError.unknownEnvironment(
                id: id, known: Environments.ids + sources.schemes.filter { !$0.isEmpty }.map { "\($0):<id>" },
                closest: closestMatch(to: scheme, in: sources.schemes.filter { !$0.isEmpty }).map { "\($0):\(id.drop { $0 != ":" }.dropFirst())" })
        }
        return source
    }

    private static let sources = SourceTable(sources: [NativeEnvironmentSource(), GymnasiumEnvironmentSource()])

    /// The schemes' table behind the static API, guarded by a lock.
    private final class SourceTable: @unchecked Sendable {
        private let lock = NSLock()
        private var table: [String: any EnvironmentSource]

        init(sources: [any EnvironmentSource]) {
            table = Dictionary(uniqueKeysWithValues: sources.map { ($0.scheme, $0) })
        }

        func source(_ scheme: String) -> (any EnvironmentSource)? { lock.withLock { table[scheme] } }
        var schemes: [String] { lock.withLock { table.keys.sorted() } }

        func add(_ source: any EnvironmentSource) throws {
            try lock.withLock {
                guard table[source.scheme] == nil else { throw EnvironmentError.duplicateRegistration(id: "\(source.scheme):") }
                table[source.scheme] = source
            }
        }
    }
}
