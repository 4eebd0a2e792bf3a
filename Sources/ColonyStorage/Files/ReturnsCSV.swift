/// The autonomous-learning-library's `returns100.csv`: no header; every time 100 more episodes have
/// finished, one row `frame,mean,std,max,min` over those 100 returns (population standard deviation).
/// The whole file is rewritten atomically on each new row, so a kill never leaves half a line.
public final class ReturnsCSV {
    public let path: String
    public let windowSize: Int
    public private(set) var rows: [Row]
    private var window: [Double] = []

    public struct Row: Sendable, Equatable {
        public var frame: Int
        public var mean: Double
        public var std: Double
        public var max: Double
        public var min: Double

        public init(frame: Int, returns: [Double]) {
            self.frame = frame
            let count = Double(returns.count)
            mean = returns.reduce(0, +) / count
            let m = mean
            std = (returns.reduce(0) { $0 + ($1 - m) * ($1 - m) } / count).squareRoot()
            max = returns.max() ?? 0
            min = returns.min() ?? 0
        }

        public init(frame: Int, mean: Double, std: Double, max: Double, min: Double) {
            self.frame = frame
            self.mean = mean
            self.std = std
            self.max = max
            self.min = min
        }

        /// Numbers as Python's `repr` writes them (what ALL's csv rows contain).
        public var line: String { "\(frame),\(mean),\(std),\(max),\(min)" }
    }

    /// Continues an existing file at `path` (its rows are kept), or starts a new one.
    public init(path: String, windowSize: Int = 100) {
        self.path = path
        self.windowSize = windowSize
        rows = (try? ReturnsCSV.read(path)) ?? []
    }

    /// Records one finished episode; returns the new row when this episode completed a window.
    @discardableResult
    public func record(episodeReturn: Double, frame: Int) throws -> Row? {
        window.append(episodeReturn)
        guard window.count == windowSize else { return nil }
        let row = Row(frame: frame, returns: window)
        window.removeAll(keepingCapacity: true)
        rows.append(row)
        try AtomicFile.write(rows.map(\.line).joined(separator: "\n") + "\n", to: path)
        return row
    }

    /// Forgets rows after `frame` (when resuming from a checkpoint older than the file).
    public func truncate(afterFrame frame: Int) throws {
        let kept = rows.filter { $0.frame <= frame }
        guard kept.count != rows.count else { return }
        rows = kept
        try AtomicFile.write(rows.map { $0.line + "\n" }.joined(), to: path)
    }

    /// The episodes of the current incomplete window (saved in checkpoints so a resumed run keeps them).
    public var pendingReturns: [Double] {
        get { window }
        set { window = newValue }
    }

    /// Writes a one-row file (e.g. `returns-test.csv`) atomically.
    public static func writeSingleRow(_ row: Row, to path: String) throws {
        try AtomicFile.write(row.line + "\n", to: path)
    }

    /// The largest frame a row may name (2^53: every whole number up to it is exact in a Double).
    static let maximumFrame = Double(1 << 53)

    /// Reads rows written by Colony or ALL; malformed lines are an error naming the line.
    public static func read(_ path: String) throws -> [Row] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FileFormatError(source: path, line: 0, message: "cannot read the file")
        }
        var rows: [Row] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard fields.count >= 3, fields.allSatisfy({ $0 != nil }) else {
                throw FileFormatError(source: path, line: index + 1, message: "expected frame,mean,std[,max,min]")
            }
            let f = fields.map { $0! }
            // The frame becomes an Int: 1e23, -5, 2.5 or nan is an error naming the line, not a trap.
            guard f[0] >= 0, f[0] <= maximumFrame, f[0].rounded() == f[0] else {
                throw FileFormatError(source: path, line: index + 1, message: "frame \(f[0]) is not a whole number in 0...\(Int(maximumFrame))")
            }
            rows.append(Row(frame: Int(f[0]), mean: f[1], std: f[2], max: f.count > 3 ? f[3] : f[1], min: f.count > 4 ? f[4] : f[1]))
        }
        return rows
    }
}

import Foundation
