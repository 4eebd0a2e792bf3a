import CZeroMQ

/// A libzmq context: the I/O threads behind every socket it creates. Thread-safe (libzmq guarantees it).
/// Terminating it makes blocking calls in every socket return `ETERM`, which is how loops are told to stop.
public final class ZMQContext: @unchecked Sendable {  // libzmq contexts are thread-safe
    let handle: UnsafeMutableRawPointer
    /// CURVE on this context's tcp:// sockets (nil: plain).
    public let security: CurveSecurity?
    private let zap: ZAPHandler?

    /// A context whose tcp:// sockets use `security` (by default the process's, `CurveSecurity.processDefault`).
    /// With a server key pair it also runs the ZAP handler that admits the run's authorized keys.
    public init(ioThreads: Int32 = 1, security: CurveSecurity? = CurveSecurity.processDefault) {
        guard let context = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        zmq_ctx_set(context, ZMQ_IO_THREADS, ioThreads)
        handle = context
        self.security = security
        if let security, security.server != nil {
            // Binding inproc://zeromq.zap.01 fails only if something else in this context holds it,
            // and nothing else binds it.
            zap = try? ZAPHandler(contextHandle: context, authorizedKeys: security.authorizedKeys)
        } else {
            zap = nil
        }
    }

    /// True when the ZAP handler runs: a CURVE server of this context admits only authorized keys.
    var admitsByKey: Bool { zap != nil }

    /// Starts counting the failed handshakes of `socket`, a CURVE server of this context (called on its owning thread).
    func monitorHandshakes(of socket: UnsafeMutableRawPointer) {
        guard let zap else { return }
        let address = "inproc://colony-handshakes-\(UInt(bitPattern: socket))-\(UInt64.random(in: 0...UInt64.max))"
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        guard zmq_socket_monitor(socket, address, events) == 0 else { return }  // counting is best effort
        zap.watch(monitor: address)
    }

    /// The CURVE clients this context's servers admitted and refused (zero without a server key).
    public var curveAdmissions: CurveAdmissions { zap?.admissions ?? CurveAdmissions() }

    /// Unblocks every socket of this context with ETERM; sockets must still be closed by their owners.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        zap?.stop()
        // zmq_ctx_term blocks until every socket is closed; sockets keep the context alive, so none remain.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// libzmq's version, e.g. (4, 3, 4).
    public static var version: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }
}

#if canImport(Glibc)
import Glibc
#endif
