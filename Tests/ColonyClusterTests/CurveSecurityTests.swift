import ColonyCluster
import ColonyNumerics
import ColonyStorage
import ColonyTransport
import Foundation
import XCTest

/// CurveZMQ on real sockets and the real executables: only members whose keys the run authorizes get
/// a connection; key files stay private; a keyed cluster trains; an unkeyed process cannot join it.
final class CurveSecurityTests: ExecutableTestCase {
    private func received(_ socket: ZMQSocket, within milliseconds: Int32) throws -> [[UInt8]]? {
        try socket.setReceiveTimeout(milliseconds: milliseconds)
        return try socket.receive()
    }

    /// One message from a client of `context` to `endpoint`, or nil when the server never got it.
    private func deliver(from context: ZMQContext, to endpoint: String, server: ZMQSocket, wait: Int32) throws -> [[UInt8]]? {
        let client = try ZMQSocket(context, .dealer)
        defer { client.close() }
        try client.connect(endpoint)
        _ = try client.send([Array("hello".utf8)], dontWait: true)
        return try received(server, within: wait)
    }

    func testOnlyAuthorizedKeysConnect() throws {
        let keys = RunKeys(directory: directory + "/keys")
        try keys.create()
        try keys.create(member: "second")
        try keys.create(member: "revoked")
        try FileManager.default.removeItem(atPath: directory + "/keys/authorized/revoked.pub")
        let serverContext = ZMQContext(security: try keys.security())
        XCTAssertNotNil(serverContext.security?.server, "the member that can read server.key serves with it")
        let server = try ZMQSocket(serverContext, .router)
        defer { server.close() }
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = try server.lastEndpoint

        // Authorized members connect and their messages arrive (encrypted: CURVE on tcp://).
        for member in ["member", "second"] {
            let frames = try deliver(from: ZMQContext(security: try keys.security(member: member)), to: endpoint, server: server, wait: 5_000)
            XCTAssertEqual(frames?.last, Array("hello".utf8), member)
        }
        // Without keys, with a revoked key, or with another run's keys: nothing gets through.
        let other = RunKeys(directory: directory + "/other-run")
        try other.create()
        for (name, context) in [("unkeyed", ZMQContext(security: nil)),
                                ("revoked", ZMQContext(security: try keys.security(member: "revoked"))),
                                ("another run's member", ZMQContext(security: try other.security()))] {
            XCTAssertNil(try deliver(from: context, to: endpoint, server: server, wait: 1_000), "\(name) got a message through")
        }
        // The keyed-but-unauthorized client was refused by the ZAP handler, counted and named.
        let admissions = serverContext.curveAdmissions
        XCTAssertEqual(admissions.admitted, 2)
        XCTAssertGreaterThanOrEqual(admissions.refused, 1)
        // The unkeyed client and the other run's member failed their handshakes before any key check.
        XCTAssertTrue(eventually(timeout: 5) { serverContext.curveAdmissions.failedHandshakes >= 2 }, "\(serverContext.curveAdmissions)")
        let revokedKey = try keys.security(member: "revoked").member.publicKey
        XCTAssertTrue(admissions.recentRefusals.contains { $0.hasPrefix(revokedKey) }, "\(admissions.recentRefusals)")
        // ipc:// is not CURVE: the file system guards it.
        let ipc = try ZMQSocket(serverContext, .router)
        defer { ipc.close() }
        try ipc.bind("ipc://\(directory!)/local.sock")
        XCTAssertNotNil(try deliver(from: ZMQContext(security: nil), to: "ipc://\(directory!)/local.sock", server: ipc, wait: 5_000))
    }

    func testKeyFilesArePrivateAndEveryProblemIsOneClearError() throws {
        let path = directory + "/keys"
        let keys = RunKeys(directory: path)
        try keys.create()
        for file in ["", "/members", "/authorized"] {
            XCTAssertEqual(try permissions(path + file), 0o700, file)
        }
        for file in ["/server.key", "/members/member.key", "/server.pub", "/authorized/member.pub"] {
            XCTAssertEqual(try permissions(path + file), 0o600, file)
        }
        XCTAssertThrowsError(try keys.create()) { XCTAssertTrue("\($0)".contains("members/member.key already exists"), "\($0)") }
        XCTAssertThrowsError(try keys.create(member: "../escape")) { XCTAssertTrue("\($0)".contains("member name"), "\($0)") }

        chmod(path + "/server.key", 0o644)
        XCTAssertThrowsError(try keys.security()) { XCTAssertTrue("\($0)".contains("server.key is accessible to other users"), "\($0)") }
        chmod(path + "/server.key", 0o600)

        let memberKey = path + "/members/member.key"
        let original = try String(contentsOfFile: memberKey, encoding: .utf8)
        try AtomicFile.write(original.replacingOccurrences(of: "secret-key = \"", with: "secret-key = \"x"), to: memberKey)
        chmod(memberKey, 0o600)
        XCTAssertThrowsError(try keys.security()) { XCTAssertTrue("\($0)".contains("members/member.key"), "\($0)") }
        let other = RunKeys(directory: directory + "/other")
        try other.create()
        let foreignPair = try String(contentsOfFile: directory + "/other/members/member.key", encoding: .utf8)
        let mixed = original.components(separatedBy: "\n").filter { $0.hasPrefix("public-key") }
            + foreignPair.components(separatedBy: "\n").filter { $0.hasPrefix("secret-key") }
        try AtomicFile.write(mixed.joined(separator: "\n"), to: memberKey)
        chmod(memberKey, 0o600)
        XCTAssertThrowsError(try keys.security()) { XCTAssertTrue("\($0)".contains("does not belong to the secret key"), "\($0)") }
        XCTAssertThrowsError(try RunKeys(directory: directory + "/none").security()) {
            XCTAssertTrue("\($0)".contains("colony keys new"), "\($0)")
        }
    }

    private func permissions(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    /// `colony keys new`, `colony-coordinator --keys`, `colony status --keys`: keyed members register,
    /// an unkeyed one cannot even reach the coordinator, and a public address without keys is refused.
    func testCoordinatorExecutableAdmitsOnlyKeyedMembers() throws {
        let keysPath = directory + "/keys"
        let made = try run("colony", ["keys", "new", keysPath])
        XCTAssertEqual(made.status, 0, made.output)
        XCTAssertTrue(made.output.contains("server public key"), made.output)
        XCTAssertEqual(try run("colony", ["keys", "new", keysPath, "--member", "revoked"]).status, 0)
        try FileManager.default.removeItem(atPath: keysPath + "/authorized/revoked.pub")

        let open = try run("colony-coordinator", ["--bind", "tcp://0.0.0.0:0"])
        XCTAssertEqual(open.status, 1, open.output)
        XCTAssertTrue(open.output.contains("reachable from other machines") && open.output.contains("colony keys new"), open.output)

        let endpoint = try freeEndpoint()
        try start("colony-coordinator", ["--bind", endpoint, "--keys", keysPath, "--heartbeat-interval", "0.2"], log: directory + "/coordinator.log")
        let keyed = ZMQContext(security: try RunKeys(directory: keysPath).security())
        XCTAssertTrue(eventually(timeout: 10) {
            (try? CoordinatorRequest.status(coordinator: endpoint, context: keyed, timeout: .milliseconds(300))) != nil
        }, logTail("coordinator.log"))

        func member(_ name: String, _ context: ZMQContext) -> CoordinatorClient {
            let client = CoordinatorClient(configuration: .init(
                coordinator: endpoint, member: .thisProcess(role: .learner, name: name, endpoints: ["data": "tcp://127.0.0.1:1"]),
                heartbeatInterval: .milliseconds(200), stats: { MemberStats() }, logger: .silent()), context: context)
            client.start()
            return client
        }
        let forger = member("learner-forged", ZMQContext(security: nil))
        defer { forger.stop() }
        let revoked = member("learner-revoked", ZMQContext(security: try RunKeys(directory: keysPath).security(member: "revoked")))
        defer { revoked.stop() }
        let learner = member("learner-real", keyed)
        defer { learner.stop() }
        XCTAssertTrue(eventually(timeout: 10) { learner.isRegistered }, logTail("coordinator.log"))
        Thread.sleep(forTimeInterval: 1)
        XCTAssertFalse(forger.isRegistered, "an unkeyed member registered")
        XCTAssertFalse(revoked.isRegistered, "a member whose key is not authorized registered")
        XCTAssertTrue(eventually(timeout: 5) {
            ((try? String(contentsOfFile: self.directory + "/coordinator.log", encoding: .utf8)) ?? "").contains("CURVE connection(s) whose key this run does not authorize")
        }, "the refusal was not logged" + logTail("coordinator.log"))
        XCTAssertTrue(eventually(timeout: 5) {
            ((try? String(contentsOfFile: self.directory + "/coordinator.log", encoding: .utf8)) ?? "").contains("connection(s) without this run's keys")
        }, "the unkeyed connection was not logged" + logTail("coordinator.log"))

        let table = try run("colony", ["status", "--coordinator", endpoint, "--keys", keysPath])
        XCTAssertEqual(table.status, 0, table.output)
        XCTAssertTrue(table.output.contains("learner-real") && !table.output.contains("learner-forged"), table.output)
        let unkeyed = try run("colony", ["status", "--coordinator", endpoint, "--timeout", "0.5"])
        XCTAssertEqual(unkeyed.status, 1, unkeyed.output)
        XCTAssertTrue(unkeyed.output.contains("no coordinator answered"), unkeyed.output)
    }

    /// `colony cluster up` without `--keys` makes the run's own keys (owner-only, in the run directory):
    /// every process of an IMPALA run talks CURVE and the run trains through the parameter-socket
    /// attack; a worker started without the keys never attaches.
    func testClusterMakesItsOwnKeysTrainsAndAnUnkeyedWorkerCannotAttach() throws {
        let keysPath = directory + "/runs/impala/CartPole-v1/seed-5/keys"
        let coordinator = try freeEndpoint()
        let path = directory + "/impala.toml"
        try AtomicFile.write("""
            algorithm = "impala"
            env = "CartPole-v1"
            frames = 1000000000
            seed = 5
            runs_dir = "\(directory!)/runs"

            [cluster]
            coordinator = "\(coordinator)"
            host = "127.0.0.1"
            workers = 1
            envs_per_worker = 8

            [agent]
            unroll_length = 20
            """, to: path)
        let cluster = try start("colony", ["cluster", "up", path], log: directory + "/cluster.log")
        XCTAssertTrue(eventually(timeout: 30) { FileManager.default.fileExists(atPath: keysPath + "/authorized/member.pub") }, logTail("cluster.log"))
        for (file, mode) in [("", 0o700), ("/members", 0o700), ("/server.key", 0o600), ("/members/member.key", 0o600)] {
            let permissions = try FileManager.default.attributesOfItem(atPath: keysPath + file)[.posixPermissions] as? Int
            XCTAssertEqual(permissions, mode, "\(keysPath + file) is \(String(permissions ?? 0, radix: 8))")
        }
        XCTAssertTrue(eventually(timeout: 10) { self.logTail("cluster.log").contains("keys: \(keysPath)") }, logTail("cluster.log"))
        let keyed = ZMQContext(security: try RunKeys(directory: keysPath).security())
        // The parameter-socket attack of issue 14 (thousands of random subscriptions, short raw TCP connections
        // with random bytes), without keys: no handshake completes, so the learner never sees it and keeps learning.
        func learner() -> ClusterStatus.Member? {
            (try? CoordinatorRequest.status(coordinator: coordinator, context: keyed, timeout: .seconds(2)))?.members.first { $0.role == .learner }
        }
        // Members register in any order: wait until a worker is listed and the learner has taken frames.
        XCTAssertTrue(eventually(timeout: 60) {
            let status = try? CoordinatorRequest.status(coordinator: coordinator, context: keyed, timeout: .milliseconds(500))
            return (status?.members.contains { $0.role == .worker } ?? false)
                && (status?.members.contains { $0.role == .learner && ($0.stats.extra["frames"] ?? 0) > 0 } ?? false)
        }, logTail("cluster.log"))
        let parameters = try XCTUnwrap(learner()?.endpoints["parameters"])
        let framesBefore = learner()?.stats.extra["frames"] ?? 0
        try attackSubscriptions(parameters, subscriptions: 5_000, rawConnections: 300)
        XCTAssertTrue(eventually(timeout: 15) { (learner()?.stats.extra["frames"] ?? 0) > framesBefore + 20_000 },
                      "the learner's frame count stopped rising after the subscription attack" + logTail("cluster.log"))
        let intruder = try start("colony-worker", ["--config", path, "--index", "7"], log: directory + "/intruder.log")
        defer { if intruder.isRunning { kill(intruder.processIdentifier, SIGKILL) } }
        Thread.sleep(forTimeInterval: 3)
        XCTAssertTrue(cluster.isRunning && intruder.isRunning, "the run ended before the intruder could try" + logTail("intruder.log") + logTail("cluster.log", characters: 4000))
        let afterIntruder = try CoordinatorRequest.status(coordinator: coordinator, context: keyed, timeout: .seconds(2))
        let workers = afterIntruder.members.filter { $0.role == .worker }
        XCTAssertEqual(workers.count, 1, "workers \(workers.map(\.name)), dropped \(afterIntruder.droppedMembers.map(\.name))"
                       + logTail("cluster.log", characters: 6000))
        // The budget is out of reach (CartPole runs at hundreds of thousands of frames/s, so a small one
        // could end the run while the intruder tries): the test ends the run itself, as Ctrl-C would.
        kill(cluster.processIdentifier, SIGINT)
        cluster.waitUntilExit()
        XCTAssertEqual(cluster.terminationStatus, 0, logTail("cluster.log", characters: 4000))
        let rows = try ReturnsCSV.read("\(directory!)/runs/impala/CartPole-v1/seed-5/returns100.csv")
        XCTAssertFalse(rows.isEmpty)
        let log = (try? String(contentsOfFile: directory + "/cluster.log", encoding: .utf8)) ?? ""
        XCTAssertFalse(log.contains("registered worker worker-7"), "the unkeyed worker attached")
        let intruderLog = (try? String(contentsOfFile: directory + "/intruder.log", encoding: .utf8)) ?? ""
        XCTAssertFalse(intruderLog.contains("registered with"), intruderLog)
    }

    /// An unkeyed SUB setting thousands of random subscriptions, then raw TCP connections that
    /// send random bytes and close, all to `endpoint` (tcp://HOST:PORT).
    private func attackSubscriptions(_ endpoint: String, subscriptions: Int, rawConnections: Int) throws {
        var rng = RandomSource(seed: 14)
        let subscriber = try ZMQSocket(ZMQContext(security: nil), .sub)
        defer { subscriber.close() }
        try subscriber.connect(endpoint)
        for _ in 0..<subscriptions {
            let prefix = (0..<rng.nextInt(below: 65)).map { _ in UInt8(rng.nextInt(below: 256)) }
            try subscriber.subscribe(prefix)
        }
        let address = endpoint.dropFirst("tcp://".count).split(separator: ":")
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(address[1])!).bigEndian
        inet_pton(AF_INET, String(address[0]), &target.sin_addr)
        for _ in 0..<rawConnections {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            let connected = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected == 0 {
                let garbage = (0..<(1 + rng.nextInt(below: 512))).map { _ in UInt8(rng.nextInt(below: 256)) }
                _ = garbage.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(fd)
        }
    }
}
