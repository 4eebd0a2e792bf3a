import ColonyTransport
import Dispatch
import Foundation
import Synchronization

/// A member's side of the coordinator: registers, beats its heart with the role's figures, hears
/// the shutdown order, and finds the learner.
///
/// It owns a DEALER on a dedicated thread. Reconnection is transparent: when the coordinator answers
/// a heartbeat with "unknown member" (it restarted, or dropped this member) the client registers
/// again; when the coordinator is silent for `missedHeartbeats` intervals the client opens a fresh
/// socket and registers again (which also reattaches `inproc://` endpoints).
///
/// ```swift
/// let client = CoordinatorClient(configuration: .init(
///     coordinator: "tcp://head:5555",
///     member: .thisProcess(role: .worker, name: "worker-3"),
///     stats: { worker.stats() },                         // called on the client thread each beat
///     onShutdown: { reason in stopping.store(true, ordering: .relaxed) }))
/// client.start()
/// guard let learner = try client.waitForLearner(timeout: .seconds(60))?.learner else { ... }
/// // ... connect to learner.endpoints["data"], act, send unrolls ...
/// client.stop()
/// ```
public final class CoordinatorClient: Sendable {
    public struct Configuration: Sendable {
        /// The coordinator's address, e.g. `tcp://head:5555`.
        public var coordinator: String
        public var member: MemberInfo
        /// The id this member is known by (the sender id of its messages).
        public var memberID: UInt64
        /// Until the coordinator's `registered` reply says otherwise: the register retry and heartbeat period.
        public var heartbeatInterval: Duration
        /// The coordinator silent this many intervals: reconnect and register again.
        public var missedHeartbeats: Int
        /// The role's current figures, called on the client thread once per heartbeat; keep it cheap.
        public var stats: @Sendable () -> MemberStats
        /// Called once, on the client thread, when the coordinator orders shutdown (with its reason).
        public var onShutdown: (@Sendable (String) -> Void)?
        public var logger: ClusterLogger

        public init(coordinator: String, member: MemberInfo, memberID: UInt64 = UInt64.random(in: 1...UInt64.max),
                    heartbeatInterval: Duration = .seconds(1), missedHeartbeats: Int = 3,
                    stats: @escaping @Sendable () -> MemberStats = { MemberStats() },
                    onShutdown: (@Sendable (String) -> Void)? = nil,
                    logger: ClusterLogger = ClusterLogger(label: "coordinator-client")) {
            self.coordinator = coordinator
            self.member = member
            self.memberID = memberID
            self.heartbeatInterval = heartbeatInterval
            self.missedHeartbeats = missedHeartbeats
            self.stats = stats
            self.onShutdown = onShutdown
            self.logger = logger
        }
    }

    public let configuration: Configuration
    private let context: ZMQContext
    private let state = Mutex(State())
    private let loop = Mutex<OwningThread?>(nil)

    private struct State: Sendable {
        var registered = false
        var registrations = 0
        var coordinatorRunID: UInt64?
        var shutdownReason: String?
        var pendingShutdownRequest: String?
        var stopRequested = false
        var unregisterOnStop = true
    }

    /// `context` must be the coordinator's for `inproc://` endpoints; any context works for tcp.
    public init(configuration: Configuration, context: ZMQContext = ZMQContext()) {
        precondition(configuration.heartbeatInterval > .zero && configuration.missedHeartbeats >= 1, "heartbeats need a positive interval")
        self.configuration = configuration
        self.context = context
    }

    // MARK: Life cycle

    /// Starts the client thread; registration happens in the background (see `isRegistered`). Call once.
    public func start() {
        let thread = OwningThread(name: "colony-coordinator-client") { [self] in run() }
        let alreadyStarted = loop.withLock { current -> Bool in
            if current != nil { return true }
            current = thread
            return false
        }
        precondition(!alreadyStarted, "CoordinatorClient.start() called twice")
        thread.start()
    }

    /// Stops heartbeats and closes the socket; with `unregister` the coordinator forgets the member at
    /// once, without it the member is dropped after `missedHeartbeats` silent intervals (as if it had
    /// died). Idempotent; returns once the thread has finished (at once when called from the
    /// thread itself, e.g. in a callback, which then finishes after the callback returns).
    public func stop(unregister: Bool = true) {
        state.withLock {
            $0.stopRequested = true
            $0.unregisterOnStop = unregister
        }
        loop.withLock { $0 }?.join()
    }

    // MARK: What the member sees

    /// Registered, and the coordinator has not said otherwise since.
    public var isRegistered: Bool { state.withLock { $0.registered } }
    /// Successful registrations so far (more than one after a coordinator restart).
    public var registrations: Int { state.withLock { $0.registrations } }
    /// The coordinator's order to shut down, with its reason; nil while the run goes on.
    public var shutdownReason: String? { state.withLock { $0.shutdownReason } }
    public var isShutdownRequested: Bool { shutdownReason != nil }

    /// Asks the coordinator to end the run (the learner, when it is done): the coordinator tells every
    /// member, this one included. Thread-safe; sent by the client thread within a poll period.
    public func requestShutdown(reason: String) {
        state.withLock { $0.pendingShutdownRequest = reason }
    }

    /// One discovery request over a short-lived socket on the calling thread; nil when the
    /// coordinator did not answer within `timeout`. Blocking.
    public func discover(timeout: Duration = .seconds(1)) throws -> DiscoverReply? {
        try CoordinatorRequest.discover(coordinator: configuration.coordinator, context: context, timeout: timeout)
    }

    /// Asks again every `retryInterval` until a learner is registered, the timeout passes (nil), or
    /// shutdown is ordered or the client stopped (nil). Blocking: call it from the role's own thread.
    public func waitForLearner(timeout: Duration? = nil, retryInterval: Duration = .milliseconds(500)) throws -> DiscoverReply? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var said = false
        while true {
            if state.withLock({ $0.stopRequested || $0.shutdownReason != nil }) { return nil }
            let started = ContinuousClock.now
            if let reply = try discover(timeout: min(retryInterval, .seconds(2))), reply.isReady { return reply }
            if !said {
                configuration.logger.info("no learner registered yet at \(configuration.coordinator); asking again every \(retryInterval.seconds) s")
                said = true
            }
            if let deadline, ContinuousClock.now >= deadline { return nil }
            let pause = retryInterval - (ContinuousClock.now - started)
            if pause > .zero { Thread.sleep(forTimeInterval: pause.seconds) }
        }
    }

    // MARK: The loop (on its own thread; the only code that touches the socket)

    private func run() {
        let log = configuration.logger
        var sender = WireSender(senderID: configuration.memberID)
        var interval = configuration.heartbeatInterval
        var missed = configuration.missedHeartbeats
        var socket: ZMQSocket?
        var lastRegisterSent: ContinuousClock.Instant?
        var lastHeartbeatSent = ContinuousClock.now
        var lastHeard = ContinuousClock.now
        var warnedSilence = false
        let limits = WireLimits.control()

        func connect() throws {
            socket?.close()
            let fresh = try ZMQSocket(context, .dealer)
            // Queue only to a live connection: a heartbeat for a coordinator that is not there is
            // skipped, not saved up and replayed in a burst.
            try fresh.setImmediate(true)
            try fresh.setHighWaterMarks(send: 16, receive: 64)
            try fresh.setReconnectInterval(milliseconds: 100, maximum: 2000)
            try fresh.setMaximumMessageSize(bytes: Int64(limits.maximumMessageBytes))
            try fresh.connect(configuration.coordinator)
            socket = fresh
            lastHeard = .now
            lastRegisterSent = nil
            state.withLock { $0.registered = false }
        }

        func send(_ message: WireMessage) throws {
            guard let socket else { return }
            if try !socket.send(message, dontWait: true) {
                log.debug("\(message.type) not sent: no connection to \(configuration.coordinator)")
            }
        }

        do {
            try connect()
            while true {
                let (stop, unregister, shutdownRequest, registered) = state.withLock { state in
                    defer { state.pendingShutdownRequest = nil }
                    return (state.stopRequested, state.unregisterOnStop, state.pendingShutdownRequest, state.registered)
                }
                if stop {
                    if unregister && registered, let socket {
                        try socket.setLinger(milliseconds: 200)  // let the goodbye leave before the close
                        try send(sender.control(.unregister, EmptyPayload()))
                    }
                    break
                }
                let now = ContinuousClock.now
                if let reason = shutdownRequest {
                    try send(sender.control(.shutdown, ShutdownPayload(reason: reason)))
                }
                if !registered {
                    if lastRegisterSent.map({ now - $0 >= interval }) ?? true {
                        try send(sender.control(.register, RegisterPayload(member: configuration.member, stats: configuration.stats())))
                        lastRegisterSent = now
                    }
                } else if now - lastHeartbeatSent >= interval {
                    try send(sender.control(.heartbeat, HeartbeatPayload(stats: configuration.stats())))
                    lastHeartbeatSent = now
                }
                if now - lastHeard > interval * missed {
                    // Said once per outage; the retries after that go to the debug log.
                    log.log(warnedSilence ? .debug : .warning, "coordinator at \(configuration.coordinator) silent for \(String(format: "%.1f", (now - lastHeard).seconds)) s; reconnecting")
                    warnedSilence = true
                    try connect()
                }

                let pollMilliseconds = max(1, min(50, Int(interval.seconds * 1000 / 5)))
                guard let socket, try socket.waitReadable(timeout: pollMilliseconds) else { continue }
                for _ in 0..<64 {
                    guard let receipt = try socket.receiveWire(limits: limits, dontWait: true) else { break }
                    guard case .message(let message, _) = receipt else {
                        if case .dropped(let error, _, _) = receipt { log.debug("refused a message from the coordinator: \(error)") }
                        continue
                    }
                    lastHeard = .now
                    warnedSilence = false
                    do {
                        try handle(message, interval: &interval, missed: &missed, lastHeartbeatSent: &lastHeartbeatSent)
                    } catch {
                        log.debug("refused \(message.type) from the coordinator: \(error)")
                    }
                }
            }
        } catch let error as ZMQError where error.isTerminated {
            log.debug("stopped: context terminated")
        } catch {
            log.error("coordinator client stopped: \(error)")
        }
        socket?.close()
        state.withLock { $0.registered = false }
    }

    private func handle(_ message: WireMessage, interval: inout Duration, missed: inout Int, lastHeartbeatSent: inout ContinuousClock.Instant) throws(WireError) {
        let log = configuration.logger
        switch message.type {
        case .registered:
            let payload = try message.json(RegisteredPayload.self)
            if payload.heartbeatIntervalSeconds > 0, payload.heartbeatIntervalSeconds.isFinite, payload.missedHeartbeats >= 1 {
                interval = .seconds(payload.heartbeatIntervalSeconds)
                missed = payload.missedHeartbeats
            }
            let (count, restarted) = state.withLock { state -> (Int, Bool) in
                let restarted = state.coordinatorRunID != nil && state.coordinatorRunID != message.runID
                state.coordinatorRunID = message.runID
                state.registered = true
                state.registrations += 1
                return (state.registrations, restarted)
            }
            lastHeartbeatSent = .now
            log.info("\(count == 1 ? "registered" : "registered again") with \(configuration.coordinator) as \(configuration.member.name) (id \(payload.memberID))"
                + (restarted ? ": the coordinator restarted" : ""))
        case .heartbeatReply:
            let payload = try message.json(HeartbeatReplyPayload.self)
            if !payload.known {
                log.info("coordinator says \(payload.reason ?? "unknown member"); registering again")
                state.withLock { $0.registered = false }
            }
        case .shutdown:
            let payload = try message.json(ShutdownPayload.self)
            let first = state.withLock { state -> Bool in
                defer { state.shutdownReason = state.shutdownReason ?? payload.reason }
                return state.shutdownReason == nil
            }
            if first {
                log.info("coordinator orders shutdown: \(payload.reason)")
                configuration.onShutdown?(payload.reason)
            }
        default:
            log.debug("ignored \(message.type) from the coordinator")
        }
    }
}
