import CZeroMQ

/// A libzmq context: the I/O threads behind every socket it creates. Thread-safe (libzmq guarantees it).
/// Terminating it makes blocking calls in every socket return `ETERM`, which is how loops are told to stop.
public final class ZMQContext: @unchecked Sendable {  // libzmq contexts are thread-safe
    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) {
        guard let context = zmq_ctx_new() else { fatalError("zmq_ctx_new failed: out of memory") }
        zmq_ctx_set(context, ZMQ_IO_THREADS, ioThreads)
        handle = context
    }

    /// Unblocks every socket of this context with ETERM; sockets must still be closed by their owners.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
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
