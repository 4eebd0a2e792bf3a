import Foundation

/// Which environment a run uses and how it is built: the id plus, for environments served by a
/// Python host (`gym:` ids), the keyword arguments, wrappers, interpreter and host limits. A run
/// file's `[env]` table and `--set env.<key>=<value>` fill it (docs/envhost.md).
public struct EnvironmentSettings: Sendable, Equatable {
    /// `CartPole-v1` (native) or `gym:ALE/Pong-v5` (served by a Python host).
    public var id: String
    /// `gymnasium.make(id, **kwargs)`.
    public var kwargs: [String: EnvironmentArgument] = [:]
    /// Wrappers applied in order: a `gymnasium.wrappers` class name or `module:Class`, with
    /// optional literal keyword arguments, e.g. `FrameStackObservation(stack_size=4)`.
    public var wrappers: [String] = []
    /// Numeric `info` entries the host sends back with every step (e.g. `lives`).
    public var infoKeys: [String] = []
    /// The Python interpreter that runs the hosts; nil: `COLONY_PYTHON`, then `make envhost`'s venv.
    public var python: String?
    /// Host processes per vector; nil: one per core, at most one per environment.
    public var hosts: Int?
    /// A host that takes longer than this for one request is hung.
    public var stepTimeoutSeconds: Double = 60
    /// Crashed, hung or raising hosts a vector restarts before the error ends the run.
    public var maximumRestarts: Int = 3
    /// How a vector reaches its hosts.
    public var transport: HostTransport = .ipc
    /// Whether a cluster worker splits its environments into two halves and acts on one while the
    /// other's hosts step (Sample Factory's double buffering); only vectors that step in other
    /// processes gain from it.
    public var doubleBuffer = true
    /// Whether hosts write uint8 step observations (frames) into a shared-memory segment the vector
    /// reads, instead of sending them through the socket (hosts always run on the vector's machine).
    public var sharedMemory = true

    public enum HostTransport: String, Sendable, Equatable, CaseIterable {
        /// A Unix socket in a private temporary directory (one machine).
        case ipc
        /// `tcp://127.0.0.1` on an ephemeral port.
        case tcp
    }

    public init(id: String) {
        self.id = id
    }

    /// The keys `env.<key>` takes besides `kwargs.<name>`.
    public static let keys = ["id", "wrappers", "info_keys", "python", "hosts", "step_timeout_seconds", "max_restarts", "transport", "double_buffer", "shared_memory"]

    /// Sets `key` (`hosts`, `kwargs.frameskip`, ...) from a run file or `--set env.<key>=<value>`.
    /// Throws `EnvironmentSettingsError` naming the key, what it takes and the closest known key.
    public mutating func set(_ key: String, _ value: EnvironmentArgument) throws {
        if key.hasPrefix("kwargs.") {
            let name = String(key.dropFirst("kwargs.".count))
            guard !name.isEmpty, !name.contains(".") else { throw EnvironmentSettingsError.invalid(key: key, expected: "kwargs.<name>") }
            kwargs[name] = value
            return
        }
        switch key {
        case "id":
            guard let text = value.stringValue, !text.isEmpty else { throw EnvironmentSettingsError.invalid(key: key, expected: "an environment id") }
            id = text
        case "wrappers":
            wrappers = try Self.strings(value, key: key)
        case "info_keys":
            infoKeys = try Self.strings(value, key: key)
        case "python":
            guard let text = value.stringValue, !text.isEmpty else { throw EnvironmentSettingsError.invalid(key: key, expected: "a path to a Python interpreter") }
            python = text
        case "hosts":
            guard let count = value.intValue, count >= 1 else { throw EnvironmentSettingsError.invalid(key: key, expected: "a positive integer") }
            hosts = count
        case "step_timeout_seconds":
            guard let seconds = value.doubleValue, seconds > 0, seconds.isFinite else {
                throw EnvironmentSettingsError.invalid(key: key, expected: "a positive number of seconds")
            }
            stepTimeoutSeconds = seconds
        case "max_restarts":
            guard let count = value.intValue, count >= 0 else { throw EnvironmentSettingsError.invalid(key: key, expected: "a non-negative integer") }
            maximumRestarts = count
        case "transport":
            guard let name = value.stringValue, let transport = HostTransport(rawValue: name) else {
                throw EnvironmentSettingsError.invalid(key: key, expected: "\"ipc\" or \"tcp\"")
            }
            self.transport = transport
        case "double_buffer":
            guard case .bool(let flag) = value else { throw EnvironmentSettingsError.invalid(key: key, expected: "true or false") }
            doubleBuffer = flag
        case "shared_memory":
            guard case .bool(let flag) = value else { throw EnvironmentSettingsError.invalid(key: key, expected: "true or false") }
            sharedMemory = flag
        default:
            throw EnvironmentSettingsError.unknownKey(key: key, closest: closestMatch(to: key, in: Self.keys + ["kwargs.<name>"]))
        }
    }

    /// Every key that differs from a fresh `EnvironmentSettings(id:)`, in a stable order, for
    /// writing a run's `config.toml` and passing settings on to other processes.
    public var assignments: [(key: String, value: EnvironmentArgument)] {
        let defaults = EnvironmentSettings(id: id)
        var result: [(key: String, value: EnvironmentArgument)] = [("id", .string(id))]
        if !wrappers.isEmpty { result.append(("wrappers", .array(wrappers.map { .string($0) }))) }
        if !infoKeys.isEmpty { result.append(("info_keys", .array(infoKeys.map { .string($0) }))) }
        if let python { result.append(("python", .string(python))) }
        if let hosts { result.append(("hosts", .int(hosts))) }
        if stepTimeoutSeconds != defaults.stepTimeoutSeconds { result.append(("step_timeout_seconds", .double(stepTimeoutSeconds))) }
        if maximumRestarts != defaults.maximumRestarts { result.append(("max_restarts", .int(maximumRestarts))) }
        if transport != defaults.transport { result.append(("transport", .string(transport.rawValue))) }
        if doubleBuffer != defaults.doubleBuffer { result.append(("double_buffer", .bool(doubleBuffer))) }
        if sharedMemory != defaults.sharedMemory { result.append(("shared_memory", .bool(sharedMemory))) }
        for name in kwargs.keys.sorted() { result.append(("kwargs.\(name)", kwargs[name]!)) }
        return result
    }

    private static func strings(_ value: EnvironmentArgument, key: String) throws -> [String] {
        if case .array(let items) = value {
            let strings = items.compactMap(\.stringValue)
            if strings.count == items.count { return strings }
        }
        if let single = value.stringValue { return [single] }
        throw EnvironmentSettingsError.invalid(key: key, expected: "a list of strings")
    }
}

/// A bad `[env]` key or value.
public enum EnvironmentSettingsError: Error, Equatable, CustomStringConvertible {
    case unknownKey(key: String, closest: String?)
    case invalid(key: String, expected: String)

    public var description: String {
        switch self {
        case .unknownKey(let key, let closest):
            let hint = closest.map { " Did you mean env.\($0)?" } ?? ""
            return "unknown environment setting env.\(key).\(hint) Known: \(EnvironmentSettings.keys.map { "env.\($0)" }.joined(separator: ", ")), env.kwargs.<name>."
        case .invalid(let key, let expected):
            return "env.\(key) takes \(expected)"
        }
    }
}

extension EnvironmentSettings {
    /// The settings as one JSON object of their `assignments` (`{"id": "gym:...", "kwargs.frameskip": 1}`),
    /// for checkpoints and for handing them to other processes.
    public var json: String {
        var object: [String: EnvironmentArgument] = [:]
        for (key, value) in assignments { object[key] = value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Reads `json`; throws `EnvironmentSettingsError` for a key or value that does not fit.
    public init(json: String) throws {
        guard let object = try? JSONDecoder().decode([String: EnvironmentArgument].self, from: Data(json.utf8)) else {
            throw EnvironmentSettingsError.invalid(key: "<json>", expected: "a JSON object of environment settings")
        }
        guard case .string(let id)? = object["id"] else { throw EnvironmentSettingsError.invalid(key: "id", expected: "an environment id") }
        self.init(id: id)
        for key in object.keys.sorted() where key != "id" { try set(key, object[key]!) }
    }
}
