import ColonyEnvironments
import ColonyNumerics
import Foundation

/// Issue 11's host overhead: env steps/s of Gymnasium environments stepped by Colony through one
/// environment host (`RemoteVectorEnvironment`, `env.hosts = 1`) over ipc and tcp, against the same
/// environments stepped one after another in one Python process (Benchmarks/reference/envhost_python_steps.py),
/// measured in the same run. Goal: Pong through the host ≥ 95% of Python's own steps/s per core, since
/// one host is one Python process on one core; for CartPole the table states the µs each step costs.
///
/// Each round measures every case once, the reference just before Colony's cases of the same size,
/// so that both sides see the same machine; a case reports its best round (as `timeit` does), since
/// other work on the machine only ever slows a round down. Besides wall-clock steps/s, each side's
/// steps per CPU second of the process that steps the environments (the host; Python itself) gives
/// the per-core rate, which other load on the machine disturbs far less.
struct EnvironmentHostBenchmarks {
    /// Gymnasium ids with the registration's defaults (ALE/Pong-v5: frameskip 4, raw 210×160×3 uint8).
    var environments = ["CartPole-v1", "ALE/Pong-v5"]
    var counts = [1, 8, 32]
    var transports: [EnvironmentSettings.HostTransport] = [.ipc, .tcp]
    /// Measured window and the warm-up stepped before it, per case and round.
    var seconds = 3.0
    var warmup = 0.5
    var rounds = 3
    /// The host's interpreter (nil: `PythonInterpreter.resolve`, as `colony train` finds it).
    var hostPython: String?
    /// The reference's interpreter (nil: the host's).
    var referencePython: String?

    /// Pong's goal: the host keeps this share of Python's in-process steps/s per core.
    static let pongGoal = 0.95

    /// One round's figures for one side of one case.
    struct Rates {
        var wall: Double
        /// Steps per CPU second of the process that steps the environments (nil: not readable).
        var perCore: Double?
        /// CPU seconds of the Colony process per step (client side only).
        var clientCPUPerStep: Double?
    }

    struct Case {
        var environment: String
        var count: Int
        var transport: EnvironmentSettings.HostTransport
        /// Whether the host writes uint8 frames into shared memory (false: they travel in the reply).
        var sharedMemory: Bool
        var colony: Rates?
        var python: Rates?
        /// Gymnasium's SyncVectorEnv (same-step autoreset) of the same environments in one process.
        var vector: Rates?
    }

    func run() throws {
        let probe = hostSettings(id: environments.first ?? "CartPole-v1", transport: .ipc)
        let hostInterpreter = PythonInterpreter.resolve(probe)
        let reference = ReferenceScript(python: resolveExecutable(referencePython ?? hostInterpreter))
        var cases: [Case] = []
        for environment in environments {
            // Frames (uint8 observations) run with and without shared memory; other observations always travel in the reply.
            var frames = false
            if case .box(let box)? = (try? VectorEnvironments.describe(hostSettings(id: environment, transport: .ipc)))?.observationSpace {
                frames = box.elementType == .uint8
            }
            for count in counts {
                for transport in transports {
                    for shared in frames ? [true, false] : [false] {
                        cases.append(Case(environment: environment, count: count, transport: transport, sharedMemory: shared))
                    }
                }
            }
        }
        var notes = ["host and reference: \(hostInterpreter)\(referencePython.map { $0 == hostInterpreter ? "" : " (reference: \($0))" } ?? ""); "
                     + "best of \(rounds) rounds of \(format(warmup)) s warm-up and \(format(seconds)) s counted per case; one host per vector; "
                     + "at the start: " + machineLoadNote()]
        for _ in 0..<rounds {
            for environment in environments {
                for count in counts {
                    let python = reference.run(repositoryRoot + "/Benchmarks/reference/envhost_python_steps.py", arguments: [
                        "--env", environment, "--counts", String(count), "--seconds", String(seconds), "--warmup", String(warmup)])
                    notes += python.notes
                    let pythonRates = python.values["steps_per_second_\(count)"].map {
                        Rates(wall: $0, perCore: python.values["steps_per_cpu_second_\(count)"])
                    }
                    let vectorRates = python.values["vector_steps_per_second_\(count)"].map {
                        Rates(wall: $0, perCore: python.values["vector_steps_per_cpu_second_\(count)"])
                    }
                    for index in cases.indices where cases[index].environment == environment && cases[index].count == count {
                        cases[index].python = Self.best(cases[index].python, pythonRates)
                        cases[index].vector = Self.best(cases[index].vector, vectorRates)
                        do {
                            let rates = try throughHost(environment, count: count, transport: cases[index].transport, sharedMemory: cases[index].sharedMemory)
                            cases[index].colony = Self.best(cases[index].colony, rates)
                        } catch {
                            notes.append("\(environment) × \(count) over \(cases[index].transport.rawValue) could not run: \(error)")
                        }
                    }
                }
            }
        }
        notes.append("at the end: " + machineLoadNote())
        var printed = Set<String>()
        printCases(cases, notes: notes.filter { printed.insert($0).inserted })
    }

    /// The better of two rounds, each figure on its own.
    private static func best(_ a: Rates?, _ b: Rates?) -> Rates? {
        guard let a else { return b }
        guard let b else { return a }
        func high(_ x: Double?, _ y: Double?) -> Double? { x.map { x in y.map { max(x, $0) } ?? x } ?? y }
        func low(_ x: Double?, _ y: Double?) -> Double? { x.map { x in y.map { min(x, $0) } ?? x } ?? y }
        return Rates(wall: max(a.wall, b.wall), perCore: high(a.perCore, b.perCore), clientCPUPerStep: low(a.clientCPUPerStep, b.clientCPUPerStep))
    }

    private func hostSettings(id: String, transport: EnvironmentSettings.HostTransport, sharedMemory: Bool = true) -> EnvironmentSettings {
        var settings = EnvironmentSettings(id: "gym:" + id)
        settings.hosts = 1
        settings.transport = transport
        settings.sharedMemory = sharedMemory
        settings.python = hostPython
        return settings
    }

    /// A bare name (`python3`) as the absolute path `ReferenceScript` needs, found on the PATH.
    private func resolveExecutable(_ python: String) -> String {
        if python.contains("/") { return python }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(python)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return python
    }

    /// Env steps/s through one host with random valid actions, per wall-clock and per host CPU second.
    private func throughHost(_ environment: String, count: Int, transport: EnvironmentSettings.HostTransport, sharedMemory: Bool) throws -> Rates {
        let vector = try VectorEnvironments.make(hostSettings(id: environment, transport: transport, sharedMemory: sharedMemory), count: count, seed: 0)
        if sharedMemory, (vector as? RemoteVectorEnvironment)?.sharesObservations != true {
            throw EnvironmentHostBenchError("the host did not share its frames (no writable /dev/shm?)")
        }
        guard case .discrete(let actionCount) = vector.actionSpace else {
            throw EnvironmentHostBenchError("\(environment) has a \(vector.actionSpace) action space; this benchmark steps discrete ones")
        }
        var rng = RandomSource(seed: 7)
        let batches = (0..<256).map { _ in (0..<count).map { _ in rng.nextInt(below: actionCount) } }
        let hostPID = (vector as? RemoteVectorEnvironment)?.hostProcessIDs.first
        var step = 0
        let warmupEnd = DispatchTime.now().uptimeNanoseconds + UInt64(warmup * 1e9)
        while DispatchTime.now().uptimeNanoseconds < warmupEnd {
            try vector.step(discrete: batches[step & 255])
            step &+= 1
        }
        let clientStart = processCPUSeconds(), hostStart = hostPID.flatMap(childCPUSeconds)
        let start = DispatchTime.now().uptimeNanoseconds
        var counted = 0
        var elapsed = 0.0
        repeat {
            try vector.step(discrete: batches[step & 255])
            step &+= 1
            counted += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        let steps = Double(counted * count)
        let hostCPU = hostStart.flatMap { before in hostPID.flatMap(childCPUSeconds).map { $0 - before } }
        return Rates(wall: steps / elapsed, perCore: hostCPU.flatMap { $0 > 0 ? steps / $0 : nil },
                     clientCPUPerStep: (processCPUSeconds() - clientStart) / steps)
    }

    private func printCases(_ cases: [Case], notes: [String]) {
        print("\n## Environment host: env steps/s through one host vs the same environments in one Python process (random actions, same-step autoreset)\n")
        print("| env | envs/host | transport | observations | Colony through host | Python in-process | ratio | added per env step | added per request "
              + "| Colony per host core | Python per core | ratio per core | goal | SyncVectorEnv per core | ratio per core to SyncVectorEnv "
              + "| Colony client CPU per env step |")
        print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in cases {
            let isPong = row.environment.contains("Pong")
            func ratio(_ colony: Double?, _ python: Double?, judged: Bool = true) -> String {
                guard let colony, let python else { return "n/a" }
                let text = String(format: "%.1f%%", 100 * colony / python)
                return isPong && judged ? text + (colony / python >= Self.pongGoal ? " ✓" : " ✗") : text
            }
            var perStep = "n/a", perRequest = "n/a"
            if let c = row.colony?.wall, let p = row.python?.wall {
                let added = (1 / c - 1 / p) * 1e6
                perStep = String(format: "%.0f µs", added)
                perRequest = String(format: "%.0f µs", added * Double(row.count))
            }
            let rate = { (value: Double?) in value.map { format($0) } ?? "not run" }
            let client = row.colony?.clientCPUPerStep.map { String(format: "%.0f µs", $0 * 1e6) } ?? "n/a"
            print("| \(row.environment) | \(row.count) | \(row.transport.rawValue) | \(row.sharedMemory ? "shared memory" : "in the reply") | \(rate(row.colony?.wall)) | \(rate(row.python?.wall)) | "
                  + "\(ratio(row.colony?.wall, row.python?.wall)) | \(perStep) | \(perRequest) | \(rate(row.colony?.perCore)) | \(rate(row.python?.perCore)) | "
                  + "\(ratio(row.colony?.perCore, row.python?.perCore)) | \(isPong ? String(format: "≥ %.0f%%", 100 * Self.pongGoal) : "") | "
                  + "\(rate(row.vector?.perCore)) | \(ratio(row.colony?.perCore, row.vector?.perCore, judged: false)) | \(client) |")
        }
        print("- steps/s count environment steps (a request steps every environment of the host once), best round each; added = 1/Colony − 1/Python (wall-clock); "
              + "per core = steps per CPU second of the process that steps the environments (the host; the Python process); "
              + "Python = a bare loop that keeps no observation, the goal's reference; SyncVectorEnv = Gymnasium's own vector of the same "
              + "environments with same-step autoreset, which gathers each step's observations into a batch as the host does; "
              + "client CPU = CPU time of the Colony process (send, receive, decode) per env step, on another core than the host's")
        for note in notes { print("- note: \(note)") }
    }
}

struct EnvironmentHostBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// User plus system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// User plus system CPU seconds of another process so far, from /proc/<pid>/stat (Linux); nil elsewhere.
func childCPUSeconds(_ pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    // Fields after "(comm)": state is field 3, utime 14 and stime 15.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
