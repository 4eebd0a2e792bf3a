import ColonyTransport
import Foundation

/// One request and its reply over a short-lived DEALER created, used and closed on the calling
/// thread (so any thread may ask, without touching a member's long-lived socket). Used for
/// `discover` and `colony status`.
public enum CoordinatorRequest {
    /// Largest reply accepted (a status of a few hundred members fits easily).
    public static let maximumReplyBytes = 8 << 20

    /// Sends `type` with `payload` and waits up to `timeout` for a reply of type `reply`; nil when
    /// none came. Blocking: call it from a thread that may block, not from Swift's cooperative pool.
    public static func exchange<Payload: Encodable>(_ type: MessageType, _ payload: Payload, expecting reply: MessageType,
                                                    coordinator: String, context: ZMQContext, timeout: Duration) throws -> WireMessage? {
        let socket = try ZMQSocket(context, .dealer)
        defer { socket.close() }
        try socket.setMaximumMessageSize(bytes: Int64(maximumReplyBytes))
        try socket.connect(coordinator)
        var sender = WireSender()
        let request = sender.control(type, payload)
        // Queued until the connection is up; a coordinator that never answers is the timeout's business.
        guard try socket.send(request, dontWait: true) else { return nil }
        let deadline = ContinuousClock.now + timeout
        let limits = WireLimits.control(maximumMessageBytes: maximumReplyBytes)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, try socket.waitReadable(timeout: remaining.milliseconds(atLeast: 1)) else { return nil }
            if case .message(let message, _)? = try socket.receiveWire(limits: limits, dontWait: true), message.type == reply {
                return message
            }
        }
    }

    /// The coordinator's status, or a `ClusterError` saying nothing answered within `timeout`.
    public static func status(coordinator: String, context: ZMQContext = ZMQContext(), timeout: Duration = .seconds(2)) throws -> ClusterStatus {
        guard let reply = try exchange(.statusRequest, EmptyPayload(), expecting: .statusReply, coordinator: coordinator, context: context, timeout: timeout) else {
            let keys = context.security == nil && coordinator.hasPrefix("tcp://")
                ? " If the run uses keys (`colony cluster up` makes them in <run directory>/keys), pass --keys DIR." : ""
            throw ClusterError("no coordinator answered at \(coordinator) within \(String(format: "%g", timeout.seconds)) s: is it running?" + keys)
        }
        return try reply.json(ClusterStatus.self)
    }

    /// Where the learner and replay server are (`isReady` false: "none yet"); nil when nothing answered.
    public static func discover(coordinator: String, context: ZMQContext = ZMQContext(), timeout: Duration = .seconds(1)) throws -> DiscoverReply? {
        guard let reply = try exchange(.discover, EmptyPayload(), expecting: .discoverReply, coordinator: coordinator, context: context, timeout: timeout) else {
            return nil
        }
        return try reply.json(DiscoverReply.self)
    }
}
