import CZeroMQ

/// The immutable bytes of one message frame, shared without copying.
///
/// A frame buffer either owns memory it allocated (filled once by its initializer) or a received
/// `zmq_msg_t` whose data libzmq already holds. Sending one hands libzmq a reference
/// (`zmq_msg_init_data`) instead of a copy, and receiving into one keeps libzmq's message alive
/// instead of copying it out; the bytes are released when the last reference (Swift's or libzmq's)
/// goes away. The contents never change after initialization, which is what makes sharing across
/// threads safe.
public final class FrameBuffer: @unchecked Sendable {  // immutable after init; release is thread-safe
    private enum Storage {
        case allocated(UnsafeMutableRawPointer)
        case message(UnsafeMutablePointer<zmq_msg_t>)
    }

    private let storage: Storage
    /// The first byte (nil for an empty received frame).
    @usableFromInline let baseAddress: UnsafeRawPointer?
    /// Length in bytes.
    public let count: Int

    /// Allocates `count` bytes (64-byte aligned) and lets `initializer` fill them, once.
    /// The initializer must write every byte (like `Array(unsafeUninitializedCapacity:)`, nothing is
    /// zeroed first: a large unroll is written once, not twice); use `zeroed: true` otherwise.
    public init(count: Int, zeroed: Bool = false, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "a frame cannot have a negative length")
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        if zeroed { memory.initializeMemory(as: UInt8.self, repeating: 0, count: count) }
        do {
            try initializer(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            memory.deallocate()
            throw error
        }
        storage = .allocated(memory)
        baseAddress = UnsafeRawPointer(memory)
        self.count = count
    }

    /// Copies `bytes`.
    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { target in
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress, source.count > 0 { target.baseAddress!.copyMemory(from: base, byteCount: source.count) }
            }
        }
    }

    /// Copies the raw bytes of `values` (host byte order, which on every platform Colony runs on is little-endian).
    public convenience init<Scalar: BitwiseCopyable>(copying values: UnsafeBufferPointer<Scalar>) {
        let byteCount = values.count * MemoryLayout<Scalar>.stride
        self.init(count: byteCount) { target in
            if let base = values.baseAddress, byteCount > 0 { target.baseAddress!.copyMemory(from: base, byteCount: byteCount) }
        }
    }

    /// Takes ownership of an initialized, received message (closed in `deinit`).
    init(takingMessage message: UnsafeMutablePointer<zmq_msg_t>) {
        storage = .message(message)
        count = zmq_msg_size(message)
        baseAddress = count == 0 ? nil : UnsafeRawPointer(zmq_msg_data(message))
    }

    deinit {
        switch storage {
        case .allocated(let memory):
            memory.deallocate()
        case .message(let message):
            zmq_msg_close(message)
            message.deallocate()
        }
    }

    /// The bytes, valid only inside `body`. O(1): no copy.
    @inlinable
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(rawBytes)
    }

    @usableFromInline
    var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: baseAddress, count: count) }

    /// A copy of the bytes as an array. O(count).
    public var bytes: [UInt8] { Array(rawBytes) }
}

extension FrameBuffer: Equatable {
    /// Byte-wise equality (two buffers with the same contents are equal).
    public static func == (lhs: FrameBuffer, rhs: FrameBuffer) -> Bool {
        if lhs === rhs { return true }
        guard lhs.count == rhs.count else { return false }
        guard lhs.count > 0 else { return true }
        return memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0
    }
}

/// A multipart message received into frame buffers without copying.
public struct ReceivedMessage: Sendable {
    /// The frames kept, in order.
    public var frames: [FrameBuffer]
    /// How many frames the message had; more than `frames.count` when frames past the receiver's
    /// maximum were read and discarded (a peer cannot make the receiver hold an unbounded frame list).
    public var totalFrames: Int
}

#if canImport(Glibc)
import Glibc
#endif
