import ColonyStorage
import Foundation

/// The table printed after a grid: final return per agent × environment, mean ± std over seeds.
/// A cell's final return is its test mean (returns-test.csv), else its last returns100 row.
public enum GridSummary {
    public static func finalReturn(_ cell: GridCell) -> Double? {
        let directory = RunDirectory(path: cell.runDirectory)
        if let row = try? ReturnsCSV.read(directory.returnsTest).last { return row.mean }
        return (try? ReturnsCSV.read(directory.returns100).last)?.mean
    }

    public static func table(_ grid: ExperimentGrid) -> String {
        let agents = uniqued(grid.cells.map(\.agent))
        let environments = uniqued(grid.cells.map(\.environment))
        var lines = ["| agent | " + environments.joined(separator: " | ") + " |", "| --- |" + String(repeating: " ---: |", count: environments.count)]
        for agent in agents {
            var row = "| \(agent) |"
            for environment in environments {
                let cells = grid.cells.filter { $0.agent == agent && $0.environment == environment }
                let values = cells.compactMap(finalReturn)
                if values.isEmpty {
                    row += " — |"
                } else {
                    let mean = values.reduce(0, +) / Double(values.count)
                    let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
                    row += String(format: " %.1f ± %.1f (%d/%d seeds) |", mean, std, values.count, cells.count)
                }
            }
            lines.append(row)
        }
        return lines.joined(separator: "\n")
    }

    static func uniqued(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
