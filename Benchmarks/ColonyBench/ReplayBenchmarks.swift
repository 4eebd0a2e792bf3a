import ColonyAgents
import ColonyCluster
import ColonyNumerics
import ColonyTransport
import Foundation

/// The replay issue's figures: a `colony-replay` server (in this process, on its own thread, over
/// tcp://127.0.0.1) with a 1e6-item prioritized table of CartPole n-step transitions (obs 4 | action 1 |
/// reward 1 | next_obs 4 | discount 1 = 11 floats): inserted transitions per second in batches of 64 and
/// sampled transitions per second in batches of 256; then the sum tree's own cost at 1e4, 1e5 and 1e6.
struct ReplayBenchmarks {
    let seconds: Double
    let capacity: Int

    static let itemSize = 11

    func run() throws {
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
        let fill = 8192
        var filled = 0
        let fillStart = Date()
        while filled < capacity {
            let n = min(fill, capacity - filled)
            let payloads = (0..<(n * Self.itemSize)).map { _ in rng.nextFloat() }
            _ = try client.insert(payloads: payloads, priorities: (0..<n).map { _ in rng.nextFloat() + 0.01 })
            filled += n
        }
        let fillSeconds = Date().timeIntervalSince(fillStart)

        let batch64 = (0..<(64 * Self.itemSize)).map { _ in rng.nextFloat() }
        let priorities64 = (0..<64).map { _ in rng.nextFloat() + 0.01 }
        let insertsPerSecond = try measureRate(seconds: seconds, operationsPerCall: 64, roundSize: 20) {
            _ = try client.insert(payloads: batch64, priorities: priorities64)
        }
        var lastKeys: [UInt64] = []
        let samplesPerSecond = try measureRate(seconds: seconds, operationsPerCall: 256, roundSize: 10) {
            lastKeys = try client.sample(256, beta: 0.4).keys
        }
        let newPriorities = (0..<256).map { _ in rng.nextFloat() + 0.01 }
        let updatesPerSecond = try measureRate(seconds: seconds, operationsPerCall: 256, roundSize: 10) {
            try client.updatePriorities(keys: lastKeys, priorities: newPriorities)
            lastKeys = try client.sample(256, beta: 0.4).keys  // a round trip, so updates are applied, not queued
        }

        print("\n## Replay server: prioritized table of \(capacity) CartPole transitions (11 floats) over tcp://127.0.0.1\n")
        print("| operation | transitions/s |")
        print("| --- | ---: |")
        print("| fill (batches of \(fill)) | \(format(Double(capacity) / fillSeconds)) |")
        print("| insert, batches of 64 (at capacity: each evicts) | \(format(insertsPerSecond)) |")
        print("| sample, batches of 256 (prioritized, IS weights) | \(format(samplesPerSecond)) |")
        print("| update 256 priorities + sample 256 (round trip) | \(format(updatesPerSecond)) |")

        print("\n## Sum tree (in process): cost per operation\n")
        print("| capacity | update (ns) | find (ns) | table.sample(256) (µs) |")
        print("| ---: | ---: | ---: | ---: |")
        for size in [10_000, 100_000, 1_000_000] {
            var tree = SumTree(capacity: size)
            for i in 0..<size { tree.update(i, priority: Double(rng.nextFloat()) + 0.01) }
            let indices = (0..<4096).map { _ in rng.nextInt(below: size) }
            var cursor = 0
            let updates = measureRate(seconds: seconds / 2, operationsPerCall: 4096, roundSize: 1) {
                for index in indices { tree.update(index, priority: Double(cursor & 7) + 0.5); cursor &+= 1 }
            }
            let total = tree.total
            var sink = 0
            let finds = measureRate(seconds: seconds / 2, operationsPerCall: 4096, roundSize: 1) {
                for _ in 0..<4096 { sink &+= tree.find(rng.nextDouble() * total) }
            }
            let inProcess = try ReplayTable(.init(capacity: size, itemSize: Self.itemSize, selector: .prioritized(alpha: 0.6)))
            for start in stride(from: 0, to: size, by: 8192) {
                let n = min(8192, size - start)
                try inProcess.insert(payloads: [Float](repeating: 1, count: n * Self.itemSize), priorities: (0..<n).map { _ in rng.nextFloat() + 0.01 })
            }
            let samples = try measureRate(seconds: seconds / 2, operationsPerCall: 1, roundSize: 10) {
                sink &+= Int(try inProcess.sample(256, beta: 0.4, rng: &rng).keys[0] & 1)
            }
            print("| \(size) | \(String(format: "%.0f", 1e9 / updates)) | \(String(format: "%.0f", 1e9 / finds)) | \(String(format: "%.1f", 1e6 / samples)) |\(sink == -1 ? " " : "")")
        }
    }
}
