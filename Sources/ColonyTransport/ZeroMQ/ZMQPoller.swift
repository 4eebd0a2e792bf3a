import CZeroMQ

/// Waits on several sockets owned by the calling thread at once.
public struct ZMQPoller {
    private var sockets: [ZMQSocket] = []

    public init() {}

    /// Adds a socket; the returned index identifies it in `poll`'s result.
    @discardableResult
    public mutating func add(_ socket: ZMQSocket) -> Int {
        sockets.append(socket)
        return sockets.count - 1
    }

    /// Indices of the sockets that are readable within `timeout` ms (-1: wait forever); empty on timeout.
    public func poll(timeout milliseconds: Int) throws -> [Int] {
        var items = try sockets.map { socket -> zmq_pollitem_t in
            guard let handle = socket.rawHandle else { throw ZMQError(function: "zmq_poll", detail: "socket is closed") }
            return zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        }
        while true {
            let rc = zmq_poll(&items, Int32(items.count), milliseconds)
            if rc >= 0 { break }
            let error = ZMQError(function: "zmq_poll")
            if error.code == EINTR { continue }
            throw error
        }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
