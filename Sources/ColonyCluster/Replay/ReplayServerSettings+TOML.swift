import ColonyStorage

extension ReplayServerSettings {
    /// The keys of the `[replay]` table and their defaults.
    public static let tomlKeys: [String: String] = [
        "capacity": "1000000", "item_size": "(required)", "selector": "\"prioritized\" | \"uniform\"", "alpha": "0.6",
        "samples_per_insert": "1", "min_size": "1", "error_buffer": "1e300 (no limit)",
        "max_times_sampled": "0 (never remove)", "checkpoint_every_seconds": "0 (never)", "checkpoint_path": "\"\" (none)",
    ]

    /// Reads the `[replay]` table (see `tomlKeys`; `defaultItemSize` stands in for a missing item_size); an unknown key, a wrong type or an invalid value
    /// throws, naming the key.
    /// `defaults` stands in for the keys the table leaves out (a cluster file derives them from its agent).
    public static func table(fromTOML document: TOMLDocument, source: String = "<toml>", defaultItemSize: Int? = nil,
                             defaults: ReplayTableConfiguration? = nil) throws -> (ReplayTableConfiguration, checkpointEverySeconds: Double?, checkpointPath: String?) {
        let entries = document.table("replay")
        func fail(_ message: String) -> FileFormatError { FileFormatError(source: source, line: 0, message: "[replay] \(message)") }
        for (key, _) in entries where tomlKeys[key] == nil {
            throw fail("unknown key \(key) (known: \(tomlKeys.keys.sorted().joined(separator: ", ")))")
        }
        func value(_ key: String) -> TOMLValue? { entries.first { $0.key == key }?.value }
        func int(_ key: String, _ fallback: Int?) throws -> Int {
            switch value(key) {
            case .int(let v)?: return v
            case nil: if let fallback { return fallback } else { throw fail("\(key) is required") }
            case let other?: throw fail("\(key) must be an integer, got \(other)")
            }
        }
        func double(_ key: String, _ fallback: Double) throws -> Double {
            switch value(key) {
            case .int(let v)?: return Double(v)
            case .double(let v)?: return v
            case nil: return fallback
            case let other?: throw fail("\(key) must be a number, got \(other)")
            }
        }
        func string(_ key: String, _ fallback: String) throws -> String {
            switch value(key) {
            case .string(let v)?: return v
            case nil: return fallback
            case let other?: throw fail("\(key) must be a string, got \(other)")
            }
        }
        let selector: ReplaySelector
        switch try string("selector", defaults?.selector.name ?? "prioritized") {
        case "prioritized": selector = .prioritized(alpha: try double("alpha", defaults.map { $0.selector == .uniform ? 0.6 : $0.selector.alpha } ?? 0.6))
        case "uniform": selector = .uniform
        case let other: throw fail("selector must be \"prioritized\" or \"uniform\", got \"\(other)\"")
        }
        let maxTimes = try int("max_times_sampled", defaults?.maxTimesSampled ?? 0)
        let limiter = defaults?.rateLimiter ?? RateLimiter.Configuration(samplesPerInsert: 1, minSize: 1, errorBuffer: 1e300)
        let configuration = ReplayTableConfiguration(
            capacity: try int("capacity", defaults?.capacity ?? 1_000_000), itemSize: try int("item_size", defaultItemSize ?? defaults?.itemSize),
            selector: selector,
            rateLimiter: .init(samplesPerInsert: try double("samples_per_insert", limiter.samplesPerInsert), minSize: try int("min_size", limiter.minSize),
                               errorBuffer: try double("error_buffer", limiter.errorBuffer)),
            maxTimesSampled: maxTimes > 0 ? maxTimes : nil)
        let every = try double("checkpoint_every_seconds", 0)
        let path = try string("checkpoint_path", "")
        return (configuration, every > 0 ? every : nil, path.isEmpty ? nil : path)
    }
}
