/// A sample-to-insert ratio rate limiter with the semantics of Reverb's `SampleToInsertRatio`.
///
/// Counters over the table's lifetime: `inserts` (items inserted), `samples` (items sampled, one per
/// item of a batch) and `deletes` (items removed: FIFO eviction or max-times-sampled removal); the
/// table size is `inserts − deletes`. With ratio r = `samplesPerInsert`, `minSize` and error buffer b:
///
///     minDiff = r · minSize − b        maxDiff = r · minSize + b
///
/// Reverb's exact rules (`reverb/cc/rate_limiter.cc`), with n the items of the request:
///
/// - **insert n** is allowed when `inserts + n − deletes ≤ minSize` (until sampling can start,
///   inserts are free), otherwise when `(inserts + n) · r − samples ≤ maxDiff`;
/// - **sample n** is allowed when `inserts − deletes ≥ minSize` and `inserts · r − samples − n ≥ minDiff`.
///
/// So `inserts · r − samples` (the "error", offset by r · minSize) is kept within ±b of r · minSize once
/// sampling has started. The window `maxDiff − minDiff = 2b` must be at least `2 · max(1, r)`: a narrower
/// one can leave a state where neither one insert nor one sample fits, and both sides wait forever
/// (Reverb raises the same error). `minSize` must be at least 1.
///
/// Value type, owned by the table; not thread-safe by itself.
public struct RateLimiter: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable, CustomStringConvertible {
        public var samplesPerInsert: Double
        public var minSize: Int
        public var errorBuffer: Double

        public init(samplesPerInsert: Double, minSize: Int, errorBuffer: Double) {
            self.samplesPerInsert = samplesPerInsert
            self.minSize = minSize
            self.errorBuffer = errorBuffer
        }

        /// No limiting in practice: sampling starts at one item and the buffer is effectively unbounded.
        public static let unlimited = Configuration(samplesPerInsert: 1, minSize: 1, errorBuffer: 1e300)

        public var description: String {
            "samples_per_insert=\(samplesPerInsert) min_size=\(minSize) error_buffer=\(errorBuffer)"
        }
    }

    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case narrowErrorBuffer(errorBuffer: Double, samplesPerInsert: Double)
        case minSizeBelowOne(Int)
        case invalidRatio(Double)

        public var description: String {
            switch self {
            case .narrowErrorBuffer(let buffer, let ratio):
                "rate limiter: error_buffer \(buffer) gives a window of \(2 * buffer) (2 × error_buffer), narrower than "
                    + "2 × max(1, samples_per_insert) = \(2 * max(1, ratio)); inserts and samples could both block forever (deadlock). "
                    + "Use error_buffer ≥ \(max(1, ratio))."
            case .minSizeBelowOne(let size): "rate limiter: min_size must be at least 1, got \(size)"
            case .invalidRatio(let ratio): "rate limiter: samples_per_insert must be finite and positive, got \(ratio)"
            }
        }
    }

    public let configuration: Configuration
    public let minDiff: Double
    public let maxDiff: Double
    public private(set) var inserts: Int = 0
    public private(set) var samples: Int = 0
    public private(set) var deletes: Int = 0

    public init(_ configuration: Configuration) throws(ConfigurationError) {
        let ratio = configuration.samplesPerInsert
        guard ratio.isFinite, ratio > 0 else { throw .invalidRatio(ratio) }
        guard configuration.minSize >= 1 else { throw .minSizeBelowOne(configuration.minSize) }
        guard !(2 * configuration.errorBuffer < 2 * max(1, ratio)) else {
            throw .narrowErrorBuffer(errorBuffer: configuration.errorBuffer, samplesPerInsert: ratio)
        }
        self.configuration = configuration
        let offset = ratio * Double(configuration.minSize)
        minDiff = offset - configuration.errorBuffer
        maxDiff = offset + configuration.errorBuffer
    }

    public var size: Int { inserts - deletes }

    public func canInsert(_ count: Int) -> Bool {
        precondition(count > 0)
        if inserts + count - deletes <= configuration.minSize { return true }
        return Double(inserts + count) * configuration.samplesPerInsert - Double(samples) <= maxDiff
    }

    public func canSample(_ count: Int) -> Bool {
        precondition(count > 0)
        if inserts - deletes < configuration.minSize { return false }
        return Double(inserts) * configuration.samplesPerInsert - Double(samples) - Double(count) >= minDiff
    }

    /// The largest n with `canInsert(n)` (0 when none): a server inserts that much of a held batch now.
    public var insertsAllowed: Int {
        let free = configuration.minSize - (inserts - deletes)
        let byRatio = ((maxDiff + Double(samples)) / configuration.samplesPerInsert).rounded(.down) - Double(inserts)
        let ratioCount = byRatio >= Double(Int.max / 2) ? Int.max / 2 : Int(max(0, byRatio))
        var n = max(free, ratioCount, 0)
        // Guard the floating-point rounding against the exact rule.
        while n > 0 && !canInsert(n) { n -= 1 }
        return n
    }

    /// The largest n with `canSample(n)` (0 when none). A batch larger than 2 × error_buffer can never
    /// be sampled at once, so a server fills a held batch in parts as the limiter allows (Reverb
    /// likewise admits one item at a time).
    public var samplesAllowed: Int {
        guard inserts - deletes >= configuration.minSize else { return 0 }
        let room = (Double(inserts) * configuration.samplesPerInsert - Double(samples) - minDiff).rounded(.down)
        var n = room >= Double(Int.max / 2) ? Int.max / 2 : Int(max(0, room))
        while n > 0 && !canSample(n) { n -= 1 }
        return n
    }

    public mutating func recordInserts(_ count: Int) { inserts += count }
    public mutating func recordSamples(_ count: Int) { samples += count }
    public mutating func recordDeletes(_ count: Int) { deletes += count }

    /// Restores the counters (from a checkpoint).
    public mutating func setCounters(inserts: Int, samples: Int, deletes: Int) {
        self.inserts = inserts
        self.samples = samples
        self.deletes = deletes
    }
}
