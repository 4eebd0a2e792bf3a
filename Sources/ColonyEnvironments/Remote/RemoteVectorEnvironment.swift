import ColonyNumerics
import ColonyTransport
import Foundation

/// A `VectorEnvironment` of Gymnasium environments served by Python environment hosts
/// (docs/envhost.md): K host processes (one per core by default, as the GIL suggests) each serve a
/// contiguous slice of the N environments. A step sends every host its actions before waiting for
/// any, so the hosts step side by side; `beginStep` returns right after sending, so that a caller
/// can act on another vector's observations while these hosts step (a worker's double buffering).
/// Same-step autoreset, final observations and episode records behave exactly as
/// `LocalVectorEnvironment`'s.
///
/// A host that crashes, hangs or raises is restarted up to `max_restarts` times: its environments'
/// unfinished episodes are cut — reported as truncated at their last good observation with reward 0,
/// counted in `interruptedEpisodes` and never recorded as episodes — and start afresh. Past the
/// bound, or for a failure no restart can mend (a bad id, a missing interpreter), `step` throws an
/// `EnvironmentHostError`. A remote environment cannot be snapshotted. One owner, not thread-safe:
/// the hosts' sockets belong to the thread that uses the vector.
public final class RemoteVectorEnvironment: VectorEnvironment {
    public let id: String
    public let count: Int
    public let observationSpace: Space
    public let actionSpace: Space
    public let observationCount: Int
    /// The Gymnasium version and layout the hosts reported.
    public let gymnasiumVersion: String
    /// Where each leaf of a flattened Dict or Tuple observation sits in a row (empty otherwise).
    public let observationLayout: [ObservationLeaf]
    /// The leaves of a Dict or Tuple observation the host left out because they are not numeric
    /// (a MiniGrid `mission` text, say).
    public let droppedObservationLeaves: [String]
    /// The whitelisted info entries, `count × infoKeys.count` row-major, NaN where absent.
    public private(set) var info: [Double]
    public let infoKeys: [String]
    /// Host restarts so far, and the unfinished episodes they cut.
    public private(set) var restarts = 0
    public private(set) var interruptedEpisodes = 0
    /// The environments cut by a restart in the last step (reported as truncated).
    public private(set) var interruptedIndices: [Int] = []
    /// The time limit the Gymnasium registration (or `max_episode_steps`) applies; nil for none.
    public let maxEpisodeSteps: Int?
    /// Frames after which the simulator truncates an episode itself (ALE's `max_num_frames_per_episode`); nil for none.
    public let episodeFrameLimit: Int?
    public let rewardThreshold: Double?
    /// What `render()` can return (`env.metadata["render_modes"]`).
    public let renderModes: [String]
    /// The pids of the running hosts.
    public var hostProcessIDs: [Int32] { hosts.compactMap(\.pid) }
    /// Whether every host writes its step observations into shared memory (uint8 frames, `env.shared_memory`).
    public var sharesObservations: Bool { shared.allSatisfy { $0 != nil } }

    public var observations: [Float] { buffers.observations }
    public var rewards: [Double] { buffers.rewards }
    public var terminated: [Bool] { buffers.terminated }
    public var truncated: [Bool] { buffers.truncated }
    public var finalObservations: [[Float]?] { buffers.finalObservations }
    public var completedEpisodes: [EpisodeRecord] { buffers.completedEpisodes }

    public struct ObservationLeaf: Sendable, Equatable {
        public var path: String
        public var offset: Int
        public var shape: [Int]
        public var dtype: String
    }

    private var buffers = VectorStepBuffers()
    /// The requests of a step `beginStep` sent and `finishStep` has not collected (nil where the
    /// send failed), and the failed sends.
    private var pending: [UInt64?]?
    private var sendFailures: [(Int, EnvironmentHostError)] = []
    private let hosts: [EnvironmentHostProcess]
    /// Each host's shared-memory step observations, where it writes them there (uint8 frames; nil: on the wire).
    private var shared: [SharedObservations?] = []
    /// First environment index of each host's slice.
    private let offsets: [Int]
    private let observation: HostSpace
    private let action: HostSpace
    private let settings: EnvironmentSettings
    // Hosts are this process's own children on ipc:// or loopback: the run's CURVE keys do not apply to them.
    private let context = ZMQContext(security: nil)
    private let directory: String
    /// Seeds for hosts restarted mid-run, so fresh episodes differ from the first ones.
    private var restartSeeds: RandomSource

    /// Starts the hosts for `count` environments of `settings.id` (`gym:` prefix optional) and
    /// resets them from `seed`. Throws `EnvironmentHostError` naming what went wrong.
    public init(_ settings: EnvironmentSettings, count: Int, seed: UInt64, renderMode: String? = nil) throws {
        precondition(count > 0, "a vector environment needs at least one environment")
        self.settings = settings
        self.id = settings.id
        self.count = count
        restartSeeds = RandomSource(seed: seed ^ 0x5EED_0F_4E57A27)
        let template = FileManager.default.temporaryDirectory.path + "/colony-envhost-XXXXXX"
        var path = Array(template.utf8CString)
        guard mkdtemp(&path) != nil else { throw EnvironmentHostError(.couldNotStart(python: "python", status: "no temporary directory"), environment: settings.id, pid: nil, detail: "mkdtemp failed with errno \(errno)") }
        directory = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)

        let hostCount = max(1, min(settings.hosts ?? ProcessInfo.processInfo.activeProcessorCount, count))
        // Segment names carry this process's id and the private directory's random suffix.
        let suffix = directory.split(separator: "-").last.map(String.init) ?? ""
        let segmentPrefix = settings.sharedMemory ? SharedObservations.directory.map { "\($0)/colony-envhost-\(getpid())-\(suffix)" } : nil
        let python = PythonInterpreter.resolve(settings)
        var hosts: [EnvironmentHostProcess] = []
        var offsets: [Int] = []
        var first = 0
        for k in 0..<hostCount {
            let slice = count / hostCount + (k < count % hostCount ? 1 : 0)
            let configuration = EnvironmentHostProcess.Configuration(
                id: Self.gymnasiumID(settings.id), count: slice, kwargs: settings.kwargs, wrappers: settings.wrappers,
                infoKeys: settings.infoKeys, renderMode: renderMode, firstIndex: first, sharedObservations: segmentPrefix.map { "\($0)-\(k)" })
            hosts.append(EnvironmentHostProcess(
                environment: settings.id, configuration: configuration, python: python, timeoutSeconds: settings.stepTimeoutSeconds,
                transport: settings.transport, context: context, directory: directory, name: "host-\(k)"))
            offsets.append(first)
            first += slice
        }
        self.hosts = hosts
        self.offsets = offsets

        let specs: [EnvironmentHostSpec]
        do {
            let requests = try hosts.map { try $0.launch() }
            specs = try zip(hosts, requests).map { try $0.awaitSpec($1) }
            let spec = specs[0]
            do {
                observation = try HostSpace(spec.observationSpace, role: "observation")
                action = try HostSpace(spec.actionSpace, role: "action")
            } catch {
                throw EnvironmentHostError(.makeFailed, environment: settings.id, pid: spec.pid, detail: error.description)
            }
        } catch {
            Self.abandon(hosts, directory: directory)
            throw error
        }
        observationSpace = observation.space
        actionSpace = action.space
        observationCount = observation.space.elementCount
        gymnasiumVersion = specs[0].gymnasiumVersion
        maxEpisodeSteps = specs[0].maxEpisodeSteps
        episodeFrameLimit = specs[0].episodeFrameLimit
        rewardThreshold = specs[0].rewardThreshold
        renderModes = specs[0].renderModes ?? []
        observationLayout = (specs[0].observationLayout ?? []).map { ObservationLeaf(path: $0.path, offset: $0.offset, shape: $0.shape, dtype: $0.dtype) }
        droppedObservationLeaves = specs[0].droppedLeaves ?? []
        infoKeys = settings.infoKeys
        info = [Double](repeating: .nan, count: count * settings.infoKeys.count)
        buffers = VectorStepBuffers(count: count, observationCount: observationCount)
        shared = [SharedObservations?](repeating: nil, count: hosts.count)
        do {
            for (k, spec) in specs.enumerated() { try attach(k, spec) }
        } catch {
            Self.abandon(hosts, directory: directory)
            throw error
        }
        try reset(seed: seed)
    }

    deinit {
        for host in hosts {
            host.close()
            if let path = host.configuration.sharedObservations { unlink(path) }  // a host that died before it was mapped
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Kills the hosts of a vector that could not start, and removes what they left (segments, the directory).
    private static func abandon(_ hosts: [EnvironmentHostProcess], directory: String) {
        for host in hosts {
            host.terminate()
            if let path = host.configuration.sharedObservations { unlink(path) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Maps host `k`'s shared observations when its spec says it writes them (only uint8 observations are shared),
    /// and installs the reply schemas that go with it.
    private func attach(_ k: Int, _ spec: EnvironmentHostSpec) throws {
        let host = hosts[k], n = host.configuration.count
        shared[k] = nil
        if let path = spec.sharedObservations {
            guard path == host.configuration.sharedObservations, observation.wireType == .uint8 else {
                throw EnvironmentHostError(.protocolViolation, environment: id, pid: spec.pid,
                                           detail: "it shares observations at \(path), not where it was asked to, or they are not uint8")
            }
            do {
                shared[k] = try SharedObservations(path: path, byteCount: n * observationCount)
            } catch {
                throw EnvironmentHostError(.protocolViolation, environment: id, pid: spec.pid, detail: "its shared observations: \(error)")
            }
        }
        host.setReplyLimits(replyLimits(environments: n, sharedObservations: shared[k] != nil))
    }

    /// `gym:ALE/Pong-v5` → `ALE/Pong-v5`.
    static func gymnasiumID(_ id: String) -> String {
        id.hasPrefix(GymnasiumEnvironmentSource.prefix) ? String(id.dropFirst(GymnasiumEnvironmentSource.prefix.count)) : id
    }

    // MARK: Reset and step

    /// Resets every environment. A seed gives environment `i` the first number of the `i`-th
    /// `split()` of `RandomSource(seed:)` as its Gymnasium seed; nil continues each one's own stream.
    public func reset(seed: UInt64?) throws {
        // A step still pending is abandoned: its replies are older than the reset's and skipped.
        pending = nil
        sendFailures = []
        var seeds: [UInt64]?
        if let seed {
            var root = RandomSource(seed: seed)
            seeds = root.split(count: count).map { stream in
                var stream = stream
                return stream.next()
            }
        }
        var fresh = VectorStepBuffers(count: count, observationCount: observationCount)
        var failure: (Int, EnvironmentHostError)?
        let requests = try hosts.indices.map { k in
            try hosts[k].send(.envReset, tensors: seeds.map { [Self.seedTensor(Array($0[offsets[k]..<(offsets[k] + hosts[k].configuration.count)]))] } ?? [])
        }
        for k in hosts.indices {
            do {
                let reply = try hosts[k].awaitReply(to: requests[k], expecting: .envObservations)
                try copyObservations(reply.tensors[0], into: &fresh.observations, from: offsets[k])
            } catch let error as EnvironmentHostError {
                if failure == nil { failure = (k, error) }
            }
        }
        buffers = fresh
        if let (k, error) = failure {
            try restart(k, after: error, cutting: false)
        }
    }

    public func step(_ actions: [Action]) throws {
        try beginStep(actions)
        try finishStep()
    }

    /// Sends every host its slice's actions and returns without waiting: the hosts step while the
    /// caller works (on another vector's observations, say) until `finishStep()`.
    public func beginStep(_ actions: [Action]) throws {
        precondition(actions.count == count, "expected \(count) actions, got \(actions.count)")
        for (i, action) in actions.enumerated() where !actionSpace.accepts(action) {
            throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: action, space: actionSpace)
        }
        sendStep { first, n in
            switch self.actionSpace {
            case .discrete:
                return WireTensor(of: Int64.self, shape: [n]) { out in
                    for j in 0..<n { if case .discrete(let a) = actions[first + j] { out[j] = Int64(a) } }
                }
            case .box:
                let width = self.actionSpace.elementCount
                return WireTensor(of: Float.self, shape: [n] + self.actionSpace.shape) { out in
                    for j in 0..<n { if case .continuous(let v) = actions[first + j] { for e in 0..<width { out[j * width + e] = v[e] } } }
                }
            case .multiDiscrete(let counts):
                return WireTensor(of: Int64.self, shape: [n, counts.count]) { out in
                    for j in 0..<n { if case .continuous(let v) = actions[first + j] { for e in 0..<counts.count { out[j * counts.count + e] = Int64(v[e]) } } }
                }
            }
        }
    }

    public func step(discrete actions: [Int]) throws {
        precondition(actions.count == count, "expected \(count) actions, got \(actions.count)")
        guard case .discrete(let n) = actionSpace else {
            throw EnvironmentError.invalidAction(environment: id, action: .discrete(actions.first ?? 0), space: actionSpace)
        }
        for (i, action) in actions.enumerated() where action < 0 || action >= n {
            throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: .discrete(action), space: actionSpace)
        }
        sendStep { first, n in
            WireTensor(of: Int64.self, shape: [n]) { out in for j in 0..<n { out[j] = Int64(actions[first + j]) } }
        }
        try finishStep()
    }

    public func step(continuous actions: [Float]) throws {
        let width = actionSpace.elementCount
        precondition(actions.count == count * width, "expected \(count * width) action values, got \(actions.count)")
        for i in 0..<count {
            let action = Action.continuous(Array(actions[(i * width)..<((i + 1) * width)]))
            if !actionSpace.accepts(action) { throw EnvironmentError.invalidAction(environment: "\(id)[\(i)]", action: action, space: actionSpace) }
        }
        sendStep { first, n in
            if case .multiDiscrete = self.actionSpace {
                return WireTensor(of: Int64.self, shape: [n, width]) { out in for e in 0..<(n * width) { out[e] = Int64(actions[first * width + e]) } }
            }
            return WireTensor(of: Float.self, shape: [n] + self.actionSpace.shape) { out in
                for e in 0..<(n * width) { out[e] = actions[first * width + e] }
            }
        }
        try finishStep()
    }

    /// Sends every host its slice's actions; a host whose send fails is restarted in `finishStep`.
    private func sendStep(_ actionTensor: (_ first: Int, _ count: Int) -> WireTensor) {
        precondition(pending == nil, "beginStep while a step is pending: call finishStep() first")
        var requests = [UInt64?](repeating: nil, count: hosts.count)
        for k in hosts.indices {
            do {
                requests[k] = try hosts[k].send(.envStep, tensors: [actionTensor(offsets[k], hosts[k].configuration.count)])
            } catch {
                sendFailures.append((k, error as? EnvironmentHostError
                    ?? EnvironmentHostError(.protocolViolation, environment: id, pid: hosts[k].pid, detail: "could not send: \(error)")))
            }
        }
        pending = requests
    }

    /// Collects every host's reply to the pending step; a failed host is restarted after the
    /// others' results are in. Without a pending step, nothing happens.
    public func finishStep() throws {
        guard let requests = pending else { return }
        pending = nil
        var failures = sendFailures
        sendFailures = []
        var b = VectorStepBuffers()
        swap(&b, &buffers)
        do {
            for i in b.finishedIndices { b.finalObservations[i] = nil }
            b.finishedIndices.removeAll(keepingCapacity: true)
            b.completedEpisodes.removeAll(keepingCapacity: true)
            interruptedIndices.removeAll(keepingCapacity: true)
            for k in hosts.indices {
                guard let request = requests[k] else { continue }
                do {
                    let reply = try hosts[k].awaitReply(to: request, expecting: .envStepResult)
                    try apply(reply, host: k, to: &b)
                } catch let error as EnvironmentHostError {
                    failures.append((k, error))
                }
            }
            b.completedEpisodes.sort { $0.environmentIndex < $1.environmentIndex }
        } catch {
            swap(&b, &buffers)
            throw error
        }
        swap(&b, &buffers)
        for (k, error) in failures.sorted(by: { $0.0 < $1.0 }) {
            try restart(k, after: error, cutting: true)
        }
    }

    /// Writes one host's step result into the buffers, with the checks its schema cannot express.
    private func apply(_ reply: WireMessage, host k: Int, to b: inout VectorStepBuffers) throws {
        let first = offsets[k], n = hosts[k].configuration.count
        let t = reply.tensors
        // Shared observations are not in the reply: the tensors after them come one place earlier.
        let o: Int
        if let segment = shared[k] {
            o = 0
            let start = first * observationCount
            b.observations.withUnsafeMutableBufferPointer { rows in
                let frames = segment.bytes
                for e in 0..<(n * observationCount) { rows[start + e] = Float(frames[e]) }
            }
        } else {
            o = 1
            try copyObservations(t[0], into: &b.observations, from: first)
        }
        let rewards = try t[o].doubles(), terminated = try t[o + 1].uint8s(), truncated = try t[o + 2].uint8s()
        let finals = try t[o + 3].int64s()
        let infoWidth = infoKeys.count
        if infoWidth > 0 {
            let values = try t[o + 5].doubles()
            for e in 0..<(n * infoWidth) { info[first * infoWidth + e] = values[e] }
        }
        let finished = (0..<n).filter { terminated[$0] != 0 || truncated[$0] != 0 }
        guard finals.map({ Int($0) }) == finished else {
            throw EnvironmentHostError(.protocolViolation, environment: id, pid: hosts[k].pid,
                                       detail: "final observations for \(finals) but the finished environments are \(finished)")
        }
        var finalRows: [Float] = []
        if !finished.isEmpty { try Self.convert(t[o + 4], count: finished.count * observationCount, start: observation.discreteStart, into: &finalRows) }
        for j in 0..<n {
            let i = first + j
            b.rewards[i] = rewards[j]
            b.terminated[i] = terminated[j] != 0
            b.truncated[i] = truncated[j] != 0
            b.episodeReturns[i] += rewards[j]
            b.episodeLengths[i] += 1
        }
        for (row, j) in finished.enumerated() {
            let i = first + j
            b.finalObservations[i] = Array(finalRows[(row * observationCount)..<((row + 1) * observationCount)])
            b.finishedIndices.append(i)
            b.completedEpisodes.append(EpisodeRecord(environmentIndex: i, episodeReturn: b.episodeReturns[i], length: b.episodeLengths[i], terminated: b.terminated[i]))
            b.episodeReturns[i] = 0
            b.episodeLengths[i] = 0
        }
    }

    /// Replaces host `k` after `error`, or throws when no restart can help. With `cutting`, its
    /// environments' unfinished episodes end as truncated at their last observation.
    private func restart(_ k: Int, after error: EnvironmentHostError, cutting: Bool) throws {
        guard error.isRestartable else { throw error }
        guard restarts < settings.maximumRestarts else {
            throw EnvironmentHostError(.tooManyRestarts(restarts: restarts), environment: id, pid: error.pid, detail: error.headline, traceback: error.traceback)
        }
        restarts += 1
        FileHandle.standardError.write(Data("colony: restarting the environment host (restart \(restarts) of at most \(settings.maximumRestarts)) after: \(error.headline)\n".utf8))
        let host = hosts[k]
        let first = offsets[k], n = host.configuration.count
        host.terminate()
        shared[k] = nil
        if let path = host.configuration.sharedObservations { unlink(path) }  // left by a host that died before it was mapped
        let spec = try host.start()
        guard (try? HostSpace(spec.observationSpace, role: "observation")) == observation, (try? HostSpace(spec.actionSpace, role: "action")) == action else {
            throw EnvironmentHostError(.protocolViolation, environment: id, pid: spec.pid, detail: "the restarted host reports other spaces")
        }
        try attach(k, spec)
        let seeds = (0..<n).map { _ in restartSeeds.next() }
        let reply = try host.request(.envReset, tensors: [Self.seedTensor(seeds)], expecting: .envObservations)
        let rowWidth = observationCount
        for j in 0..<n where cutting {
            let i = first + j
            buffers.finalObservations[i] = Array(buffers.observations[(i * rowWidth)..<((i + 1) * rowWidth)])
            buffers.finishedIndices.append(i)
            buffers.rewards[i] = 0
            buffers.terminated[i] = false
            buffers.truncated[i] = true
            interruptedIndices.append(i)
        }
        if cutting { interruptedEpisodes += n }
        for j in 0..<n {
            buffers.episodeReturns[first + j] = 0
            buffers.episodeLengths[first + j] = 0
        }
        let width = infoKeys.count
        for e in (first * width)..<((first + n) * width) { info[e] = .nan }
        try copyObservations(reply.tensors[0], into: &buffers.observations, from: first)
        interruptedIndices.sort()
    }

    // MARK: Rendering and snapshots

    /// A drawing of environment `index`: the host's text for `ansi` environments, a note of the
    /// frame's size for image ones (see `renderFrame`). Needs a vector made with a render mode.
    public func render(_ index: Int) -> String {
        switch try? renderFrame(index) {
        case .text(let text)?: return text
        case .image(let width, let height, _)?: return "[\(width)×\(height) RGB frame]"
        case nil: return "[\(id)[\(index)] cannot render: make the vector with a render mode]"
        }
    }

    /// What the host's `render()` returns for environment `index`.
    public func renderFrame(_ index: Int) throws -> RenderedFrame {
        precondition(index >= 0 && index < count, "no environment \(index)")
        precondition(pending == nil, "renderFrame while a step is pending: call finishStep() first")
        let k = offsets.lastIndex { $0 <= index }!
        let reply = try hosts[k].request(.envRender, tensors: [WireTensor([Int64(index - offsets[k])], shape: [1])], expecting: .envFrame)
        guard let frame = reply.tensors.first else { throw EnvironmentHostError(.protocolViolation, environment: id, pid: hosts[k].pid, detail: "an empty frame") }
        if frame.shape.count == 3, frame.shape[2] == 3, frame.dtype == .u8 {
            return .image(width: frame.shape[1], height: frame.shape[0], rgb: try frame.uint8s())
        }
        guard frame.shape.count == 1, frame.dtype == .u8, let text = frame.utf8String() else {
            throw EnvironmentHostError(.protocolViolation, environment: id, pid: hosts[k].pid, detail: "a frame of \(frame)")
        }
        return .text(text)
    }

    /// Python environments cannot be snapshotted: nil.
    public func snapshot() -> VectorEnvironmentSnapshot? { nil }

    public func restore(_ snapshot: VectorEnvironmentSnapshot) throws {
        throw EnvironmentError.notSnapshottable(environment: id)
    }

    // MARK: Wire helpers

    private static func seedTensor(_ seeds: [UInt64]) -> WireTensor {
        WireTensor(seeds.map { Int64(bitPattern: $0) }, shape: [seeds.count])
    }

    /// Writes a reply's observation rows into `rows` from row `first`, converting in one pass (an
    /// Atari batch is megabytes: no intermediate array).
    private func copyObservations(_ tensor: WireTensor, into rows: inout [Float], from first: Int) throws {
        let count = (tensor.shape.first ?? 0) * observationCount
        let start = first * observationCount, discreteStart = observation.discreteStart
        try rows.withUnsafeMutableBufferPointer { all in
            try Self.convert(tensor, count: count, start: discreteStart, into: UnsafeMutableBufferPointer(rebasing: all[start..<(start + count)]))
        }
    }

    /// Observation values of any wire type as floats; a Discrete observation loses its `start`.
    private static func convert(_ tensor: WireTensor, count: Int, start: Int, into values: inout [Float]) throws {
        values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { try convert(tensor, count: count, start: start, into: $0) }
    }

    private static func convert(_ tensor: WireTensor, count: Int, start: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        switch tensor.dtype {
        case .f32: try tensor.withValues(as: Float.self) { for e in 0..<count { out[e] = $0[e] } }
        case .u8: try tensor.withValues(as: UInt8.self) { for e in 0..<count { out[e] = Float($0[e]) } }
        case .i64: try tensor.withValues(as: Int64.self) { for e in 0..<count { out[e] = Float($0[e] - Int64(start)) } }
        default: break
        }
    }

    /// The reply schemas of a host serving `n` environments: every shape and dtype fixed by the
    /// spec, float observations and rewards finite, info free to hold NaN. With shared observations a
    /// step result leaves them out.
    private func replyLimits(environments n: Int, sharedObservations: Bool) -> WireLimits {
        let dtype: WireDType = switch observation.wireType {
        case .float32: .f32
        case .uint8: .u8
        case .int64: .i64
        }
        let shape = observationSpace.isDiscrete ? [] : observationSpace.shape.map { MessageSchema.Dimension.fixed($0) }
        var limits = EnvironmentHostProcess.specLimits
        limits.maximumTensors = 8
        limits.maximumRank = 8
        limits.acceptedTypes = [.envObservations, .envStepResult, .envError, .envFrame, .envClosed, .envSpec]
        limits.schemas[.envObservations] = MessageSchema(tensors: [.init("observations", dtype, [.fixed(n)] + shape, requireFinite: true)])
        limits.schemas[.envStepResult] = MessageSchema(tensors: (sharedObservations ? [] : [
            .init("observations", dtype, [.fixed(n)] + shape, requireFinite: true),
        ]) + [
            .init("rewards", .f64, [.fixed(n)], requireFinite: true),
            .init("terminated", .u8, [.fixed(n)]),
            .init("truncated", .u8, [.fixed(n)]),
            .init("final_indices", .i64, ["F"]),
            .init("final_observations", dtype, ["F"] + shape, requireFinite: true),
            .init("info", .f64, [.fixed(n), .fixed(infoKeys.count)], requireFinite: false),
        ], bounds: ["F": 0...n])
        return limits
    }
}
