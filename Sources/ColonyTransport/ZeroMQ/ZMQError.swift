import CZeroMQ

/// A libzmq call failed: the function, errno and libzmq's own text.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Equatable {
    public let function: String
    public let code: Int32
    public let detail: String

    /// Captures `zmq_errno()` right after a failed call.
    public init(function: String, detail: String = "") {
        self.function = function
        self.code = zmq_errno()
        self.detail = detail
    }

    public var description: String {
        let suffix = detail.isEmpty ? "" : " (\(detail))"
        return "\(function) failed: \(String(cString: zmq_strerror(code)))\(suffix)"
    }

    /// The context was terminated: owners should close their sockets and return.
    public var isTerminated: Bool { code == ETERM }
    /// A non-blocking call or a timed-out receive found nothing to do.
    public var isWouldBlock: Bool { code == EAGAIN }
}

#if canImport(Glibc)
import Glibc
#endif
