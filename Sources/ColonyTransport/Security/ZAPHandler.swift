#if canImport(Glibc)
import Glibc
#endif
import CZeroMQ
import Synchronization

/// The ZeroMQ Authentication Protocol (RFC 27) handler of one context: libzmq asks it, over
/// inproc://zeromq.zap.01, whether each CURVE client may connect; it admits the run's authorized
/// public keys and refuses (and counts) every other. Runs on its own thread with its own REP socket,
/// which holds the context's raw handle only, so the context can still be released and terminated.
final class ZAPHandler: Sendable {
    static let endpoint = "inproc://zeromq.zap.01"

    private let thread: OwningThread
    private let flags: HandlerState

    /// Binds the handler before returning, so no CURVE connection is ever judged without it.
    init(contextHandle: UnsafeMutableRawPointer, authorizedKeys: Set<String>) throws {
        let state = HandlerState()
        let handle = UncheckedHandle(pointer: contextHandle)
        flags = state
        thread = OwningThread(name: "colony-zap") {
            let socket: ZMQSocket
            do {
                socket = try ZMQSocket(unretainedContext: handle.pointer, .rep)
                try socket.bind(Self.endpoint)
                state.bound.withLock { $0 = .success(()) }
            } catch {
                state.bound.withLock { $0 = .failure(error as? ZMQError ?? ZMQError(function: "zap", detail: "\(error)")) }
                return
            }
            var monitors: [ZMQSocket] = []
            defer {
                socket.close()
                for monitor in monitors { monitor.close() }
            }
            while !state.stopping.load(ordering: .relaxed) {
                do {
                    // Handshake monitors of sockets bound since the last turn (see `watch`).
                    for address in state.newMonitors.withLock({ addresses in defer { addresses.removeAll() }; return addresses }) {
                        let monitor = try ZMQSocket(unretainedContext: handle.pointer, .pair)
                        try monitor.connect(address)
                        monitors.append(monitor)
                    }
                    var poller = ZMQPoller()
                    poller.add(socket)
                    for monitor in monitors { poller.add(monitor) }
                    for index in try poller.poll(timeout: 100) {
                        if index == 0 {
                            guard let request = try socket.receive(dontWait: true) else { continue }
                            _ = try socket.send(Self.reply(to: request, authorizedKeys: authorizedKeys, log: state))
                        } else if let event = try monitors[index - 1].receive(dontWait: true) {
                            Self.record(event: event, log: state)
                        }
                    }
                } catch let error as ZMQError where error.isTerminated {
                    return
                } catch {
                    continue  // a malformed request is answered by nothing; libzmq then refuses the peer
                }
            }
        }
        thread.start()
        while true {
            switch state.bound.withLock({ $0 }) {
            case .success: return
            case .failure(let error): throw error
            case nil: usleep(1_000)
            }
        }
    }

    /// Admitted and refused connections so far, with the last refused keys.
    var admissions: CurveAdmissions { flags.admissions.withLock { $0 } }

    /// Counts the failed handshakes of a bound socket through its libzmq monitor at `address` (an
    /// inproc PAIR the socket's owner started with `zmq_socket_monitor`): clients without keys or
    /// with another run's server key never reach the ZAP handler, only this.
    func watch(monitor address: String) {
        flags.newMonitors.withLock { $0.append(address) }
    }

    /// A monitor event: frame 1 is the event number (u16) and its value (u32), frame 2 the endpoint.
    static func record(event frames: [[UInt8]], log: HandlerState) {
        guard let head = frames.first, head.count >= 2 else { return }
        let event = Int32(UInt16(head[0]) | UInt16(head[1]) << 8)
        // A refused key fails with HANDSHAKE_FAILED_AUTH after the ZAP handler counted it already.
        guard event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL else { return }
        log.admissions.withLock { $0.recordFailedHandshake() }
    }

    func stop() {
        flags.stopping.store(true, ordering: .relaxed)
        thread.join()
    }

    /// RFC 27's reply: version, request id, status code, status text, user id, metadata.
    static func reply(to request: [[UInt8]], authorizedKeys: Set<String>, log: HandlerState) -> [[UInt8]] {
        // version, request id, domain, address, routing id, mechanism, credentials...
        guard request.count >= 6, request[0] == Array("1.0".utf8) else {
            return [Array("1.0".utf8), request.count > 1 ? request[1] : [], Array("500".utf8), Array("malformed ZAP request".utf8), [], []]
        }
        let address = String(decoding: request[3], as: UTF8.self)
        let mechanism = String(decoding: request[5], as: UTF8.self)
        let key = request.count >= 7 ? CurveKeyPair.z85(request[6]) : nil
        let admitted = mechanism == "CURVE" && key.map(authorizedKeys.contains) == true
        log.admissions.withLock { $0.record(admitted: admitted, key: key, address: address) }
        let (code, text) = admitted ? ("200", "OK") : ("400", mechanism == "CURVE" ? "key not authorized for this run" : "CURVE required")
        return [Array("1.0".utf8), request[1], Array(code.utf8), Array(text.utf8), Array((key ?? "").utf8), []]
    }
}

/// What a context's ZAP handler decided, for logs and status.
public struct CurveAdmissions: Sendable, Equatable {
    public private(set) var admitted = 0
    public private(set) var refused = 0
    /// Connections whose CURVE handshake failed before any key was checked: no keys (a plain client),
    /// another run's server key, or garbage bytes.
    public private(set) var failedHandshakes = 0
    /// The most recent refused client keys and addresses (bounded: a flood cannot grow it).
    public private(set) var recentRefusals: [String] = []
    static let recentLimit = 16

    mutating func recordFailedHandshake() { failedHandshakes += 1 }

    mutating func record(admitted isAdmitted: Bool, key: String?, address: String) {
        if isAdmitted { admitted += 1; return }
        refused += 1
        recentRefusals.append("\(key ?? "no key") from \(address.isEmpty ? "unknown address" : address)")
        if recentRefusals.count > Self.recentLimit { recentRefusals.removeFirst(recentRefusals.count - Self.recentLimit) }
    }
}

/// What the handler's thread shares with its owner.
final class HandlerState: Sendable {
    let stopping = Atomic(false)
    let bound = Mutex<Result<Void, ZMQError>?>(nil)
    let admissions = Mutex(CurveAdmissions())
    let newMonitors = Mutex<[String]>([])
}

/// A context handle carried into the handler's thread; libzmq contexts are thread-safe.
private struct UncheckedHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}
