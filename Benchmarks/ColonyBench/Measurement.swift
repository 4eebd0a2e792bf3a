import Foundation

/// Calls `body` in rounds until `seconds` have passed; returns operations per second, where one call
/// counts `operationsPerCall` operations. A short warm-up runs first so caches and lazy set-up settle.
func measureRate(seconds: Double, operationsPerCall: Int = 1, roundSize: Int = 100, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<max(1, roundSize / 10) { try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    var calls = 0
    var elapsed = 0.0
    repeat {
        for _ in 0..<roundSize { try body() }
        calls += roundSize
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    return Double(calls * operationsPerCall) / elapsed
}

/// Runs a reference script with the given Python and decodes the one JSON object it prints.
struct ReferenceScript {
    let python: String

    func run(_ script: String, arguments: [String]) -> (values: [String: Double], notes: [String]) {
        guard !python.isEmpty, FileManager.default.isExecutableFile(atPath: python) else {
            return ([:], ["no reference Python (make bench sets one up in Benchmarks/.venv)"])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return ([:], ["cannot start \(python): \(error)"]) }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return ([:], ["\(script) printed no result (exit \(process.terminationStatus))"])
        }
        var values: [String: Double] = [:]
        for (key, value) in object { if let number = value as? Double { values[key] = number } }
        let notes = (object["notes"] as? [String]) ?? []
        var versions: [String] = []
        for (key, value) in object where key.hasSuffix("_version") { versions.append("\(key.dropLast(8)) \(value)") }
        return (values, notes + (versions.isEmpty ? [] : ["references: " + versions.sorted().joined(separator: ", ")]))
    }
}

/// The median (the mean of the middle two for an even count); nil for no values.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// One row of the printed table.
struct BenchRow {
    let name: String
    let unit: String
    let colony: Double
    let referenceName: String
    let reference: Double?
    let goal: Double?
}

func printTable(title: String, rows: [BenchRow], notes: [String]) {
    print("\n## \(title)\n")
    print("| benchmark | unit | Colony | reference | reference value | ratio | goal |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: |")
    for row in rows {
        let reference = row.reference.map { format($0) } ?? "n/a"
        let ratio = row.reference.map { String(format: "%.1f×", row.colony / $0) } ?? "n/a"
        let goal = row.goal.map { String(format: "≥ %.0f×", $0) } ?? ""
        let met = row.goal.flatMap { goal in row.reference.map { row.colony / $0 >= goal ? " ✓" : " ✗" } } ?? ""
        print("| \(row.name) | \(row.unit) | \(format(row.colony)) | \(row.referenceName) | \(reference) | \(ratio)\(met) | \(goal) |")
    }
    for note in notes { print("- note: \(note)") }
}

func format(_ value: Double) -> String {
    if value >= 1e6 { return String(format: "%.2fM", value / 1e6) }
    if value >= 1e3 { return String(format: "%.1fk", value / 1e3) }
    return String(format: "%.1f", value)
}

/// The repository root (Benchmarks/ColonyBench/../..), to find the reference scripts.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The machine's 1-, 5- and 15-minute load averages and core count, for a table's notes: figures
/// taken while other work runs on the machine are slower on both sides, not only on one.
func machineLoadNote() -> String {
    let loads = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
    return "load average \(loads.isEmpty ? "unknown" : loads) on \(ProcessInfo.processInfo.activeProcessorCount) cores"
}
