/// Requests held per connection and served round-robin across connections, so one peer flooding a
/// replay server (a forger, or a worker gone wrong) delays the others by at most one request per
/// round instead of the whole backlog it queued. Holds at most `capacity` requests in all; when full,
/// a newcomer takes the place of the newest request of the longest queue (the flooder's), or is
/// refused when its own queue is the longest.
///
/// The head is the oldest request of the connection whose turn it is; it keeps the turn until
/// removed (a partly inserted request must finish before another begins: its keys are consecutive).
struct FairRequestQueue<Request> {
    /// What `append` did.
    enum Admission {
        case held
        /// Held, in place of this older request of another connection (which gets no reply).
        case heldEvicting(Request)
        /// Not held: the newcomer's own connection holds the most requests.
        case refused
    }

    let capacity: Int
    /// Queues by connection, each oldest first from its `start`.
    private var queues: [[UInt8]: (requests: [Request], start: Int)] = [:]
    /// Connections with held requests, in serving order: the first one's turn is now.
    private var turns: [[UInt8]] = []
    private(set) var count = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var isEmpty: Bool { count == 0 }

    /// Holds `request` from `connection` (see the type's note on a full queue).
    mutating func append(_ request: Request, from connection: [UInt8]) -> Admission {
        var evicted: Request?
        if count >= capacity {
            // The newest of the longest queue, which holds at least two: never a started head.
            guard let longest = turns.max(by: { length(of: $0) < length(of: $1) }), longest != connection,
                  length(of: longest) >= 2, length(of: longest) > length(of: connection) else { return .refused }
            evicted = queues[longest]!.requests.removeLast()
            count -= 1
        }
        if queues[connection] == nil {
            queues[connection] = ([], 0)
            turns.append(connection)
        }
        queues[connection]!.requests.append(request)
        count += 1
        return evicted.map { .heldEvicting($0) } ?? .held
    }

    /// The request whose turn it is.
    var head: Request? {
        guard let connection = turns.first, let queue = queues[connection] else { return nil }
        return queue.requests[queue.start]
    }

    /// Replaces the head (a request served in part).
    mutating func updateHead(_ request: Request) {
        guard let connection = turns.first else { return }
        let start = queues[connection]!.start
        queues[connection]!.requests[start] = request
    }

    /// Removes the head and passes the turn to the next connection.
    mutating func removeHead() {
        guard let connection = turns.first else { return }
        turns.removeFirst()
        count -= 1
        var queue = queues[connection]!
        queue.start += 1
        if queue.start == queue.requests.count {
            queues[connection] = nil
            return
        }
        // Compact now and then: the array never holds more than twice what is waiting.
        if queue.start * 2 >= queue.requests.count {
            queue.requests.removeFirst(queue.start)
            queue.start = 0
        }
        queues[connection] = queue
        turns.append(connection)
    }

    private func length(of connection: [UInt8]) -> Int {
        queues[connection].map { $0.requests.count - $0.start } ?? 0
    }
}
