/// What `ZMQSocket.receiveWire` found: a valid message, or one that was dropped.
public enum WireReceipt: Sendable {
    /// `routingID` is the peer's identity frame on a ROUTER socket (nil otherwise): reply with it.
    case message(WireMessage, routingID: FrameBuffer?)
    /// Refused (already counted in the drop counter, if one was given).
    case dropped(WireError, claimedSender: UInt64?, routingID: FrameBuffer?)
}

extension ZMQSocket {
    /// Sends a wire message; on a ROUTER, `routingID` (the peer's identity frame) goes first.
    /// Tensor frames are sent without copying. Returns false when `dontWait` is set and the
    /// message could not be queued (PUSH/DEALER at the high-water mark: backpressure).
    @discardableResult
    public func send(_ message: WireMessage, routingID: FrameBuffer? = nil, dontWait: Bool = false) throws -> Bool {
        var frames = message.encodeFrames()
        if let routingID { frames.insert(routingID, at: 0) }
        return try send(frames, dontWait: dontWait)
    }

    /// Receives one message and validates it against `limits`. On a ROUTER (`routed`), frame 0 is the
    /// peer's identity. A bad message is returned as `.dropped` and recorded in `drops`; it never throws
    /// for bad input, only for socket errors (ETERM when the context shuts down). Nil on timeout.
    public func receiveWire(limits: WireLimits, routed: Bool = false, dontWait: Bool = false, drops: DropCounter? = nil) throws -> WireReceipt? {
        let envelope = routed ? 1 : 0
        guard let received = try receiveBuffers(dontWait: dontWait, maximumFrames: envelope + 1 + limits.maximumTensors + 1) else { return nil }
        let routingID = routed ? received.frames.first : nil
        let frames = Array(received.frames.dropFirst(envelope))
        let claimed = frames.first.flatMap(WireMessage.claimedSenderID(header:))
        do {
            let message = try WireMessage.decode(buffers: frames, totalFrames: received.totalFrames - envelope, limits: limits)
            return .message(message, routingID: routingID)
        } catch {
            drops?.record(error, sender: claimed)
            return .dropped(error, claimedSender: claimed, routingID: routingID)
        }
    }
}
