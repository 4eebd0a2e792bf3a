import ColonyStorage
import Foundation

/// Learning curves from every `returns100.csv` under a directory, as an SVG: one panel per
/// environment, one line per agent (mean across seeds) with a band of ± one standard deviation.
/// Runs are found by their path, `.../<agent>/<env>/seed-<s>/returns100.csv`. A population's directory
/// (`colony pbt run`) plots one line per slot, with a dashed line at every generation boundary passed.
public struct LearningCurves {
    public struct Curve: Sendable {
        public var agent: String
        public var environment: String
        public var seed: String
        public var rows: [ReturnsCSV.Row]
    }

    public let curves: [Curve]
    /// Frames of a population's generation boundaries (empty for other directories).
    public private(set) var boundaries: [Double] = []
    /// Lines in slot order rather than by name (slot 10 after slot 9).
    private var keepsOrder = false

    public init(directory: String) throws {
        if FileManager.default.fileExists(atPath: directory + "/population.json") {
            let state = try PopulationState.read(directory + "/population.json")
            curves = try state.members.compactMap { member in
                let path = directory + "/members/slot-\(member.slot)/returns100.csv"
                guard FileManager.default.fileExists(atPath: path) else { return nil }
                let rows = try ReturnsCSV.read(path)
                return rows.isEmpty ? nil : Curve(agent: "slot \(member.slot)", environment: "\(state.settings.environment) (\(state.settings.agent) population)",
                                                  seed: "lineage \(member.lineage)", rows: rows)
            }
            guard !curves.isEmpty else {
                throw TrainingError("no member of the population in \(directory) has a returns100.csv row yet (a run writes one row per 100 episodes)")
            }
            boundaries = (0..<state.generation).map { Double(($0 + 1) * state.settings.interval) }
            keepsOrder = true
            return
        }
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw TrainingError("cannot read \(directory): no such directory")
        }
        var curves: [Curve] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix("returns100.csv") else { continue }
            let parts = (directory + "/" + relative).split(separator: "/").map(String.init)
            guard parts.count >= 4 else { continue }
            let rows = try ReturnsCSV.read(directory + "/" + relative)
            guard !rows.isEmpty else { continue }
            curves.append(Curve(agent: parts[parts.count - 4], environment: parts[parts.count - 3], seed: parts[parts.count - 2], rows: rows))
        }
        guard !curves.isEmpty else {
            throw TrainingError("no returns100.csv with rows under \(directory) (a run writes one row per 100 episodes)")
        }
        self.curves = curves.sorted { ($0.environment, $0.agent, $0.seed) < ($1.environment, $1.agent, $1.seed) }
    }

    /// Mean and std across seeds on a common frame grid (each seed interpolated within its own range).
    struct Band {
        var frames: [Double] = []
        var mean: [Double] = []
        var std: [Double] = []
    }

    func band(agent: String, environment: String) -> Band {
        let runs = curves.filter { $0.agent == agent && $0.environment == environment }
        let first = runs.map { Double($0.rows.first!.frame) }.min()!
        let last = runs.map { Double($0.rows.last!.frame) }.max()!
        var band = Band()
        let points = 60
        for k in 0...points {
            let frame = last == first ? first : first + (last - first) * Double(k) / Double(points)
            let values = runs.compactMap { Self.interpolate($0.rows, at: frame) }
            guard !values.isEmpty else { continue }
            let mean = values.reduce(0, +) / Double(values.count)
            band.frames.append(frame)
            band.mean.append(mean)
            band.std.append((values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot())
        }
        return band
    }

    static func interpolate(_ rows: [ReturnsCSV.Row], at frame: Double) -> Double? {
        guard let firstFrame = rows.first.map({ Double($0.frame) }), let lastFrame = rows.last.map({ Double($0.frame) }),
              frame >= firstFrame, frame <= lastFrame else { return nil }
        if rows.count == 1 { return rows[0].mean }
        for (a, b) in zip(rows, rows.dropFirst()) where Double(b.frame) >= frame {
            let t = Double(b.frame) == Double(a.frame) ? 0 : (frame - Double(a.frame)) / Double(b.frame - a.frame)
            return a.mean + t * (b.mean - a.mean)
        }
        return rows.last!.mean
    }

    public func svg() -> String {
        let environments = GridSummary.uniqued(curves.map(\.environment))
        let agents = keepsOrder ? GridSummary.uniqued(curves.map(\.agent)) : GridSummary.uniqued(curves.map(\.agent)).sorted()
        let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
        let (panelWidth, panelHeight, margin) = (460.0, 300.0, 60.0)
        let columns = min(2, environments.count)
        let rows = (environments.count + columns - 1) / columns
        let width = Double(columns) * (panelWidth + margin) + margin
        // The legend wraps to the width; the panels start below it.
        let legendColumns = max(1, Int((width - margin) / 120))
        let legendHeight = Double((agents.count + legendColumns - 1) / legendColumns) * 16
        let height = Double(rows) * (panelHeight + margin + 30) + 54 + legendHeight
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>

        """
        // Legend.
        for (i, agent) in agents.enumerated() {
            let x = margin + Double(i % legendColumns) * 120, y = 18 + Double(i / legendColumns) * 16
            svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"14\" height=\"4\" fill=\"\(palette[i % palette.count])\"/><text x=\"\(x + 20)\" y=\"\(y + 6)\">\(escape(agent))</text>\n"
        }
        for (p, environment) in environments.enumerated() {
            let ox = margin + Double(p % columns) * (panelWidth + margin)
            let oy = 44 + legendHeight + Double(p / columns) * (panelHeight + margin + 30)
            let bands = agents.compactMap { agent -> (String, Band)? in
                curves.contains { $0.agent == agent && $0.environment == environment } ? (agent, band(agent: agent, environment: environment)) : nil
            }
            let allFrames = bands.flatMap(\.1.frames)
            let low = bands.flatMap { zip($0.1.mean, $0.1.std).map { $0 - $1 } }.min() ?? 0
            let high = bands.flatMap { zip($0.1.mean, $0.1.std).map { $0 + $1 } }.max() ?? 1
            let (minX, maxX) = (0.0, max(allFrames.max() ?? 1, boundaries.last ?? 0, 1))
            let (minY, maxY) = low == high ? (low - 1, high + 1) : (low - 0.05 * (high - low), high + 0.05 * (high - low))
            func x(_ v: Double) -> Double { ox + (v - minX) / (maxX - minX) * panelWidth }
            func y(_ v: Double) -> Double { oy + panelHeight - (v - minY) / (maxY - minY) * panelHeight }
            svg += "<text x=\"\(ox + panelWidth / 2)\" y=\"\(oy - 8)\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(escape(environment))</text>\n"
            svg += "<rect x=\"\(ox)\" y=\"\(oy)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#444\"/>\n"
            for tick in ticks(minY, maxY) {
                svg += "<line x1=\"\(ox)\" x2=\"\(ox + panelWidth)\" y1=\"\(y(tick))\" y2=\"\(y(tick))\" stroke=\"#ddd\"/><text x=\"\(ox - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(label(tick))</text>\n"
            }
            for tick in ticks(minX, maxX) {
                svg += "<line x1=\"\(x(tick))\" x2=\"\(x(tick))\" y1=\"\(oy)\" y2=\"\(oy + panelHeight)\" stroke=\"#eee\"/><text x=\"\(x(tick))\" y=\"\(oy + panelHeight + 16)\" text-anchor=\"middle\">\(label(tick))</text>\n"
            }
            for boundary in boundaries {
                svg += "<line x1=\"\(x(boundary))\" x2=\"\(x(boundary))\" y1=\"\(oy)\" y2=\"\(oy + panelHeight)\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"
            }
            svg += "<text x=\"\(ox + panelWidth / 2)\" y=\"\(oy + panelHeight + 34)\" text-anchor=\"middle\">frames</text>\n"
            svg += "<text transform=\"translate(\(ox - 44),\(oy + panelHeight / 2)) rotate(-90)\" text-anchor=\"middle\">mean return (100 episodes)</text>\n"
            for (agent, band) in bands {
                let color = palette[(agents.firstIndex(of: agent) ?? 0) % palette.count]
                let upper = zip(band.frames, zip(band.mean, band.std)).map { "\(x($0)),\(y($1.0 + $1.1))" }
                let lower = zip(band.frames, zip(band.mean, band.std)).reversed().map { "\(x($0)),\(y($1.0 - $1.1))" }
                svg += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
                let line = zip(band.frames, band.mean).map { "\(x($0)),\(y($1))" }.joined(separator: " ")
                svg += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
        }
        return svg + "</svg>\n"
    }

    private func ticks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0 else { return [low] }
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var value = ceil(low / step) * step
        var result: [Double] = []
        while value <= high + 1e-9 {
            result.append(value)
            value += step
        }
        return result
    }

    private func label(_ value: Double) -> String {
        if abs(value) >= 1e6 { return String(format: "%gM", value / 1e6) }
        if abs(value) >= 1e3 { return String(format: "%gk", value / 1e3) }
        return String(format: "%g", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
