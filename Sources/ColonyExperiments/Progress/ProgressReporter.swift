#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How a long run shows that it is alive: a live bar on a terminal, a plain line every few seconds
/// in a log, or nothing.
public final class ProgressReporter: @unchecked Sendable {  // used from the one training thread only
    public enum Style: Sendable { case bar, lines, quiet }

    public let style: Style
    private let label: String
    private let lineInterval: Double
    private var lastDraw = 0.0
    private let start = Date().timeIntervalSince1970

    /// `.bar` when standard output is a terminal, `.lines` otherwise, `.quiet` when asked.
    public static func automatic(quiet: Bool) -> Style {
        if quiet { return .quiet }
        return isatty(STDOUT_FILENO) != 0 ? .bar : .lines
    }

    public init(style: Style, label: String, lineInterval: Double = 5) {
        self.style = style
        self.label = label
        self.lineInterval = lineInterval
    }

    /// Reports progress; draws at most 5 times a second (bar) or every `lineInterval` seconds (lines).
    public func update(frames: Int, total: Int, framesPerSecond: Double, recentMeanReturn: Double?, force: Bool = false) {
        let now = Date().timeIntervalSince1970
        switch style {
        case .quiet:
            return
        case .bar:
            guard force || now - lastDraw >= 0.2 else { return }
            lastDraw = now
            let fraction = total > 0 ? min(1, Double(frames) / Double(total)) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let eta = framesPerSecond > 0 ? Double(total - frames) / framesPerSecond : 0
            let line = "\(label) \(bar) \(Int(fraction * 100))% \(frames)/\(total) frames · \(Self.rate(framesPerSecond)) fps · return \(recentMeanReturn.map { String(format: "%.1f", $0) } ?? "—") · ETA \(Self.duration(eta))"
            FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        case .lines:
            guard force || now - lastDraw >= lineInterval else { return }
            lastDraw = now
            let percent = total > 0 ? 100 * Double(frames) / Double(total) : 100
            print("\(label) frames \(frames)/\(total) (\(String(format: "%.0f", percent))%) fps \(Self.rate(framesPerSecond)) recent return \(recentMeanReturn.map { String(format: "%.1f", $0) } ?? "n/a") elapsed \(Self.duration(now - start))")
            fflush(nil)  // all streams: `stdout` itself is a global Swift 6 will not touch
        }
    }

    /// Ends the bar's line so the next output starts on a new one.
    public func finish() {
        if style == .bar { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    static func rate(_ value: Double) -> String {
        value >= 1e6 ? String(format: "%.1fM", value / 1e6) : value >= 1e4 ? String(format: "%.0fk", value / 1e3) : String(format: "%.0f", value)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e9 else { return "—" }  // no rate yet, or one too small to mean anything
        let s = Int(max(0, seconds))
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : "\(s / 60)m\(String(format: "%02d", s % 60))s"
    }
}
