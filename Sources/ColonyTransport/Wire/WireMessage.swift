/// One Colony message: a small versioned header (frame 0) and raw tensors (frames 1...k).
///
/// Frame 0, little-endian (docs/wire.md has the full table):
///
/// | bytes | field |
/// | --- | --- |
/// | 4 | magic "CLNY" |
/// | 2 | protocol version (u16, currently 1) |
/// | 2 | message type (u16, `MessageType`) |
/// | 8 | run id (u64, random per process start) |
/// | 8 | sender id (u64) |
/// | 8 | sequence number (u64, per sender) |
/// | 8 | parameter version (u64) |
/// | 2 | number of tensors k (u16) |
/// | k × (10 + 4·rank) | per tensor: dtype (u8), rank (u8), dims (u32 × rank), byte length (u64) |
///
/// Frame i (1...k) holds tensor i-1's bytes, exactly `byte length` of them.
public struct WireMessage: Sendable, Equatable {
    public static let magic: [UInt8] = Array("CLNY".utf8)
    public static let protocolVersion: UInt16 = 1
    /// Bytes of frame 0 before the tensor descriptors.
    public static let fixedHeaderBytes = 42

    public var type: MessageType
    /// Random per process start: a receiver can tell a restarted peer from the one it knew.
    public var runID: UInt64
    /// Who sent it (a member's id; random per member).
    public var senderID: UInt64
    /// Per sender, increasing by one per message.
    public var sequence: UInt64
    /// The parameter version the sender acted with (trajectories), or carries (parameters); 0 when none.
    public var parameterVersion: UInt64
    public var tensors: [WireTensor]

    public init(type: MessageType, runID: UInt64, senderID: UInt64, sequence: UInt64, parameterVersion: UInt64 = 0, tensors: [WireTensor] = []) {
        self.type = type
        self.runID = runID
        self.senderID = senderID
        self.sequence = sequence
        self.parameterVersion = parameterVersion
        self.tensors = tensors
    }

    // MARK: Encoding

    /// Frame 0's length for these tensors.
    public var headerByteCount: Int {
        tensors.reduce(Self.fixedHeaderBytes) { $0 + 10 + 4 * $1.shape.count }
    }

    /// Frame 0 (one allocation).
    public func encodeHeader() -> FrameBuffer {
        precondition(tensors.count <= Int(UInt16.max), "at most 65535 tensors per message")
        return FrameBuffer(count: headerByteCount) { raw in
            var writer = ByteWriter(raw)
            writer.write(bytes: Self.magic)
            writer.write(Self.protocolVersion)
            writer.write(type.rawValue)
            writer.write(runID)
            writer.write(senderID)
            writer.write(sequence)
            writer.write(parameterVersion)
            writer.write(UInt16(tensors.count))
            for tensor in tensors {
                precondition(tensor.shape.count <= Int(UInt8.max), "rank is a u8 on the wire")
                writer.write(tensor.dtype.rawValue)
                writer.write(UInt8(tensor.shape.count))
                for dimension in tensor.shape { writer.write(UInt32(dimension)) }
                writer.write(UInt64(tensor.byteCount))
            }
        }
    }

    /// The frames to send: the header, then each tensor's buffer itself (no copy).
    public func encodeFrames() -> [FrameBuffer] {
        [encodeHeader()] + tensors.map(\.buffer)
    }

    /// The frames as byte arrays (copies; for tests and tools, `encodeFrames()` for traffic).
    public func encode() -> [[UInt8]] {
        encodeFrames().map(\.bytes)
    }

    // MARK: Decoding

    /// Decodes and validates byte-array frames (copies them; see `decode(buffers:limits:)`).
    public static func decode(frames: [[UInt8]], limits: WireLimits = .default) throws(WireError) -> WireMessage {
        // Refuse oversize input before copying it.
        var total = 0
        for frame in frames { total += frame.count }
        guard total <= limits.maximumMessageBytes else { throw .oversize(bytes: total, limit: limits.maximumMessageBytes) }
        return try decode(buffers: frames.map(FrameBuffer.init), limits: limits)
    }

    /// Decodes and validates frames without copying: the tensors keep the received buffers.
    /// `totalFrames` is how many frames arrived when some were discarded by the receiver (defaults to `buffers.count`).
    ///
    /// Checked, in order: at least one frame; total size; header length, magic, version, type,
    /// accepted type; tensor count against the limit and against the frames; each descriptor (dtype,
    /// rank, dims product without overflow, byte length = dims × dtype size = frame length); no bytes
    /// after the descriptors; finite numbers where asked; the type's schema.
    public static func decode(buffers: [FrameBuffer], totalFrames: Int? = nil, limits: WireLimits = .default) throws(WireError) -> WireMessage {
        let totalFrames = totalFrames ?? buffers.count
        guard let header = buffers.first else { throw .noFrames }
        var total = 0
        for buffer in buffers { total += buffer.count }
        guard total <= limits.maximumMessageBytes else { throw .oversize(bytes: total, limit: limits.maximumMessageBytes) }

        var reader = ByteReader(header.rawBytes)
        guard header.count >= fixedHeaderBytes else { throw .truncatedHeader(needed: fixedHeaderBytes, actual: header.count) }
        guard try reader.readBytes(4).elementsEqual(magic) else { throw .badMagic }
        let version: UInt16 = try reader.read()
        guard version == protocolVersion else { throw .unsupportedVersion(version) }
        let rawType: UInt16 = try reader.read()
        guard let type = MessageType(rawValue: rawType) else { throw .unknownType(rawType) }
        if let accepted = limits.acceptedTypes, !accepted.contains(type) { throw .typeNotAccepted(type) }
        let runID: UInt64 = try reader.read()
        let senderID: UInt64 = try reader.read()
        let sequence: UInt64 = try reader.read()
        let parameterVersion: UInt64 = try reader.read()
        let tensorCount = Int(try reader.read() as UInt16)
        guard tensorCount <= limits.maximumTensors else { throw .tooManyTensors(count: tensorCount, limit: limits.maximumTensors) }
        guard totalFrames == tensorCount + 1 else { throw .frameCountMismatch(declared: tensorCount, actual: totalFrames - 1) }

        var tensors: [WireTensor] = []
        tensors.reserveCapacity(tensorCount)
        for index in 0..<tensorCount {
            let rawDType: UInt8 = try reader.read()
            guard let dtype = WireDType(rawValue: rawDType) else { throw .unknownDType(tensor: index, raw: rawDType) }
            let rank = Int(try reader.read() as UInt8)
            guard rank <= limits.maximumRank else { throw .rankTooHigh(tensor: index, rank: rank, limit: limits.maximumRank) }
            var shape: [Int] = []
            shape.reserveCapacity(rank)
            var expected = dtype.size
            var overflow = false
            for _ in 0..<rank {
                let dimension = Int(try reader.read() as UInt32)
                shape.append(dimension)
                let (product, overflowed) = expected.multipliedReportingOverflow(by: dimension)
                // Past the message limit counts as overflow: no tensor can be that large here.
                if overflowed || product > limits.maximumMessageBytes { overflow = true } else { expected = product }
            }
            let declared: UInt64 = try reader.read()
            if overflow { throw .dimensionOverflow(tensor: index) }
            guard declared == UInt64(expected) else { throw .byteLengthMismatch(tensor: index, declared: declared, expected: expected) }
            let frame = buffers[index + 1]
            guard frame.count == expected else { throw .frameLengthMismatch(tensor: index, declared: expected, actual: frame.count) }
            tensors.append(WireTensor(validatedDType: dtype, shape: shape, buffer: frame))
        }
        guard reader.offset == header.count else { throw .trailingHeaderBytes(expected: reader.offset, actual: header.count) }

        let message = WireMessage(type: type, runID: runID, senderID: senderID, sequence: sequence,
                                  parameterVersion: parameterVersion, tensors: tensors)
        let schema = limits.schemas[type]
        let finiteByDefault = limits.finiteTypes.contains(type)
        for (index, tensor) in tensors.enumerated() where tensor.dtype.isFloatingPoint {
            let required = (schema.flatMap { index < $0.tensors.count ? $0.tensors[index].requireFinite : nil }) ?? finiteByDefault
            if required, let bad = tensor.firstNonFiniteIndex() { throw .nonFinite(tensor: index, index: bad) }
        }
        if let schema { _ = try schema.validate(message) }
        return message
    }

    /// The sender id a header claims, when it is long enough and has the right magic and version;
    /// for counting a dropped message under its (claimed, unverified) sender.
    public static func claimedSenderID(header: FrameBuffer) -> UInt64? {
        guard header.count >= fixedHeaderBytes else { return nil }
        var reader = ByteReader(header.rawBytes)
        guard let magicBytes = try? reader.readBytes(4), magicBytes.elementsEqual(magic),
              let version: UInt16 = try? reader.read(), version == protocolVersion else { return nil }
        reader.offset = 16
        return try? reader.read() as UInt64
    }
}

extension WireTensor {
    /// Used by the decoder after it has checked the byte length itself.
    init(validatedDType dtype: WireDType, shape: [Int], buffer: FrameBuffer) {
        self.dtype = dtype
        self.shape = shape
        self.buffer = buffer
    }

    /// The first NaN or infinity (nil for integer tensors or when all are finite). O(n): blocks of 1024
    /// elements are tested for an all-ones exponent with a branch-free loop the compiler vectorises
    /// (0.1 ms for 4 MiB of f32 here); only a block that holds a non-finite number is searched for the index.
    func firstNonFiniteIndex() -> Int? {
        switch dtype {
        case .f32: return Self.firstAllOnesExponent(buffer.rawBytes, as: UInt32.self, mask: 0x7F80_0000)
        case .f64: return Self.firstAllOnesExponent(buffer.rawBytes, as: UInt64.self, mask: 0x7FF0_0000_0000_0000)
        default: return nil
        }
    }

    /// Always inlined, so each call site above is specialised to its integer type. (Written with Swift's
    /// generic SIMD types instead, the same test ran 70× slower: scalar code through witness tables.)
    @inline(__always)
    private static func firstAllOnesExponent<Bits: FixedWidthInteger & UnsignedInteger>(_ raw: UnsafeRawBufferPointer, as: Bits.Type, mask: Bits) -> Int? {
        let size = MemoryLayout<Bits>.size
        let count = raw.count / size
        guard count > 0, let base = raw.baseAddress else { return nil }
        var start = 0
        while start < count {
            let end = min(start &+ 1024, count)
            var found: Bits = 0
            var index = start
            while index < end {
                found |= base.loadUnaligned(fromByteOffset: index &* size, as: Bits.self) & mask == mask ? 1 : 0
                index &+= 1
            }
            if found != 0 {
                for index in start..<end where base.loadUnaligned(fromByteOffset: index &* size, as: Bits.self) & mask == mask { return index }
            }
            start = end
        }
        return nil
    }
}

/// Writes little-endian fields into a buffer sized beforehand.
struct ByteWriter {
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func write<Value: FixedWidthInteger>(_ value: Value) {
        buffer.storeBytes(of: value.littleEndian, toByteOffset: offset, as: Value.self)
        offset += MemoryLayout<Value>.size
    }

    mutating func write(bytes: [UInt8]) {
        for byte in bytes { write(byte) }
    }
}

/// Reads little-endian fields, refusing to read past the end.
struct ByteReader {
    private let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    mutating func read<Value: FixedWidthInteger>() throws(WireError) -> Value {
        let size = MemoryLayout<Value>.size
        guard buffer.count - offset >= size else { throw .truncatedHeader(needed: offset + size, actual: buffer.count) }
        let value = Value(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Value.self))
        offset += size
        return value
    }

    mutating func readBytes(_ count: Int) throws(WireError) -> UnsafeRawBufferPointer {
        guard buffer.count - offset >= count else { throw .truncatedHeader(needed: offset + count, actual: buffer.count) }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }
}
