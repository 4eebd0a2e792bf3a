/// One tensor on the wire: a dtype, a shape and the raw little-endian bytes (one frame).
///
/// The bytes live in a `FrameBuffer`, so a decoded tensor points into the received libzmq message
/// and an encoded one is sent without copying. The typed accessors copy out (`floats()`), or lend
/// the elements in place (`withValues(as:_:)`).
public struct WireTensor: Sendable, Equatable, CustomStringConvertible {
    public let dtype: WireDType
    /// Dimensions, outermost first; `[]` is a scalar (one element).
    public let shape: [Int]
    /// Exactly `elementCount × dtype.size` bytes.
    public let buffer: FrameBuffer

    /// Wraps existing bytes; the buffer's length must be the shape's element count × the dtype's size.
    public init(dtype: WireDType, shape: [Int], buffer: FrameBuffer) {
        precondition(shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "dimensions are u32 on the wire")
        precondition(Self.byteCount(dtype: dtype, shape: shape) == buffer.count,
                     "a \(dtype) tensor of shape \(shape) needs \(Self.byteCount(dtype: dtype, shape: shape) ?? -1) bytes, buffer has \(buffer.count)")
        self.dtype = dtype
        self.shape = shape
        self.buffer = buffer
    }

    /// Copies `values` (their count must be the product of `shape`; nil shape: a vector).
    public init<Scalar: WireScalar>(_ values: [Scalar], shape: [Int]? = nil) {
        let shape = shape ?? [values.count]
        let buffer = values.withUnsafeBufferPointer { FrameBuffer(copying: $0) }
        self.init(dtype: Scalar.wireDType, shape: shape, buffer: buffer)
    }

    /// Allocates a tensor and lets `fill` write its elements in place (one allocation, no extra copy):
    /// the way to pack an unroll straight from a rollout buffer. `fill` must write every element.
    public init<Scalar: WireScalar>(of scalar: Scalar.Type, shape: [Int], fill: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        guard let bytes = Self.byteCount(dtype: Scalar.wireDType, shape: shape) else { preconditionFailure("shape \(shape) overflows") }
        let buffer = try FrameBuffer(count: bytes) { raw in
            try fill(raw.bindMemory(to: Scalar.self))
        }
        self.init(dtype: Scalar.wireDType, shape: shape, buffer: buffer)
    }

    /// UTF-8 text as a rank-1 u8 tensor (control payloads).
    public init(utf8 text: String) {
        self.init(Array(text.utf8), shape: nil)
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { buffer.count }

    /// Elements × dtype size, or nil if it overflows `Int`.
    public static func byteCount(dtype: WireDType, shape: [Int]) -> Int? {
        var product = dtype.size
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }

    // MARK: Typed access

    /// Copies the elements out. Throws `.wrongDType` unless the tensor holds `Scalar`.
    public func values<Scalar: WireScalar>(as scalar: Scalar.Type) throws(WireError) -> [Scalar] {
        guard dtype == Scalar.wireDType else { throw .wrongDType(expected: Scalar.wireDType, actual: dtype) }
        let count = elementCount
        return [Scalar](unsafeUninitializedCapacity: count) { target, initialized in
            if count > 0 {
                UnsafeMutableRawPointer(target.baseAddress!).copyMemory(from: buffer.baseAddress!, byteCount: count * MemoryLayout<Scalar>.stride)
            }
            initialized = count
        }
    }

    public func floats() throws(WireError) -> [Float] { try values(as: Float.self) }
    public func doubles() throws(WireError) -> [Double] { try values(as: Double.self) }
    public func int32s() throws(WireError) -> [Int32] { try values(as: Int32.self) }
    public func int64s() throws(WireError) -> [Int64] { try values(as: Int64.self) }
    public func uint8s() throws(WireError) -> [UInt8] { try values(as: UInt8.self) }

    /// The UTF-8 text of a u8 tensor (nil if the bytes are not valid UTF-8 or the dtype is not u8).
    public func utf8String() -> String? {
        guard dtype == .u8 else { return nil }
        return buffer.withUnsafeBytes { String(validating: $0, as: UTF8.self) }
    }

    /// Lends the elements in place when the bytes are aligned for `Scalar` (always, for buffers
    /// Colony allocates and for large received frames); otherwise through an aligned copy.
    public func withValues<Scalar: WireScalar, Result>(as scalar: Scalar.Type, _ body: (UnsafeBufferPointer<Scalar>) throws -> Result) throws -> Result {
        guard dtype == Scalar.wireDType else { throw WireError.wrongDType(expected: Scalar.wireDType, actual: dtype) }
        let count = elementCount
        if count == 0 { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        let base = buffer.baseAddress!
        if Int(bitPattern: base) % MemoryLayout<Scalar>.alignment == 0 {
            return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Scalar.self), count: count))
        }
        return try values(as: Scalar.self).withUnsafeBufferPointer(body)
    }

    public var description: String { "\(dtype)\(shape)" }
}
