/// A fixed grid of characters that the environments draw their `render()` frames on.
/// Coordinates are cells; row 0 is the top line. Drawing outside the grid is ignored.
struct TextCanvas {
    static let defaultWidth = 60
    static let defaultHeight = 15

    let width: Int
    let height: Int
    private var cells: [Character]

    init(width: Int = TextCanvas.defaultWidth, height: Int = TextCanvas.defaultHeight) {
        self.width = width
        self.height = height
        cells = Array(repeating: " ", count: width * height)
    }

    mutating func plot(column: Int, row: Int, _ character: Character) {
        guard column >= 0, column < width, row >= 0, row < height else { return }
        cells[row * width + column] = character
    }

    /// Plots at the cell nearest to a fractional position.
    mutating func plot(x: Double, y: Double, _ character: Character) {
        guard x.isFinite, y.isFinite, abs(x) < 1e6, abs(y) < 1e6 else { return }
        plot(column: Int((x).rounded()), row: Int((y).rounded()), character)
    }

    /// A straight segment between fractional cell positions, sampled densely enough to be gapless.
    mutating func line(fromX x0: Double, y0: Double, toX x1: Double, y1: Double, _ character: Character) {
        let steps = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)) * 2)
        guard steps < 10_000 else { return }
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            plot(x: x0 + (x1 - x0) * t, y: y0 + (y1 - y0) * t, character)
        }
    }

    /// Writes text left to right from a cell, clipped at the edge.
    mutating func write(_ text: String, column: Int, row: Int) {
        for (offset, character) in text.enumerated() {
            plot(column: column + offset, row: row, character)
        }
    }

    /// The frame as `height` lines of `width` characters.
    func rendered() -> String {
        (0..<height).map { row in String(cells[(row * width)..<((row + 1) * width)]) }
            .joined(separator: "\n")
    }
}
