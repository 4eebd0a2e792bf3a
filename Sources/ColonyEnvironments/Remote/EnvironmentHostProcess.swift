import ColonyTransport
import Foundation

/// One environment host: a Python process serving a slice of a vector's environments, and the
/// DEALER socket that talks to it. Like the vector that owns it, it has one owning thread, which
/// creates, uses and closes the socket. Every incarnation of the process gets a fresh socket and
/// endpoint, so nothing a dead host queued can reach its successor.
final class EnvironmentHostProcess {
    /// What `python -m colony_envhost --config` takes.
    struct Configuration: Encodable {
        var id: String
        var count: Int
        var kwargs: [String: EnvironmentArgument]
        var wrappers: [String]
        var infoKeys: [String]
        var renderMode: String?
        var firstIndex: Int
        /// Where the host puts its step observations when they are uint8 (`SharedObservations`); nil: on the wire.
        var sharedObservations: String?

        enum CodingKeys: String, CodingKey {
            case id, count, kwargs, wrappers, infoKeys = "info_keys", renderMode = "render_mode", firstIndex = "first_index"
            case sharedObservations = "shared_observations"
        }
    }

    /// The id as the run names it, for messages.
    let environment: String
    let configuration: Configuration
    private let python: String
    private let timeoutSeconds: Double
    private let transport: EnvironmentSettings.HostTransport
    private let context: ZMQContext
    /// A private directory for the ipc socket and the host's log.
    private let directory: String
    private let name: String

    private var socket: ZMQSocket?
    private var process: Process?
    private var sender = WireSender()
    private var incarnation = 0
    private(set) var spec: EnvironmentHostSpec?
    /// Reply validation, derived from the spec.
    private var limits = EnvironmentHostProcess.specLimits

    var pid: Int32? { process?.processIdentifier }
    private var logPath: String { "\(directory)/\(name).log" }

    init(environment: String, configuration: Configuration, python: String, timeoutSeconds: Double,
         transport: EnvironmentSettings.HostTransport, context: ZMQContext, directory: String, name: String) {
        self.environment = environment
        self.configuration = configuration
        self.python = python
        self.timeoutSeconds = timeoutSeconds
        self.transport = transport
        self.context = context
        self.directory = directory
        self.name = name
    }

    deinit { terminate() }

    // MARK: Life cycle

    /// Starts the process and waits for its spec. Throws `EnvironmentHostError`.
    @discardableResult
    func start() throws -> EnvironmentHostSpec {
        try awaitSpec(launch())
    }

    /// Starts the process and sends the spec request; `awaitSpec` takes the answer. Split so a
    /// vector's hosts start side by side (Python's imports take a second or more each).
    func launch() throws -> UInt64 {
        terminate()
        incarnation += 1
        spec = nil
        limits = Self.specLimits
        let socket = try ZMQSocket(context, .dealer)
        try socket.setMaximumMessageSize(bytes: Int64(Self.maximumMessageBytes))
        switch transport {
        case .ipc: try socket.bind("ipc://\(directory)/\(name)-\(incarnation).sock")
        case .tcp: try socket.bind("tcp://127.0.0.1:*")
        }
        self.socket = socket

        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let endpoint = try socket.lastEndpoint
        let log = FileHandle(forWritingAtPath: logPath)
        let configurationJSON = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        let process = PythonInterpreter.process(python, ["-m", "colony_envhost", "--connect", endpoint, "--config", configurationJSON])
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
        } catch {
            let missing = !PythonInterpreter.exists(python)
            throw EnvironmentHostError(.couldNotStart(python: python, status: missing ? "no such executable" : "not started"), environment: environment,
                                       pid: nil, detail: missing ? "no such file, nor a name on the PATH" : error.localizedDescription)
        }
        try? log?.close()
        self.process = process
        do {
            return try send(.envSpecRequest, control: true)
        } catch let error as EnvironmentHostError {
            throw startFailure(error)
        }
    }

    /// The spec the host sends in answer to `launch`'s request.
    func awaitSpec(_ sequence: UInt64) throws -> EnvironmentHostSpec {
        let reply: WireMessage
        do {
            reply = try awaitReply(to: sequence, expecting: .envSpec)
        } catch let error as EnvironmentHostError {
            throw startFailure(error)
        }
        let spec: EnvironmentHostSpec
        do {
            spec = try reply.json(EnvironmentHostSpec.self)
        } catch {
            throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "its spec does not decode: \(error)")
        }
        guard spec.count == configuration.count, spec.infoKeys == configuration.infoKeys else {
            throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid,
                                       detail: "it built \(spec.count) environments with info keys \(spec.infoKeys), not \(configuration.count) with \(configuration.infoKeys)")
        }
        self.spec = spec
        return spec
    }

    /// Installs the reply schemas once the vector knows the spaces.
    func setReplyLimits(_ limits: WireLimits) { self.limits = limits }

    /// Asks the host to exit, waits briefly, then kills it; closes the socket.
    func close() {
        if let process, process.isRunning, socket != nil {
            if (try? request(.envClose, control: true, expecting: .envClosed, timeoutSeconds: 2)) == nil { process.terminate() }
            waitForExit(process, seconds: 2)
        }
        terminate()
    }

    /// Kills the process (if running) and closes the socket.
    func terminate() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            waitForExit(process, seconds: 5)
        }
        process = nil
        socket?.close()
        socket = nil
    }

    private func waitForExit(_ process: Process, seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(2_000) }
    }

    // MARK: Requests

    /// Sends a request; returns its sequence number for `awaitReply`.
    func send(_ type: MessageType, tensors: [WireTensor] = [], control: Bool = false) throws -> UInt64 {
        guard let socket else { throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "the host is not running") }
        let message = control ? sender.control(type, [String: String]()) : sender.message(type, tensors: tensors)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        // A bound DEALER blocks until its peer connects: wait in slices, watching the process.
        while try !socket.send(message, dontWait: true) {
            try checkAlive()
            if Date() > deadline { throw hung() }
            usleep(1_000)
        }
        return message.sequence
    }

    /// Waits for the reply to `sequence`, validated with the reply limits. A reply to an earlier
    /// request is skipped; `envError` becomes the error it reports.
    func awaitReply(to sequence: UInt64, expecting type: MessageType, timeoutSeconds: Double? = nil) throws -> WireMessage {
        guard let socket else { throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "the host is not running") }
        let deadline = Date().addingTimeInterval(timeoutSeconds ?? self.timeoutSeconds)
        while true {
            if try socket.waitReadable(timeout: 100) {
                switch try socket.receiveWire(limits: limits) {
                case .message(let message, _)?:
                    guard message.parameterVersion == sequence else { continue }
                    if message.type == .envError { throw hostError(message) }
                    guard message.type == type else {
                        throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "answered \(message.type) to a request for \(type)")
                    }
                    return message
                case .dropped(let error, _, _)?:
                    throw EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "\(error)")
                case nil:
                    continue
                }
            }
            try checkAlive()
            if Date() > deadline { throw hung(timeoutSeconds ?? self.timeoutSeconds) }
        }
    }

    func request(_ type: MessageType, tensors: [WireTensor] = [], control: Bool = false, expecting reply: MessageType, timeoutSeconds: Double? = nil) throws -> WireMessage {
        try awaitReply(to: send(type, tensors: tensors, control: control), expecting: reply, timeoutSeconds: timeoutSeconds)
    }

    // MARK: Failures

    private func checkAlive() throws {
        guard let process, !process.isRunning else { return }
        let status = process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)\(Self.signalName(process.terminationStatus))"
            : "exited with status \(process.terminationStatus)"
        let tail = logTail()
        throw EnvironmentHostError(.died(status: status), environment: environment, pid: process.processIdentifier,
                                   detail: tail.lastLine ?? "it printed nothing", traceback: tail.text)
    }

    private func hung(_ seconds: Double? = nil) -> EnvironmentHostError {
        let error = EnvironmentHostError(.hung(seconds: seconds ?? timeoutSeconds), environment: environment, pid: pid, detail: "", traceback: logTail().text)
        terminate()
        return error
    }

    private struct ErrorPayload: Decodable {
        var message: String
        var exception: String?
        var traceback: String?
        var envIndex: Int?
        enum CodingKeys: String, CodingKey { case message, exception, traceback, envIndex = "env_index" }
    }

    private func hostError(_ message: WireMessage) -> EnvironmentHostError {
        guard let payload = try? message.json(ErrorPayload.self) else {
            return EnvironmentHostError(.protocolViolation, environment: environment, pid: pid, detail: "an envError that does not decode")
        }
        let kind: EnvironmentHostError.Kind = spec == nil ? .makeFailed : .raised(environmentIndex: payload.envIndex.map { $0 + configuration.firstIndex })
        return EnvironmentHostError(kind, environment: environment, pid: pid, detail: payload.message, traceback: spec == nil ? nil : payload.traceback)
    }

    /// A host that died before its spec never got going: say so with the interpreter's words.
    private func startFailure(_ error: EnvironmentHostError) -> EnvironmentHostError {
        switch error.kind {
        case .died(let status):
            return EnvironmentHostError(.couldNotStart(python: python, status: status), environment: environment, pid: error.pid, detail: error.detail, traceback: error.traceback)
        default:
            return error
        }
    }

    private func logTail() -> (text: String?, lastLine: String?) {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return (nil, nil) }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return (lines.isEmpty ? nil : lines.suffix(30).joined(separator: "\n"), lines.last)
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: " (SIGKILL: killed, e.g. by the OOM killer)"
        case SIGSEGV: " (SIGSEGV: a crash in native code)"
        case SIGABRT: " (SIGABRT)"
        case SIGTERM: " (SIGTERM)"
        case SIGBUS: " (SIGBUS)"
        default: ""
        }
    }

    /// Large enough for 64 raw Atari frames of 210 × 160 × 3 in one reply, with room to spare.
    static let maximumMessageBytes = 256 << 20

    /// What a host may send before its spec is known: JSON answers only.
    static let specLimits = WireLimits(
        maximumMessageBytes: maximumMessageBytes, maximumTensors: 1, maximumRank: 1,
        acceptedTypes: [.envSpec, .envError, .envClosed], finiteTypes: [],
        schemas: WireLimits.standardSchemas(controlBytes: 64 << 20))
}
