import ColonyAgents
import ColonyCluster
import ColonyNumerics
import ColonyTransport
import Foundation

/// The replay issue's figures, for a prioritized table (alpha 0.6) of CartPole n-step transitions
/// (obs 4 | action 1 | reward 1 | next_obs 4 | discount 1 = 11 floats):
/// - a `colony-replay` server (in this process, on its own thread, over tcp://127.0.0.1) with 1e6 items:
///   inserted transitions per second in batches of 64, one round trip at a time and pipelined (a window
///   of 8, the way actors insert), and sampled transitions per second in batches of 256;
/// - resident memory per stored item against its 44-byte payload (a table filled in this process, and
///   the server's growth while it is filled);
/// - `BlockedSumTree` with blocks of 16 (the table) and of 1 (single-process replay) against a binary sum tree at 1e4, 1e5 and 1e6 items;
/// - Reverb (dm-reverb's Python client and server, same workload) in the same run, when it imports.
struct ReplayBenchmarks {
    let seconds: Double
    let capacity: Int
    /// Python with dm-reverb (empty or without it: the table says why Reverb is absent).
    let reverbPython: String

    static let itemSize = 11
    static let payloadBytes = Double(itemSize * MemoryLayout<Float>.size)

    func run() throws {
        let tableMemory = try inProcessBytesPerItem()
        let served = try serverFigures()
        let reverb = ReferenceScript(python: reverbPython).run(
            repositoryRoot + "/Benchmarks/reference/reverb_replay.py", arguments: [String(seconds), String(capacity)])
        let reverbAbsence = FileManager.default.isExecutableFile(atPath: reverbPython)
            ? (reverb.notes.first ?? "no result")
            : "no Python with dm-reverb; make bench sets one up in Benchmarks/.venv-reverb"

        print("\n## Replay server: prioritized table of \(capacity) CartPole transitions (11 floats) over tcp://127.0.0.1\n")
        print("| operation | Colony transitions/s | Reverb transitions/s | Colony / Reverb | goal |")
        print("| --- | ---: | ---: | ---: | ---: |")
        func row(_ name: String, _ colony: Double, _ reverbKey: String?, goal: Double?) {
            let reference = reverbKey.flatMap { reverb.values[$0] }
            let ratio = reference.map { String(format: "%.1f×", colony / $0) } ?? "n/a"
            let goalText = goal.map { "≥ \(format($0))" + (colony >= $0 ? " ✓" : " ✗") } ?? ""
            print("| \(name) | \(format(colony)) | \(reference.map(format) ?? "n/a") | \(ratio) | \(goalText) |")
        }
        row("fill (batches of \(served.fillBatch), pipelined)", served.fill, nil, goal: nil)
        row("insert, batches of 64, one round trip at a time (at capacity: each evicts)", served.syncInserts, "insert_64_sync", goal: nil)
        row("insert, batches of 64, pipelined (window \(served.window))", served.pipelinedInserts, "insert_64_pipelined", goal: 1e6)
        row("sample, batches of 256 (prioritized, IS weights)", served.samples, "sample_256", goal: 2e5)
        row("update 256 priorities + sample 256 (round trip)", served.updates, "update_256_sample_256", goal: nil)
        if reverb.values.isEmpty {
            print("- Reverb: not installed (\(reverbAbsence))")
        } else {
            print("- Reverb: its Python client (TrajectoryWriter, one item per transition) against a server in another process over localhost gRPC; samples through reverb.TrajectoryDataset (tf.data)")
            for note in reverb.notes { print("- note: \(note)") }
        }

        print("\n## Replay memory: resident bytes per stored item (payload \(Int(Self.payloadBytes)) bytes)\n")
        print("| measured | items | bytes/item | payload bytes | ratio | goal |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        // The whole-process row includes fixed costs (socket buffers, allocator arenas: some MiB), so the
        // per-item goal is judged on the other two.
        for (name, items, bytes, judged) in [("ReplayTable filled in this process", capacity, tableMemory, true),
                                             ("replay server filled over tcp: growth from 10% to 100% full", capacity - capacity / 10, served.serverMarginalBytesPerItem, true),
                                             ("replay server filled over tcp: whole process growth (fixed costs of sockets, buffers, arenas too)", capacity, served.serverBytesPerItem, false)] {
            let ratio = bytes / Self.payloadBytes
            let goal = judged ? "≤ 1.20×" + (ratio <= 1.2 ? " ✓" : " ✗") : ""
            print("| \(name) | \(items) | \(String(format: "%.1f", bytes)) | \(Int(Self.payloadBytes)) | \(String(format: "%.2f×", ratio)) | \(goal) |")
        }
        if let bytes = reverb.values["bytes_per_item"] {
            let items = Int(reverb.values["items"] ?? 0)
            print("| Reverb server process filled over gRPC (whole process growth) | \(items) | \(String(format: "%.1f", bytes)) | \(Int(Self.payloadBytes)) | \(String(format: "%.2f×", bytes / Self.payloadBytes)) | |")
        } else {
            print("| Reverb | n/a | n/a | | | |")
        }

        try structureCosts()
    }

    // MARK: Memory

    /// Resident bytes of this process (/proc/self/statm: pages).
    static func residentBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Double(text.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// RSS growth per item while a table of `capacity` items is created and filled here.
    private func inProcessBytesPerItem() throws -> Double {
        var rng = RandomSource(seed: 3)
        let batch = 8192
        let payloads = (0..<(batch * Self.itemSize)).map { _ in rng.nextFloat() }
        let priorities = (0..<batch).map { _ in rng.nextFloat() + 0.01 }
        let before = Self.residentBytes()
        let table = try ReplayTable(.init(capacity: capacity, itemSize: Self.itemSize, selector: .prioritized(alpha: 0.6)))
        var filled = 0
        while filled < capacity {
            let n = min(batch, capacity - filled)
            try table.insert(payloads: Array(payloads[0..<n * Self.itemSize]), priorities: Array(priorities[0..<n]))
            filled += n
        }
        let after = Self.residentBytes()
        precondition(table.size == capacity)
        return (after - before) / Double(capacity)
    }

    // MARK: Server

    private struct ServerFigures {
        var fillBatch = 8192
        var window = 8
        var fill = 0.0, syncInserts = 0.0, pipelinedInserts = 0.0, samples = 0.0, updates = 0.0
        var serverBytesPerItem = 0.0, serverMarginalBytesPerItem = 0.0
    }

    private func serverFigures() throws -> ServerFigures {
        var figures = ServerFigures()
        let residentBefore = Self.residentBytes()
        let table = ReplayTableConfiguration(capacity: capacity, itemSize: Self.itemSize, selector: .prioritized(alpha: 0.6))
        let role = ReplayServerRole(settings: .init(table: table, seed: 1), logger: .silent(label: "replay"))
        let server = OwningThread(name: "replay-bench") { try? role.run() }
        server.start()
        defer { role.stop(); server.join() }
        while role.endpoint == nil { Thread.sleep(forTimeInterval: 0.01) }
        let context = ZMQContext()
        let client = try ReplayClient(endpoint: role.endpoint!, context: context)
        var rng = RandomSource(seed: 2)

        // Fill the table in large batches, then measure at capacity (every insert also evicts).
        let fillPayloads = (0..<(figures.fillBatch * Self.itemSize)).map { _ in rng.nextFloat() }
        let fillPriorities = (0..<figures.fillBatch).map { _ in rng.nextFloat() + 0.01 }
        var filled = 0
        let fillStart = Date()
        // RSS once a tenth is in: sockets, buffers and allocator arenas have grown by then, so the growth
        // from here on is what each further item costs.
        let tenth = capacity / 10
        var residentAtTenth = Double.nan
        while filled < capacity {
            let n = min(figures.fillBatch, capacity - filled, filled < tenth ? tenth - filled : capacity)
            try client.insertPipelined(payloads: Array(fillPayloads[0..<n * Self.itemSize]), priorities: Array(fillPriorities[0..<n]), window: 4)
            filled += n
            if filled == tenth {
                try client.flushInserts()
                residentAtTenth = Self.residentBytes()
            }
        }
        try client.flushInserts()
        figures.fill = Double(capacity) / Date().timeIntervalSince(fillStart)
        let residentFull = Self.residentBytes()
        figures.serverBytesPerItem = (residentFull - residentBefore) / Double(capacity)
        figures.serverMarginalBytesPerItem = (residentFull - residentAtTenth) / Double(capacity - tenth)

        let batch64 = (0..<(64 * Self.itemSize)).map { _ in rng.nextFloat() }
        let priorities64 = (0..<64).map { _ in rng.nextFloat() + 0.01 }
        figures.syncInserts = try measureRate(seconds: seconds, operationsPerCall: 64, roundSize: 20) {
            _ = try client.insert(payloads: batch64, priorities: priorities64)
        }
        // Pipelined: the rate counts inserts answered, so the final flush is inside the timing.
        let window = figures.window
        for _ in 0..<200 { try client.insertPipelined(payloads: batch64, priorities: priorities64, window: window) }
        try client.flushInserts()
        let start = DispatchTime.now().uptimeNanoseconds
        var calls = 0
        var elapsed = 0.0
        repeat {
            for _ in 0..<100 { try client.insertPipelined(payloads: batch64, priorities: priorities64, window: window) }
            calls += 100
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        try client.flushInserts()
        figures.pipelinedInserts = Double(calls * 64) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)

        var lastKeys: [UInt64] = []
        figures.samples = try measureRate(seconds: seconds, operationsPerCall: 256, roundSize: 10) {
            lastKeys = try client.sample(256, beta: 0.4).keys
        }
        let newPriorities = (0..<256).map { _ in rng.nextFloat() + 0.01 }
        figures.updates = try measureRate(seconds: seconds, operationsPerCall: 256, roundSize: 10) {
            try client.updatePriorities(keys: lastKeys, priorities: newPriorities)
            lastKeys = try client.sample(256, beta: 0.4).keys  // a round trip, so updates are applied, not queued
        }
        return figures
    }

    // MARK: Sum structures

    /// Update and find of `BlockedSumTree` with the replay server's blocks of 16 and with the blocks of 1
    /// that single-process prioritized replay uses, and of a plain binary sum tree (`BinarySumTree`, the
    /// structure single-process replay used before, as the reference), at random slots of a full
    /// structure; then a whole `table.sample(256)`.
    private func structureCosts() throws {
        var rng = RandomSource(seed: 4)
        print("\n## Sum structures (in process): cost per operation, prioritized (alpha 0.6)\n")
        print("| capacity | blocks of 16: update (ns) | find (ns) | blocks of 1: update (ns) | find (ns) | binary tree (reference): update (ns) | find (ns) | table.sample(256) (µs) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        var sink = 0
        func ns(_ rate: Double) -> String { String(format: "%.0f", 1e9 / rate) }
        for size in [10_000, 100_000, 1_000_000] {
            let indices = (0..<4096).map { _ in rng.nextInt(below: size) }
            let values = (0..<4096).map { _ in rng.nextFloat() + 0.01 }
            let initial = (0..<size).map { _ in rng.nextFloat() + 0.01 }

            var blockedFigures: [String] = []
            for blockSize in [16, 1] {
                let blocked = BlockedSumTree(capacity: size, alpha: 0.6, blockSize: blockSize)
                blocked.rebuild { leaves in for slot in 0..<size { leaves[slot] = initial[slot] } }
                let updates = measureRate(seconds: seconds / 6, operationsPerCall: 4096, roundSize: 1) {
                    for (index, value) in zip(indices, values) { blocked.update(index, priority: value) }
                }
                let total = blocked.total
                let finds = measureRate(seconds: seconds / 6, operationsPerCall: 4096, roundSize: 1) {
                    for _ in 0..<4096 { sink &+= blocked.find(rng.nextDouble() * total) }
                }
                blockedFigures += [ns(updates), ns(finds)]
            }

            // The binary tree stores p^α, which its user computed once per update.
            var tree = BinarySumTree(capacity: size)
            for i in 0..<size { tree.update(i, priority: Double(powf(initial[i], 0.6))) }
            let treeUpdates = measureRate(seconds: seconds / 6, operationsPerCall: 4096, roundSize: 1) {
                for (index, value) in zip(indices, values) { tree.update(index, priority: Double(powf(value, 0.6))) }
            }
            let treeTotal = tree.total
            let treeFinds = measureRate(seconds: seconds / 6, operationsPerCall: 4096, roundSize: 1) {
                for _ in 0..<4096 { sink &+= tree.find(rng.nextDouble() * treeTotal) }
            }

            let inProcess = try ReplayTable(.init(capacity: size, itemSize: Self.itemSize, selector: .prioritized(alpha: 0.6)))
            for start in stride(from: 0, to: size, by: 8192) {
                let n = min(8192, size - start)
                try inProcess.insert(payloads: [Float](repeating: 1, count: n * Self.itemSize), priorities: Array(initial[start..<start + n]))
            }
            let samples = try measureRate(seconds: seconds / 6, operationsPerCall: 1, roundSize: 10) {
                sink &+= Int(try inProcess.sample(256, beta: 0.4, rng: &rng).keys[0] & 1)
            }
            print("| \(size) | \(blockedFigures.joined(separator: " | ")) | \(ns(treeUpdates)) | \(ns(treeFinds)) | \(String(format: "%.1f", 1e6 / samples)) |")
        }
        if sink == -1 { print("") }  // keeps the finds from being optimised away
    }
}
