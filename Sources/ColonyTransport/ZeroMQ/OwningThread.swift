import Dispatch
import Foundation
import Synchronization

/// A dedicated Foundation thread for a blocking socket loop, which the threading rule asks for:
/// each socket is created, used and closed on the one thread that owns it, and blocking loops never
/// run on Swift's cooperative pool. `join` waits for the body to return.
///
/// ```swift
/// let thread = OwningThread(name: "learner-data") {
///     let socket = try! ZMQSocket(context, .router)   // created here, used here, closed here
///     while !stopping.load(ordering: .relaxed) { ... }
/// }
/// thread.start()
/// ...
/// thread.join()
/// ```
public final class OwningThread: Sendable {
    private let name: String
    private let body: @Sendable () -> Void
    private let started = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    /// Starts the thread (once; later calls do nothing).
    public func start() {
        guard started.withLock({ started in
            defer { started = true }
            return !started
        }) else { return }
        let (body, finished, token) = (self.body, self.finished, self.token)
        let thread = Thread {
            Thread.current.threadDictionary[Self.tokenKey] = token
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// True on this thread itself (for instance inside a callback the body runs).
    public var isCurrent: Bool {
        (Thread.current.threadDictionary[Self.tokenKey] as? UInt) == token
    }

    private static let tokenKey = "colony.OwningThread"
    private var token: UInt { UInt(bitPattern: ObjectIdentifier(self)) }

    /// Waits until the body has returned (nil timeout: forever); false if `timeout` passed first,
    /// and false at once when called on this thread itself (it cannot wait for itself; the body
    /// returns after the caller does). `start()` must have been called. Joining again after a
    /// successful join returns at once.
    @discardableResult
    public func join(timeout: Duration? = nil) -> Bool {
        if isCurrent { return false }
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            guard finished.wait(timeout: .now() + .nanoseconds(max(0, nanoseconds))) == .success else { return false }
        } else {
            finished.wait()
        }
        finished.signal()  // leave the door open for the next join
        return true
    }
}
