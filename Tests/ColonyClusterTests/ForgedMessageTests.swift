import ColonyCluster
import ColonyExperiments
import ColonyNumerics
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// A deterministic source of mutations: the same seed gives the same frames.
private struct SeededMutator {
    private var random: RandomSource

    init(seed: UInt64) { random = RandomSource(seed: seed) }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// A near-valid variant of `frames`: bytes flipped, frames cut, extended, dropped, doubled or
    /// swapped, a number replaced by NaN, infinity, 3e38, 7 or −1, or random frames altogether.
    mutating func mutate(_ frames: [[UInt8]]) -> [[UInt8]] {
        var frames = frames
        let target = below(frames.count)
        switch below(8) {
        case 0:
            for _ in 0..<(1 + below(4)) where !frames[target].isEmpty {
                frames[target][below(frames[target].count)] ^= UInt8(1 << below(8))
            }
        case 1:
            frames[target] = Array(frames[target].prefix(below(frames[target].count + 1)))
        case 2:
            frames[target] += (0..<(1 + below(64))).map { _ in UInt8(truncatingIfNeeded: next()) }
        case 3:
            if frames.count > 1 { frames.remove(at: target) }
        case 4:
            frames.insert(frames[target], at: target)
        case 5:
            frames.swapAt(target, below(frames.count))
        case 6:
            // A float of a tensor frame (not the header) becomes a hostile value.
            let tensor = frames.count > 1 ? 1 + below(frames.count - 1) : 0
            if frames[tensor].count >= 4 {
                let values: [Float] = [.nan, .infinity, -.infinity, 3e38, 7, -1, 1e20]
                let at = below(frames[tensor].count / 4) * 4
                withUnsafeBytes(of: values[below(values.count)]) { bytes in
                    for index in 0..<4 { frames[tensor][at + index] = bytes[index] }
                }
            }
        default:
            frames = (0..<(1 + below(4))).map { _ in (0..<below(96)).map { _ in UInt8(truncatingIfNeeded: next()) } }
        }
        return frames.isEmpty ? [[]] : frames
    }
}

/// Issue 14's adversarial tests with the real executables: a forger sends well-formed messages with
/// out-of-range fields of every type and thousands of random and near-valid frames to each bound
/// socket of a running cluster; afterwards every process is alive, training goes on, drops are
/// counted by reason and the learner's parameters are finite.
final class ForgedMessageTests: ExecutableTestCase {
    private let forgerID: UInt64 = 0xF0F0

    /// A DEALER to `endpoint` whose sends give up after a second rather than hang on a dead peer.
    private func forger(_ endpoint: String, context: ZMQContext) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        try socket.setSendTimeout(milliseconds: 1000)
        try socket.connect(endpoint)
        return socket
    }

    /// `count` near-valid variants of `message`, seeded.
    private func sendMutations(of message: WireMessage, count: Int, seed: UInt64, to socket: ZMQSocket) {
        var mutator = SeededMutator(seed: seed)
        let frames = message.encode()
        for _ in 0..<count { _ = try? socket.send(mutator.mutate(frames)) }
    }

    /// The first parameters the learner publishes within 5 s: they must all be finite.
    private func publishedParameters(_ endpoint: String, context: ZMQContext) throws -> [Float]? {
        let subscription = try ZMQSocket(context, .sub)
        defer { subscription.close() }
        try subscription.subscribe()
        try subscription.connect(endpoint)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            guard try subscription.waitReadable(timeout: 200) else { continue }
            if case .message(let message, _)? = try subscription.receiveWire(limits: .default, dontWait: true), message.type == .parameters {
                return try message.tensors[0].floats()
            }
        }
        return nil
    }

    private func learner(_ coordinator: String) -> ClusterStatus.Member? {
        status(coordinator)?.members.first { $0.role == .learner }
    }

    /// A cluster file of `algorithm` on CartPole-v1 with one worker of 4 environments, its own
    /// coordinator and run directory, a frame budget no test reaches, and the given extra lines.
    private func clusterFile(_ algorithm: String, coordinator: String, cluster: String, agent: String) throws -> String {
        let path = directory + "/\(algorithm).toml"
        try AtomicFile.write("""
            algorithm = "\(algorithm)"
            env = "CartPole-v1"
            frames = 50_000_000
            seed = 3
            runs_dir = "\(directory!)/runs"

            [cluster]
            coordinator = "\(coordinator)"
            host = "127.0.0.1"
            workers = 1
            envs_per_worker = 4
            \(cluster)

            [agent]
            \(agent)
            """, to: path)
        return path
    }

    // MARK: IMPALA

    private func trajectory(_ sender: inout WireSender, steps t: Int = 4, environments n: Int = 2, observationSize: Int = 4, version: UInt64 = 0,
                            action: Float = 1, reward: Float = 1, logProbability: Float = -0.69) -> WireMessage {
        let s = t * n
        return sender.message(.trajectory, parameterVersion: version, tensors: [
            WireTensor([Float](repeating: 0.01, count: (t + 1) * n * observationSize), shape: [(t + 1) * n, observationSize]),
            WireTensor([Float](repeating: action, count: s), shape: [s, 1]),
            WireTensor([Float](repeating: reward, count: s)),
            WireTensor([UInt8](repeating: 0, count: s)),
            WireTensor([UInt8](repeating: 0, count: s)),
            WireTensor([Float](repeating: logProbability, count: s)),
            WireTensor([Int32]()),
            WireTensor([Float](), shape: [0, observationSize]),
            WireTensor([Int32(t), Int32(n)]),
        ])
    }

    private func episodes(_ sender: inout WireSender, returns: [Double], lengths: [Int32], frames: Int32? = nil) -> WireMessage {
        sender.message(.episodes, tensors: [WireTensor(returns), WireTensor(lengths)] + (frames.map { [WireTensor([$0])] } ?? []))
    }

    /// IMPALA on CartPole: forged trajectories (action 7, NaN and 3e38 rewards, log-probabilities of
    /// 1e30, 5-float observations, unrolls longer than the run's, versions from the future), a
    /// gradient, episode reports (return 1e308 and ∞, negative lengths, ten million frames), 3,000
    /// mutated trajectories and episode reports; at the coordinator an unregistered shutdown, a forged
    /// learner registration and 2,000 random frames. The run goes on.
    func testIMPALARunSurvivesForgedAndRandomMessages() throws {
        let coordinator = try freeEndpoint()
        let path = try clusterFile("impala", coordinator: coordinator, cluster: """
            credits = 2
            batch_unrolls = 2
            max_policy_lag = 50
            checkpoint_every = 1_000_000
            """, agent: "unroll_length = 20")
        let running = [
            try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log"),
            try start("colony-learner", ["--config", path], log: directory + "/learner.log"),
            try start("colony-worker", ["--config", path, "--index", "0"], log: directory + "/worker-0.log"),
        ]
        let logs = { self.logTail("learner.log") + self.logTail("worker-0.log") + self.logTail("coordinator.log") }
        XCTAssertTrue(eventually(timeout: 60) { (learner(coordinator)?.stats.extra["frames"] ?? 0) > 2_000 }, "no frames" + logs())
        let endpoints = try XCTUnwrap(learner(coordinator)?.endpoints)
        let context = ZMQContext()

        // The learner's data socket.
        let data = try forger(try XCTUnwrap(endpoints["data"]), context: context)
        defer { data.close() }
        var sender = WireSender(senderID: forgerID, runID: 7)
        let forged: [WireMessage] = [
            trajectory(&sender, action: 7),
            trajectory(&sender, action: 0.5),
            trajectory(&sender, reward: .nan),
            trajectory(&sender, reward: 3e38),
            trajectory(&sender, logProbability: 1e30),
            trajectory(&sender, observationSize: 5),
            trajectory(&sender, steps: 21),
            trajectory(&sender, version: 1 << 40),
            trajectory(&sender, version: .max),
            sender.message(.gradient, tensors: [WireTensor([Float](repeating: 1e30, count: 8)), WireTensor([Int32(1)])]),
            episodes(&sender, returns: [1e308], lengths: [10]),
            episodes(&sender, returns: [.infinity], lengths: [10]),
            episodes(&sender, returns: [10], lengths: [-5]),
            episodes(&sender, returns: [10], lengths: [10], frames: 10_000_000),
            sender.message(.credit, tensors: [WireTensor([Int32.max])]),
        ]
        for message in forged { try data.send(message) }
        sendMutations(of: trajectory(&sender), count: 2_000, seed: 1, to: data)
        sendMutations(of: episodes(&sender, returns: [20, 30], lengths: [20, 30]), count: 1_000, seed: 2, to: data)

        // The coordinator: an unregistered shutdown, a second learner, random frames under many ids.
        let control = try forger(coordinator, context: context)
        defer { control.close() }
        try control.send(sender.control(.shutdown, ["reason": "forged"]))
        struct Registration: Encodable { var member: MemberInfo }
        try control.send(sender.control(.register, Registration(member: MemberInfo(
            role: .learner, name: "learner-impala", host: "evil", pid: 1, endpoints: ["data": "tcp://127.0.0.1:1", "parameters": "tcp://127.0.0.1:2"]))))
        var mutator = SeededMutator(seed: 3)
        let heartbeat = sender.control(.heartbeat, ["stats": [String: Double]()]).encode()
        for _ in 0..<2_000 { _ = try? control.send(mutator.mutate(heartbeat)) }

        // Every process lives, the learner keeps learning, and the refusals are counted by reason.
        let framesAfterAttack = learner(coordinator)?.stats.extra["frames"] ?? 0
        XCTAssertTrue(eventually(timeout: 30) { (learner(coordinator)?.stats.extra["frames"] ?? 0) > framesAfterAttack + 10_000 }, "training stopped" + logs())
        for process in running { XCTAssertTrue(process.isRunning, "a process exited" + logs()) }
        // Stats reach the coordinator with the next heartbeats (about a second).
        let expected = ["dropped: out of range": 9.0, "dropped: future version": 2, "dropped: non-finite": 2, "dropped: type not accepted": 1]
        XCTAssertTrue(eventually(timeout: 10) { expected.allSatisfy { (learner(coordinator)?.stats.extra[$0.key] ?? 0) >= $0.value } })
        let extra = try XCTUnwrap(learner(coordinator)?.stats.extra)
        XCTAssertGreaterThanOrEqual(extra["dropped: out of range"] ?? 0, 9, "\(extra)")
        XCTAssertGreaterThanOrEqual(extra["dropped: future version"] ?? 0, 2, "\(extra)")
        XCTAssertGreaterThanOrEqual(extra["dropped: non-finite"] ?? 0, 2, "\(extra)")
        XCTAssertGreaterThanOrEqual(extra["dropped: type not accepted"] ?? 0, 1, "\(extra)")
        let coordinatorStatus = try XCTUnwrap(status(coordinator))
        XCTAssertNil(coordinatorStatus.shutdownReason)
        // At least: a mutated heartbeat may have become another unregister or shutdown from the same id.
        XCTAssertGreaterThanOrEqual(coordinatorStatus.droppedMessages[formatID(forgerID)]?["unregistered sender"] ?? 0, 1, "\(coordinatorStatus.droppedMessages)")
        XCTAssertGreaterThanOrEqual(coordinatorStatus.droppedMessages[formatID(forgerID)]?["name taken"] ?? 0, 1)
        XCTAssertLessThanOrEqual(coordinatorStatus.droppedMessages.count, DropCounter().maximumSenders + 1)
        XCTAssertEqual(try CoordinatorRequest.discover(coordinator: coordinator, context: context)?.learner?.endpoints, endpoints, "discovery hijacked")
        let parameters = try XCTUnwrap(try publishedParameters(try XCTUnwrap(endpoints["parameters"]), context: context), "no parameters published")
        XCTAssertTrue(parameters.allSatisfy(\.isFinite), "non-finite parameters")
        let rows = (try? ReturnsCSV.read("\(directory!)/runs/impala/CartPole-v1/seed-3/returns100.csv")) ?? []
        // Mutated reports inside the bounds are indistinguishable from a worker's (only keys tell them apart), but
        // nothing beyond ReceivedValueBounds.maximumReturn (1e9), let alone ∞, reaches the file.
        XCTAssertFalse(rows.isEmpty)
        XCTAssertTrue(rows.allSatisfy { $0.mean.isFinite && abs($0.mean) <= 1e9 }, "forged returns reached returns100.csv: \(rows.map(\.mean))")
    }

    // MARK: A3C

    private func gradient(_ sender: inout WireSender, count: Int, value: Float = 1e-3, frames: Int32 = 20, version: UInt64 = 0) -> WireMessage {
        sender.message(.gradient, parameterVersion: version, tensors: [WireTensor([Float](repeating: value, count: count)), WireTensor([frames])])
    }

    /// A3C on CartPole: forged gradients (one value short, NaN, 1e30, zero and ten million frames, a
    /// version from the future), a trajectory (not this run's flow), episode reports (return ∞,
    /// length 0), 3,000 mutated gradients and reports. Every process lives, updates go on, the
    /// parameters stay finite and status.json carries the drops by reason.
    func testA3CRunSurvivesForgedGradients() throws {
        let coordinator = try freeEndpoint()
        let path = try clusterFile("a3c", coordinator: coordinator, cluster: """
            max_policy_lag = 50
            checkpoint_every = 5_000
            """, agent: "n_steps = 5")
        let running = [
            try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log"),
            try start("colony-learner", ["--config", path], log: directory + "/learner.log"),
            try start("colony-worker", ["--config", path, "--index", "0"], log: directory + "/worker-0.log"),
        ]
        let logs = { self.logTail("learner.log") + self.logTail("worker-0.log") }
        func updates() -> Double { learner(coordinator)?.stats.extra["version"] ?? 0 }
        XCTAssertTrue(eventually(timeout: 60) { updates() > 20 }, "no updates" + logs())
        let endpoints = try XCTUnwrap(learner(coordinator)?.endpoints)
        let context = ZMQContext()
        let parameterCount = try XCTUnwrap(try publishedParameters(try XCTUnwrap(endpoints["parameters"]), context: context)).count

        let data = try forger(try XCTUnwrap(endpoints["data"]), context: context)
        defer { data.close() }
        var sender = WireSender(senderID: forgerID, runID: 7)
        let forged: [WireMessage] = [
            gradient(&sender, count: parameterCount - 1),
            gradient(&sender, count: parameterCount, value: .nan),
            gradient(&sender, count: parameterCount, value: 1e30),
            gradient(&sender, count: parameterCount, frames: 0),
            gradient(&sender, count: parameterCount, frames: 10_000_000),
            gradient(&sender, count: parameterCount, version: 1 << 40),
            trajectory(&sender),
            episodes(&sender, returns: [.infinity], lengths: [10]),
            episodes(&sender, returns: [10], lengths: [0]),
        ]
        for message in forged { try data.send(message) }
        sendMutations(of: gradient(&sender, count: parameterCount), count: 2_000, seed: 6, to: data)
        sendMutations(of: episodes(&sender, returns: [20], lengths: [20]), count: 1_000, seed: 7, to: data)

        let updatesAfterAttack = updates()
        XCTAssertTrue(eventually(timeout: 40) { updates() > updatesAfterAttack + 50 }, "learning stopped" + logs())
        for process in running { XCTAssertTrue(process.isRunning, "a process exited" + logs()) }
        let expected = ["dropped: out of range": 5.0, "dropped: future version": 1, "dropped: non-finite": 2, "dropped: type not accepted": 1]
        XCTAssertTrue(eventually(timeout: 10) { expected.allSatisfy { (learner(coordinator)?.stats.extra[$0.key] ?? 0) >= $0.value } },
                      "\(learner(coordinator)?.stats.extra ?? [:])")
        let parameters = try XCTUnwrap(try publishedParameters(try XCTUnwrap(endpoints["parameters"]), context: context), "no parameters published")
        XCTAssertEqual(parameters.count, parameterCount)
        XCTAssertTrue(parameters.allSatisfy(\.isFinite), "non-finite parameters")
        // The learner's status.json (written at each checkpoint) carries the same counts.
        let statusPath = "\(directory!)/runs/a3c/CartPole-v1/seed-3/status.json"
        XCTAssertTrue(eventually(timeout: 30) { (RunStatus.read(statusPath)?.droppedMessages?["out of range"] ?? 0) >= 5 },
                      "status.json: \(String(describing: RunStatus.read(statusPath)))")
        let written = try XCTUnwrap(RunStatus.read(statusPath)?.droppedMessages)
        XCTAssertGreaterThanOrEqual(written["non-finite"] ?? 0, 2, "\(written)")
        XCTAssertGreaterThanOrEqual(written["type not accepted"] ?? 0, 1, "\(written)")
    }

    /// A gradient the learner refuses still spent one of its sender's credits, and the learner gives that credit back:
    /// a worker whose gradient was computed with the shapes before a population's release changed `hidden_sizes` is
    /// refused this way, and without the credit it would wait forever (its window holds `credits` sends).
    func testALearnerGivesBackTheCreditOfAGradientItRefuses() throws {
        let coordinator = try freeEndpoint()
        let path = try clusterFile("a3c", coordinator: coordinator, cluster: "credits = 2", agent: "n_steps = 5")
        let running = [
            try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log"),
            try start("colony-learner", ["--config", path], log: directory + "/learner.log"),
        ]
        XCTAssertTrue(eventually(timeout: 30) { self.learner(coordinator)?.endpoints["data"] != nil }, logTail("learner.log"))
        let endpoints = try XCTUnwrap(learner(coordinator)?.endpoints)
        let context = ZMQContext()
        let parameterCount = try XCTUnwrap(try publishedParameters(try XCTUnwrap(endpoints["parameters"]), context: context)).count
        let data = try forger(try XCTUnwrap(endpoints["data"]), context: context)
        defer { data.close() }
        var sender = WireSender(senderID: forgerID, runID: 7)
        /// Credits granted to `socket` within `seconds`.
        func granted(within seconds: Double, to socket: ZMQSocket) throws -> Int {
            var total = 0
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard try socket.waitReadable(timeout: 50) else { continue }
                if case .message(let message, _)? = try socket.receiveWire(limits: .default, dontWait: true), message.type == .credit {
                    total += Int(try message.tensors[0].int32s().first ?? 0)
                }
            }
            return total
        }
        try data.send(sender.message(.credit, tensors: [WireTensor([Int32(1)])]))
        XCTAssertEqual(try granted(within: 2, to: data), 2, "a new worker is topped up to its window")
        try data.send(gradient(&sender, count: parameterCount - 1))
        XCTAssertEqual(try granted(within: 2, to: data), 1, "the refused gradient's credit comes back" + logTail("learner.log"))
        try data.send(gradient(&sender, count: parameterCount))
        XCTAssertEqual(try granted(within: 2, to: data), 1, "an applied gradient's credit comes back")
        // A connection the learner never granted a credit gets none for a refused message: the window never grows.
        let stranger = try forger(try XCTUnwrap(endpoints["data"]), context: context)
        defer { stranger.close() }
        for _ in 0..<3 { try stranger.send(gradient(&sender, count: parameterCount + 1)) }
        XCTAssertEqual(try granted(within: 2, to: stranger), 0, logTail("learner.log"))
        for process in running { XCTAssertTrue(process.isRunning, "a process exited" + logTail("learner.log")) }
    }

    // MARK: Ape-X

    private func insert(_ sender: inout WireSender, rows: Int = 8, action: Float = 1, reward: Float = 1, discount: Float = 0.99,
                        observation: Float = 0.01, priority: Float = 1, itemSize: Int = 11) -> WireMessage {
        // CartPole: observation (4) | action (1) | reward | next observation (4) | discount = 11 floats.
        let row: [Float] = [observation, 0.01, 0.01, 0.01, action, reward, 0.01, 0.01, 0.01, 0.01, discount]
        let sized = Array(row.prefix(itemSize)) + [Float](repeating: 0, count: max(0, itemSize - row.count))
        let items = Array((0..<rows).map { _ in sized }.joined())
        return sender.message(.replayInsert, tensors: [
            WireTensor(items, shape: [rows, itemSize]), WireTensor([Float](repeating: priority, count: rows)),
        ])
    }

    /// Ape-X DQN on CartPole: forged inserts at colony-replay (action 7, reward 1e20, discount 5,
    /// observation 1e30, priority 1e30, items of the wrong size, a sample of a million), forged
    /// episode reports at the learner (return 1e308, ten million frames, a trajectory it does not
    /// take), 3,000 mutated inserts and reports. Nothing enters the table, every process lives,
    /// learning goes on with finite parameters.
    func testApeXRunSurvivesForgedInsertsAndReports() throws {
        let coordinator = try freeEndpoint()
        let path = try clusterFile("apex_dqn", coordinator: coordinator, cluster: """
            transitions_per_insert = 64
            eval_every = 0
            """, agent: """
            hidden_sizes = [64, 64]
            batch_size = 32
            learning_starts = 500
            buffer_size = 20_000
            """)
        let running = [
            try start("colony-coordinator", ["--bind", coordinator], log: directory + "/coordinator.log"),
            try start("colony-replay", ["--coordinator", coordinator, "--config", path], log: directory + "/replay.log"),
            try start("colony-learner", ["--config", path], log: directory + "/learner.log"),
            try start("colony-worker", ["--config", path, "--index", "0"], log: directory + "/worker-0.log"),
        ]
        let logs = { self.logTail("learner.log") + self.logTail("replay.log") + self.logTail("worker-0.log") }
        func updates() -> Double { learner(coordinator)?.stats.extra["version"] ?? 0 }
        XCTAssertTrue(eventually(timeout: 60) { updates() > 20 }, "no updates" + logs())
        let endpoints = try XCTUnwrap(learner(coordinator)?.endpoints)
        let replayEndpoint = try XCTUnwrap(status(coordinator)?.members.first { $0.role == .replay }?.endpoints["replay"])
        let context = ZMQContext()

        let replay = try forger(replayEndpoint, context: context)
        defer { replay.close() }
        var sender = WireSender(senderID: forgerID, runID: 7)
        let forgedInserts = [
            insert(&sender, action: 7), insert(&sender, action: 0.5), insert(&sender, reward: 1e20), insert(&sender, discount: 5),
            insert(&sender, observation: 1e30), insert(&sender, priority: 1e30), insert(&sender, itemSize: 12),
        ]
        for message in forgedInserts { try replay.send(message) }
        try replay.send(sender.message(.replaySample, tensors: [WireTensor([Int32(1_000_000)]), WireTensor([Float(0.4)])]))
        sendMutations(of: insert(&sender), count: 2_000, seed: 4, to: replay)

        let data = try forger(try XCTUnwrap(endpoints["data"]), context: context)
        defer { data.close() }
        try data.send(episodes(&sender, returns: [1e308], lengths: [10], frames: 10))
        try data.send(episodes(&sender, returns: [10], lengths: [10], frames: 10_000_000))
        try data.send(trajectory(&sender))
        sendMutations(of: episodes(&sender, returns: [20], lengths: [20], frames: 64), count: 1_000, seed: 5, to: data)

        let updatesAfterAttack = updates()
        XCTAssertTrue(eventually(timeout: 40) { updates() > updatesAfterAttack + 50 }, "learning stopped" + logs())
        for process in running { XCTAssertTrue(process.isRunning, "a process exited" + logs()) }
        func replayExtra() -> [String: Double]? { status(coordinator)?.members.first { $0.role == .replay }?.stats.extra }
        // Stats reach the coordinator with the next heartbeats (about a second).
        XCTAssertTrue(eventually(timeout: 10) {
            (replayExtra()?["dropped: out of range"] ?? 0) >= 7 && (learner(coordinator)?.stats.extra["dropped: type not accepted"] ?? 0) >= 1
        })
        let replayStats = try XCTUnwrap(replayExtra())
        XCTAssertGreaterThanOrEqual(replayStats["dropped: out of range"] ?? 0, 7, "\(replayStats)")
        let learnerStats = try XCTUnwrap(learner(coordinator)?.stats.extra)
        XCTAssertGreaterThanOrEqual(learnerStats["dropped: out of range"] ?? 0, 2, "\(learnerStats)")
        XCTAssertGreaterThanOrEqual(learnerStats["dropped: type not accepted"] ?? 0, 1, "\(learnerStats)")
        // The report of ten million frames was refused; mutated reports within the per-message bound
        // (8 · 64 + (1 + 8) · 4096 frames) may count, as a worker's would.
        XCTAssertLessThan(learnerStats["frames"] ?? .infinity, 10_000_000, "forged frames were counted")
        let parameters = try XCTUnwrap(try publishedParameters(try XCTUnwrap(endpoints["parameters"]), context: context), "no parameters published")
        XCTAssertTrue(parameters.allSatisfy(\.isFinite), "non-finite parameters")
    }
}
