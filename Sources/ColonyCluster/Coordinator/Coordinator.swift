import ColonyTransport
import Dispatch
import Foundation
import Synchronization

/// The one fixed address of a run: members register with it, beat their hearts, ask it where the
/// learner is, and read the run's status from it.
///
/// It binds a ROUTER (e.g. `tcp://*:5555`) on its own thread, which owns the socket for its whole
/// life. Every message is validated (`WireLimits.control`); a bad one is dropped and counted in
/// `drops`, never trusted. A member that stays silent for `missedHeartbeats` intervals is dropped
/// and logged. Everything else reads the state through a lock, from any thread.
///
/// ```swift
/// let coordinator = Coordinator(configuration: .init(endpoint: "tcp://*:5555"))
/// try coordinator.start()          // returns once bound
/// ...
/// coordinator.stop()               // joins the loop thread
/// ```
///
/// Requests it answers (all JSON control messages, docs/wire.md):
/// `register` → `registered`; `heartbeat` → `heartbeatReply` (`known: false` for an unknown member,
/// which then registers again); `unregister`; `discover` → `discoverReply` (the current learner's
/// and replay server's endpoints, or "none yet"); `statusRequest` → `statusReply` (`ClusterStatus`);
/// `shutdown` from a member → `shutdown` to every member.
///
/// Who may do what (best effort until CURVE authenticates members, issue 14 item 2): a member is
/// known by its identity, the sender id of its header together with the ROUTER routing id of the
/// connection it registered on. `shutdown` and `unregister` count only from a registered identity;
/// a learner or replay server registers only while no live member of that role has another identity
/// (a forged `learner` cannot take over discovery until the real one has expired); a heartbeat from
/// another connection is told to register again. A sender that knows a member's id and reuses its
/// connection still passes: only keys make this strict. Every per-sender map is bounded
/// (`maximumMembers`, `DropCounter.maximumSenders`) and status replies are cut to `maximumStatusReplyBytes`.
public final class Coordinator: Sendable {
    public struct Configuration: Sendable {
        /// Where to bind, e.g. `tcp://*:5555`, `tcp://127.0.0.1:*` (any free port), `inproc://coordinator`.
        public var endpoint: String
        /// How often members beat (members adopt it from the `registered` reply).
        public var heartbeatInterval: Duration
        /// A member silent for this many intervals is dropped.
        public var missedHeartbeats: Int
        /// Largest message accepted; libzmq refuses larger frames before allocating them.
        public var maximumMessageBytes: Int
        /// Members dropped for silence that status keeps showing.
        public var droppedMembersKept: Int
        /// Live members at most; registrations beyond are refused and counted (`too many members`).
        public var maximumMembers: Int
        /// How long to keep trying a bind whose address is in use: libzmq closes sockets in the
        /// background, so a coordinator restarted in the same process may find its predecessor's
        /// endpoint still bound for a moment.
        public var bindRetry: Duration
        public var logger: ClusterLogger

        public init(endpoint: String, heartbeatInterval: Duration = .seconds(1), missedHeartbeats: Int = 3,
                    maximumMessageBytes: Int = 1 << 20, droppedMembersKept: Int = 16, bindRetry: Duration = .seconds(1),
                    maximumMembers: Int = 4096, logger: ClusterLogger = ClusterLogger(label: "coordinator")) {
            self.maximumMembers = maximumMembers
            self.endpoint = endpoint
            self.bindRetry = bindRetry
            self.heartbeatInterval = heartbeatInterval
            self.missedHeartbeats = missedHeartbeats
            self.maximumMessageBytes = maximumMessageBytes
            self.droppedMembersKept = droppedMembersKept
            self.logger = logger
        }
    }

    public let configuration: Configuration
    /// Messages refused, per claimed sender and reason.
    public let drops = DropCounter()
    /// Random per coordinator start; members see it change when the coordinator restarts.
    public let runID: UInt64

    private let context: ZMQContext
    private let state: Mutex<State>
    private let loop = Mutex<OwningThread?>(nil)
    private let startedAt = ContinuousClock.now

    private struct Member: Sendable {
        var id: UInt64
        var info: MemberInfo
        var routingID: FrameBuffer
        var registeredAt: ContinuousClock.Instant
        var lastHeard: ContinuousClock.Instant
        var stats: MemberStats
    }

    private struct Dropped: Sendable {
        var id: UInt64
        var info: MemberInfo
        var silence: Duration
        var at: ContinuousClock.Instant
    }

    private struct State: Sendable {
        var boundEndpoint: String?
        var members: [UInt64: Member] = [:]
        var dropped: [Dropped] = []
        var stopRequested = false
        var pendingShutdown: String?
        var shutdownReason: String?
    }

    /// `context` must be the members' context for `inproc://` endpoints; any context works for tcp.
    public init(configuration: Configuration, context: ZMQContext = ZMQContext()) {
        precondition(configuration.heartbeatInterval > .zero && configuration.missedHeartbeats >= 1, "heartbeats need a positive interval")
        self.configuration = configuration
        self.context = context
        runID = UInt64.random(in: 1...UInt64.max)
        state = Mutex(State())
    }

    // MARK: Life cycle

    /// Binds and starts the loop thread; returns once the socket is bound, or throws why it could not
    /// bind (address in use, bad endpoint). Call once.
    public func start() throws {
        let outcome = Mutex<Result<String, ClusterError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = OwningThread(name: "colony-coordinator") { [self] in
            run { result in
                outcome.withLock { $0 = result }
                ready.signal()
            }
        }
        let alreadyStarted = loop.withLock { current -> Bool in
            if current != nil { return true }
            current = thread
            return false
        }
        precondition(!alreadyStarted, "Coordinator.start() called twice")
        thread.start()
        ready.wait()
        switch outcome.withLock({ $0 })! {
        case .success(let endpoint):
            state.withLock { $0.boundEndpoint = endpoint }
        case .failure(let error):
            thread.join()
            throw error
        }
    }

    /// Stops the loop and closes the socket (members keep running and will re-register with the
    /// next coordinator at this address). Idempotent; returns once the thread has finished (at
    /// once when called from the thread itself, which then finishes after the caller returns).
    public func stop() {
        state.withLock { $0.stopRequested = true }
        loop.withLock { $0 }?.join()
    }

    /// The endpoint actually bound (`tcp://127.0.0.1:*` resolved to its port); nil before `start()`.
    public var boundEndpoint: String? { state.withLock { $0.boundEndpoint } }

    /// Tells every member to shut down (the same as a member's `shutdown` request). Thread-safe.
    public func broadcastShutdown(reason: String) {
        state.withLock { $0.pendingShutdown = reason }
    }

    /// Why the run was asked to end (by a member or `broadcastShutdown`); nil while it runs.
    public var shutdownReason: String? { state.withLock { $0.shutdownReason } }

    /// The current membership and figures, as a status request would get them.
    public func status() -> ClusterStatus {
        let now = ContinuousClock.now
        let refused = drops.snapshot()
        return state.withLock { state in
            let members = state.members.values.map { member in
                ClusterStatus.Member(
                    id: formatID(member.id), role: member.info.role, name: member.info.name, host: member.info.host,
                    pid: member.info.pid, endpoints: member.info.endpoints,
                    heartbeatAgeSeconds: (now - member.lastHeard).seconds, registeredSecondsAgo: (now - member.registeredAt).seconds,
                    stats: member.stats)
            }.sorted { ($0.role, $0.name, $0.id) < ($1.role, $1.name, $1.id) }
            return ClusterStatus(
                endpoint: state.boundEndpoint ?? configuration.endpoint, runID: formatID(runID),
                uptimeSeconds: (now - startedAt).seconds, heartbeatIntervalSeconds: configuration.heartbeatInterval.seconds,
                members: members, aggregate: .init(members: members),
                droppedMembers: state.dropped.reversed().map { dropped in
                    ClusterStatus.DroppedMember(
                        id: formatID(dropped.id), role: dropped.info.role, name: dropped.info.name, host: dropped.info.host,
                        pid: dropped.info.pid, silentSeconds: dropped.silence.seconds, droppedSecondsAgo: (now - dropped.at).seconds)
                },
                droppedMessages: refused, shutdownReason: state.shutdownReason)
        }
    }

    // MARK: The loop (on its own thread; the only code that touches the socket)

    private static let acceptedTypes: Set<MessageType> = [.register, .heartbeat, .unregister, .discover, .statusRequest, .shutdown]

    private func run(started: (Result<String, ClusterError>) -> Void) {
        let log = configuration.logger
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context, .router)
            // Replies to a member that has gone fail with EHOSTUNREACH instead of vanishing silently.
            try socket.setRouterMandatory(true)
            try socket.setMaximumMessageSize(bytes: Int64(configuration.maximumMessageBytes))
            let bindDeadline = ContinuousClock.now + configuration.bindRetry
            while true {
                do {
                    try socket.bind(configuration.endpoint)
                    break
                } catch let error as ZMQError where error.code == EADDRINUSE && ContinuousClock.now < bindDeadline {
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
            let bound = try socket.lastEndpoint
            started(.success(bound))
            log.info("listening on \(bound) (heartbeat \(configuration.heartbeatInterval.seconds) s, dropping members silent for \(configuration.missedHeartbeats) intervals)")
        } catch {
            started(.failure(ClusterError("coordinator cannot bind \(configuration.endpoint): \(error)")))
            return
        }
        defer { socket.close() }

        var limits = WireLimits.control(maximumMessageBytes: configuration.maximumMessageBytes)
        limits.acceptedTypes = Self.acceptedTypes
        var sender = WireSender(senderID: runID, runID: runID)
        let pollMilliseconds = max(1, min(50, Int(configuration.heartbeatInterval.seconds * 1000 / 5)))

        do {
            while true {
                let (stop, shutdown) = state.withLock { state -> (Bool, String?) in
                    defer { state.pendingShutdown = nil }
                    return (state.stopRequested, state.pendingShutdown)
                }
                if stop { break }
                if let shutdown { broadcast(shutdown: shutdown, socket: socket, sender: &sender) }
                if try socket.waitReadable(timeout: pollMilliseconds) {
                    // Drain what is there, a bounded batch at a time, so expiry and stop stay timely.
                    for _ in 0..<256 {
                        guard let receipt = try socket.receiveWire(limits: limits, routed: true, dontWait: true, drops: drops) else { break }
                        handle(receipt, socket: socket, sender: &sender)
                    }
                }
                expireSilentMembers()
            }
            log.info("stopped")
        } catch let error as ZMQError where error.isTerminated {
            log.info("stopped: context terminated")
        } catch {
            log.error("stopped: \(error)")
        }
    }

    private func handle(_ receipt: WireReceipt, socket: ZMQSocket, sender: inout WireSender) {
        let log = configuration.logger
        switch receipt {
        case let .dropped(error, claimed, _):
            log.debug("refused a message from \(DropCounter.key(forSender: claimed)): \(error)")
        case let .message(message, routingID?):
            do {
                try respond(to: message, from: routingID, socket: socket, sender: &sender)
            } catch {
                drops.record(error, sender: message.senderID)
                log.debug("refused \(message.type) from \(formatID(message.senderID)): \(error)")
            }
        case .message:
            break  // a ROUTER always has the peer's identity
        }
    }

    private func respond(to message: WireMessage, from routingID: FrameBuffer, socket: ZMQSocket, sender: inout WireSender) throws(WireError) {
        let log = configuration.logger
        let now = ContinuousClock.now
        let id = message.senderID
        func reply<Payload: Encodable>(_ type: MessageType, _ payload: Payload) {
            send(sender.control(type, payload), to: routingID, socket: socket, what: "\(type) to \(formatID(id))")
        }
        switch message.type {
        case .register:
            let payload = try message.json(RegisterPayload.self)
            if let problem = payload.member.problem() { throw .badControlPayload("register: \(problem)") }
            let outcome = state.withLock { state -> RegistrationOutcome in
                let known = state.members[id] != nil
                if let refusal = Self.refusal(of: payload.member, id: id, routingID: routingID, in: state, maximumMembers: configuration.maximumMembers) {
                    return .refused(refusal.reason, refusal.detail)
                }
                state.members[id] = Member(id: id, info: payload.member, routingID: routingID,
                                           registeredAt: state.members[id]?.registeredAt ?? now, lastHeard: now,
                                           stats: payload.stats ?? MemberStats())
                return known ? .reregistered : .registered
            }
            let known: Bool
            switch outcome {
            case .refused(let reason, let detail):
                drops.record(reason, sender: id)
                log.warning("refused the registration of \(payload.member.role.rawValue) \(payload.member.name) from \(formatID(id)): \(detail)")
                return
            case .registered: known = false
            case .reregistered: known = true
            }
            let member = payload.member
            let endpoints = member.endpoints.isEmpty ? "" : ", serving " + member.endpoints.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            log.info("\(known ? "re-registered" : "registered") \(member.role.rawValue) \(member.name) (\(member.host), pid \(member.pid), id \(formatID(id)))\(endpoints)")
            reply(.registered, RegisteredPayload(memberID: formatID(id), heartbeatIntervalSeconds: configuration.heartbeatInterval.seconds,
                                                 missedHeartbeats: configuration.missedHeartbeats))
        case .heartbeat:
            let payload = try message.json(HeartbeatPayload.self)
            let known = state.withLock { state -> Bool in
                // Only the registered connection beats for a member; any other is asked to register (and is
                // refused while the member lives).
                guard var member = state.members[id], member.routingID.bytes == routingID.bytes else { return false }
                member.lastHeard = now
                member.stats = payload.stats
                state.members[id] = member
                return true
            }
            if !known { log.debug("heartbeat from unknown member \(formatID(id)): asking it to register") }
            reply(.heartbeatReply, HeartbeatReplyPayload(known: known, reason: known ? nil : "unknown member"))
        case .unregister:
            _ = try message.json(EmptyPayload.self)
            guard isRegistered(id, routingID) else {
                drops.record(.unregisteredSender, sender: id)
                log.warning("ignored an unregister from \(formatID(id)): not a registered member's connection")
                return
            }
            if let member = state.withLock({ $0.members.removeValue(forKey: id) }) {
                log.info("\(member.info.role.rawValue) \(member.info.name) (id \(formatID(id))) left")
            }
        case .discover:
            _ = try message.json(EmptyPayload.self)
            reply(.discoverReply, discovery())
        case .statusRequest:
            _ = try message.json(EmptyPayload.self)
            // Within the limit every status client decodes with (a reply it refuses would be no status at all).
            reply(.statusReply, status().fitting(inBytes: Self.maximumStatusReplyBytes))
        case .shutdown:
            let payload = try message.json(ShutdownPayload.self)
            guard isRegistered(id, routingID), let name = state.withLock({ $0.members[id]?.info.name }) else {
                drops.record(.unregisteredSender, sender: id)
                log.warning("ignored a shutdown request from \(formatID(id)), which is not a registered member's connection: \(payload.reason.prefix(200))")
                return
            }
            log.info("\(name) asks to end the run: \(payload.reason)")
            broadcast(shutdown: payload.reason, socket: socket, sender: &sender)
        default:
            throw .typeNotAccepted(message.type)  // unreachable: the limits accept only the types above
        }
    }

    /// Status replies are cut to this (members left out, workers first): half of what `colony status`
    /// accepts, so a reply is always read, however many members registered.
    public static let maximumStatusReplyBytes = CoordinatorRequest.maximumReplyBytes / 2

    private enum RegistrationOutcome {
        case registered, reregistered
        case refused(DropReason, String)
    }

    /// Why a registration must be refused, if it must: another identity under a registered id, a
    /// second live learner or replay server (discovery hands out the newest, so that would be a
    /// hijack), or a full member table.
    private static func refusal(of info: MemberInfo, id: UInt64, routingID: FrameBuffer, in state: State,
                                maximumMembers: Int) -> (reason: DropReason, detail: String)? {
        if let existing = state.members[id] {
            return existing.routingID.bytes == routingID.bytes ? nil
                : (.nameTaken, "id \(formatID(id)) is registered from another connection (it registers again once that one has expired)")
        }
        if info.role == .learner || info.role == .replay, let live = state.members.values.first(where: { $0.info.role == info.role }) {
            return (.nameTaken, "\(live.info.role.rawValue) \(live.info.name) (id \(formatID(live.id)), pid \(live.info.pid)) is live; "
                + "another registers once it has left or expired")
        }
        if state.members.count >= maximumMembers { return (.tooManyMembers, "\(maximumMembers) members already") }
        return nil
    }

    /// Whether `id` is a member registered from this connection.
    private func isRegistered(_ id: UInt64, _ routingID: FrameBuffer) -> Bool {
        state.withLock { $0.members[id]?.routingID.bytes == routingID.bytes }
    }

    /// The most recently registered live learner and replay server.
    private func discovery() -> DiscoverReply {
        state.withLock { state in
            func newest(_ role: MemberRole) -> DiscoverReply.Member? {
                state.members.values.filter { $0.info.role == role }.max { $0.registeredAt < $1.registeredAt }.map {
                    DiscoverReply.Member(id: formatID($0.id), name: $0.info.name, host: $0.info.host, endpoints: $0.info.endpoints)
                }
            }
            let learner = newest(.learner)
            return DiscoverReply(learner: learner, replay: newest(.replay), message: learner == nil ? DiscoverReply.noneYet : "ready")
        }
    }

    private func broadcast(shutdown reason: String, socket: ZMQSocket, sender: inout WireSender) {
        let recipients = state.withLock { state -> [Member] in
            state.shutdownReason = reason
            return Array(state.members.values)
        }
        configuration.logger.info("telling \(recipients.count) member\(recipients.count == 1 ? "" : "s") to shut down: \(reason)")
        for member in recipients {
            send(sender.control(.shutdown, ShutdownPayload(reason: reason)), to: member.routingID, socket: socket, what: "shutdown to \(member.info.name)")
        }
    }

    private func send(_ message: WireMessage, to routingID: FrameBuffer, socket: ZMQSocket, what: String) {
        do {
            // ROUTER never blocks; dontWait turns a full peer queue into a logged drop.
            if try !socket.send(message, routingID: routingID, dontWait: true) {
                configuration.logger.debug("could not send \(what): peer queue full")
            }
        } catch {
            configuration.logger.debug("could not send \(what): \(error)")
        }
    }

    private func expireSilentMembers() {
        let now = ContinuousClock.now
        let limit = configuration.heartbeatInterval * configuration.missedHeartbeats
        let expired = state.withLock { state -> [Dropped] in
            let silent = state.members.values.filter { now - $0.lastHeard > limit }
            var dropped: [Dropped] = []
            for member in silent {
                state.members[member.id] = nil
                dropped.append(Dropped(id: member.id, info: member.info, silence: now - member.lastHeard, at: now))
            }
            state.dropped.append(contentsOf: dropped)
            state.dropped.removeFirst(max(0, state.dropped.count - configuration.droppedMembersKept))
            return dropped
        }
        for member in expired {
            configuration.logger.warning("dropped \(member.info.role.rawValue) \(member.info.name) (\(member.info.host), pid \(member.info.pid), id \(formatID(member.id))): "
                + "silent for \(String(format: "%.2f", member.silence.seconds)) s (\(configuration.missedHeartbeats) heartbeat intervals)")
        }
    }
}

/// A cluster role could not do what it was asked (bind, reach the coordinator); the text says why.
public struct ClusterError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Duration {
    /// As a number of seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Whole milliseconds, at least `minimum`.
    func milliseconds(atLeast minimum: Int) -> Int {
        max(minimum, Int((seconds * 1000).rounded()))
    }
}
