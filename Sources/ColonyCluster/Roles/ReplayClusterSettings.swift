import Foundation
import ColonyAgents
import ColonyEnvironments
import ColonyExperiments
import ColonyStorage

/// What a replay-based cluster run (`apex_dqn`, `apex_sac`) adds to `ClusterSettings`: the replay
/// table that `colony-replay` serves, how workers insert and explore, how the learner publishes
/// and evaluates.
///
/// The table's defaults come from the agent's single-process configuration, so a cluster run keeps
/// the replay ratio that the algorithm was tuned with: capacity = `buffer_size`, sampling starts at
/// `learning_starts` items, and samples per insert = `batch_size · gradient_steps / train_freq`
/// (DQN's CartPole defaults: 64 · 128 / 256 = 32; SAC's: 256). The `[replay]` table overrides any of
/// them (`colony-replay --help` lists its keys).
public struct ReplayClusterSettings: Sendable {
    /// The table `colony-replay` serves for this run.
    public var table: ReplayTableConfiguration
    public var checkpointEverySeconds: Double?
    /// `<run directory>/replay.h5` unless `[replay] checkpoint_path` says otherwise.
    public var checkpointPath: String?
    /// Transitions per insert message (each worker batches this many before sending).
    public var transitionsPerInsert: Int
    /// Insert messages a worker may have unanswered (the replay server holds replies while its rate
    /// limiter blocks, so a slow learner slows the workers).
    public var insertWindow: Int
    /// Learner updates between parameter publications.
    public var publishEvery: Int
    /// Ape-X exploration: worker i of N acts ε-greedily with ε_i = ε^(1 + α·i/(N−1)).
    public var epsilon: Double
    public var epsilonAlpha: Double
    /// Frames between the learner's evaluations of its greedy policy (0: never).
    public var evaluationInterval: Int
    public var evaluationEpisodes: Int
    /// Layout of one item: observation | action | reward | next observation | discount.
    public var layout: TransitionLayout
    /// What `colony-replay` accepts in an item of this run (its action space, bounded rewards).
    public var itemBounds: ReplayItemBounds
    /// The largest sample request `colony-replay` serves: 4 × the agent's batch_size (the learner asks for one batch).
    public var maximumSampleBatch: Int

    /// The agent keys the table's configuration follows from (capacity, min_size, samples_per_insert): a table restored
    /// from a checkpoint must have the configuration it was written with, so they stay fixed while a table lives.
    public static let tableKeys: Set<String> = ["buffer_size", "learning_starts", "batch_size", "gradient_steps", "train_freq"]

    /// The `[cluster]` keys that only replay-based runs read.
    static let clusterKeys: Set<String> = ["transitions_per_insert", "insert_window", "publish_every", "epsilon", "epsilon_alpha", "eval_every", "eval_episodes"]

    init(document: TOMLDocument, source: String, algorithm: DistributedAlgorithm, environment: EnvironmentSettings, configuration: Configuration,
         runDirectory: RunDirectory, fail: (String) -> ConfigurationError) throws {
        func int(_ key: String, _ fallback: Int, range: ClosedRange<Int>) throws -> Int {
            switch document["cluster." + key] {
            case .int(let value)? where range.contains(value): return value
            case nil: return fallback
            case let other?: throw fail("[cluster] '\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), not \(other)")
            }
        }
        func double(_ key: String, _ fallback: Double, range: ClosedRange<Double>) throws -> Double {
            switch document["cluster." + key] {
            case .int(let value)? where range.contains(Double(value)): return Double(value)
            case .double(let value)? where range.contains(value): return value
            case nil: return fallback
            case let other?: throw fail("[cluster] '\(key)' must be a number in \(range.lowerBound)...\(range.upperBound), not \(other)")
            }
        }
        let probe = try VectorEnvironments.describe(environment)
        layout = TransitionLayout(observationSize: probe.observationSpace.elementCount, actionSize: probe.actionSpace.elementCount)
        itemBounds = ReplayItemBounds(
            values: ReceivedValueBounds(actionSpace: probe.actionSpace, observationSize: probe.observationSpace.elementCount), layout: layout)
        transitionsPerInsert = try int("transitions_per_insert", 64, range: 1...65_536)
        insertWindow = try int("insert_window", 4, range: 1...1024)
        publishEvery = try int("publish_every", 10, range: 1...1_000_000)
        epsilon = try double("epsilon", 0.4, range: 0...1)
        epsilonAlpha = try double("epsilon_alpha", 7, range: 0...1000)
        evaluationInterval = try int("eval_every", 10_000, range: 0...Int.max)
        evaluationEpisodes = try int("eval_episodes", 10, range: 1...100_000)

        // The replay ratio the single-process algorithm was tuned with.
        let c = configuration
        maximumSampleBatch = 4 * max(1, c.int("batch_size"))
        let gradientSteps = c.int("gradient_steps") > 0 ? c.int("gradient_steps") : c.int("train_freq")
        let ratio = Double(c.int("batch_size") * gradientSteps) / Double(c.int("train_freq"))
        let selector: ReplaySelector
        switch algorithm.replaySampling {
        case .prioritized(let alphaKey)?: selector = .prioritized(alpha: c.double(alphaKey))
        case .uniform?, nil: selector = .uniform
        }
        // Room for a worker's window of inserts before the learner must catch up.
        let buffer = max(2 * max(1, ratio), ratio * Double(transitionsPerInsert * insertWindow))
        let defaults = ReplayTableConfiguration(
            capacity: c.int("buffer_size"), itemSize: layout.itemSize, selector: selector,
            rateLimiter: .init(samplesPerInsert: ratio, minSize: max(1, c.int("learning_starts")), errorBuffer: buffer))
        var (table, every, path) = try ReplayServerSettings.table(
            fromTOML: document, source: source, defaultItemSize: layout.itemSize, defaults: defaults)
        if document["replay.error_buffer"] == nil {  // follow a samples_per_insert that [replay] set
            let ratio = table.rateLimiter.samplesPerInsert
            table.rateLimiter.errorBuffer = max(2 * max(1, ratio), ratio * Double(transitionsPerInsert * insertWindow))
        }
        do { _ = try RateLimiter(table.rateLimiter) } catch { throw fail("[replay] \(error)") }
        guard table.rateLimiter.minSize <= table.capacity else {
            throw fail("[replay] min_size \(table.rateLimiter.minSize) (from learning_starts unless set) exceeds the capacity \(table.capacity): sampling would never start")
        }
        guard table.itemSize == layout.itemSize else {
            throw fail("[replay] item_size is \(table.itemSize), but a transition of \(environment.id) takes \(layout.itemSize) floats "
                + "(observation \(layout.observationSize) | action \(layout.actionSize) | reward | next observation | discount); leave item_size out")
        }
        // Frames (a uint8 observation space) are kept as bytes, each channel plane once, as the single-process buffer keeps them.
        if let chunkSize = probe.observationSpace.replayChunkSize { table.frames = .transitions(layout, chunkSize: chunkSize) }
        // Refuse, with the size, what the machine cannot hold (frames counted as one whole observation per item).
        let bytes = Double(table.capacity) * Double(table.bytesPerItem)
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= 0.75 * memory else {
            throw fail(String(format: "[replay] a table of %d transitions of %d bytes needs %.1f GiB, more than 3/4 of this machine's %.1f GiB: "
                + "lower the agent's buffer_size (or [replay] capacity)", table.capacity, table.bytesPerItem, bytes / 1_073_741_824, memory / 1_073_741_824))
        }
        self.table = table
        checkpointEverySeconds = every ?? (document["replay.checkpoint_every_seconds"] == nil ? 60 : nil)
        checkpointPath = path ?? (runDirectory.path + "/replay.h5")
    }
}
