#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.<time>.<host>`) that TensorBoard itself reads:
/// TFRecord framing (length, masked CRC-32C of the length, an `Event` protobuf, masked CRC-32C of it).
/// Scalars use `simple_value`; text uses the text plugin's string tensor.
///
/// An event file is an append-only log, so it is not rewritten through a temporary file: each record is
/// self-checking, `flush()` fsyncs, and TensorBoard's reader stops cleanly at a record cut short by a kill.
public final class TensorBoardWriter {
    public let path: String
    private let descriptor: Int32
    private var pending: [UInt8] = []

    /// Opens a new event file in `directory` (created when missing).
    public init(directory: String) throws {
        try AtomicFile.createDirectories(directory)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostname = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let now = Date().timeIntervalSince1970
        // A suffix keeps two writers started in the same second apart (TensorBoard reads every file).
        path = "\(directory)/events.out.tfevents.\(Int(now)).\(hostname).\(getpid()).\(UInt16.random(in: 0...UInt16.max))"
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.WriteError(path: path, operation: "create", errno: errno) }
        append { event in
            event.double(1, now)
            event.string(3, "brain.Event:2")  // file_version: the first event of every file
        }
        try flush()
    }

    deinit {
        try? flush()
        close(descriptor)
    }

    /// Adds a scalar (e.g. "charts/episodic_return") at `step` (frames).
    public func scalar(_ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        append(step: step, wallTime: wallTime) { summary in
            summary.message(1) { value_ in
                value_.string(1, tag)
                value_.float(2, Float(value))
            }
        }
    }

    /// Adds a text summary (shown in TensorBoard's Text tab; Markdown).
    public func text(_ tag: String, _ text: String, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        append(step: step, wallTime: wallTime) { summary in
            summary.message(1) { value in
                value.string(1, tag)
                value.message(9) { metadata in                     // SummaryMetadata
                    metadata.message(1) { $0.string(1, "text") }    // plugin_data.plugin_name
                }
                value.message(8) { tensor in                       // TensorProto
                    tensor.int64(1, 7)                              // dtype = DT_STRING
                    tensor.message(2) { _ in }                     // scalar shape
                    tensor.bytes(8, Array(text.utf8))              // string_val
                }
            }
        }
    }

    private func append(step: Int, wallTime: Double, summary: @escaping (inout ProtobufEncoder) -> Void) {
        append { event in
            event.double(1, wallTime)
            event.int64(2, Int64(step))
            event.message(5, summary)
        }
    }

    private func append(_ build: (inout ProtobufEncoder) -> Void) {
        var event = ProtobufEncoder()
        build(&event)
        let data = event.bytes
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Array($0) }
        pending += lengthBytes
        pending += littleEndianBytes(CRC32C.masked(lengthBytes))
        pending += data
        pending += littleEndianBytes(CRC32C.masked(data))
        // Long runs log millions of events: hand them to the file as they accumulate rather than
        // holding them until the next explicit flush (a learner that never checkpointed grew without bound).
        if pending.count >= Self.writeThreshold { try? write(sync: false) }
    }

    /// Buffered bytes that trigger a write (without fsync) to the file.
    static let writeThreshold = 256 << 10

    private func littleEndianBytes(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    /// Writes buffered events and fsyncs the file.
    public func flush() throws {
        try write(sync: true)
    }

    private func write(sync: Bool) throws {
        var offset = 0
        while offset < pending.count {
            let written = pending.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, pending.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw AtomicFile.WriteError(path: path, operation: "write", errno: errno)
            }
            offset += written
        }
        pending.removeAll(keepingCapacity: true)
        if sync { fsync(descriptor) }
    }
}
