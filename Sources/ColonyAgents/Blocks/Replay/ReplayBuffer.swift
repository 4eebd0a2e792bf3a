import ColonyNumerics

/// Options of proportional prioritized replay (Schaul et al., 2016).
public struct PrioritizedReplayOptions: Sendable, Equatable {
    /// Priority exponent α: P(i) = p_i^α / Σ p_k^α.
    public var alpha: Double
    /// Added to |δ| so that no transition gets zero probability.
    public var epsilon: Double

    public init(alpha: Double = 0.6, epsilon: Double = 1e-6) {
        self.alpha = alpha
        self.epsilon = epsilon
    }
}

/// A FIFO replay buffer of fixed-size transitions in flat arrays; uniform or proportional prioritized.
///
/// Costs: `add` O(1) uniform, O(log n) prioritized; `sample` O(B) uniform, O(B log n) prioritized;
/// `updatePriorities` O(B log n). Memory: `bytesPerTransition` × capacity: 2·obs + action + 2 floats; the
/// observations of a uint8 space (frames) are bytes in a `FramePool`, each chunk (a channel plane) stored once, so a
/// transition whose observation and next observation other transitions also hold costs what its new frame does.
public final class ReplayBuffer: Checkpointable {
    public let capacity: Int
    public let observationSize: Int
    public let actionSize: Int
    public let prioritized: PrioritizedReplayOptions?

    private var observations: ReplayObservations
    private var actions: [Float]
    private var rewards: [Float]
    private var nextObservations: ReplayObservations
    private var discounts: [Float]
    /// Raw priorities (|δ| + ε) with Σ p^α and the smallest p: the same structure the cluster's replay table uses.
    private var priorities: BlockedSumTree?
    private var maxPriority: Double = 1
    public private(set) var count = 0
    private var nextSlot = 0

    /// - Parameters:
    ///   - storesBytes: keep observations as bytes (a uint8 space's values, 0…255), each chunk stored once.
    ///   - chunkSize: the bytes stored once (`Space.replayChunkSize`: a channel plane); default the whole observation.
    public init(capacity: Int, observationSize: Int, actionSize: Int, prioritized: PrioritizedReplayOptions? = nil, storesBytes: Bool = false,
                chunkSize: Int? = nil) {
        precondition(capacity > 0 && observationSize > 0 && actionSize > 0)
        self.capacity = capacity
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.prioritized = prioritized
        let frames = storesBytes ? FramePool(chunkSize: chunkSize ?? observationSize) : nil
        observations = ReplayObservations(capacity: capacity, width: observationSize, frames: frames)
        nextObservations = ReplayObservations(capacity: capacity, width: observationSize, frames: frames)
        actions = [Float](repeating: 0, count: capacity * actionSize)
        rewards = [Float](repeating: 0, count: capacity)
        discounts = [Float](repeating: 0, count: capacity)
        if let prioritized { priorities = BlockedSumTree(capacity: capacity, alpha: prioritized.alpha, blockSize: 1) }
    }

    /// Bytes one stored transition takes: the observation and next observation, the action, reward and discount. For
    /// frames, the bytes of one observation and both chunk-id rows: what a transition costs when its next observation is
    /// the following transition's observation (any run of an environment); a frame stack's frames share further (an
    /// Atari transition then adds one 84 × 84 plane, not 4 × 84 × 84).
    public static func bytesPerTransition(observationSize: Int, actionSize: Int, storesBytes: Bool, chunkSize: Int? = nil) -> Int {
        let scalars = (actionSize + 2) * MemoryLayout<Float>.size
        guard storesBytes else { return 2 * ReplayObservations.bytes(width: observationSize, chunkSize: nil) + scalars }
        let chunk = chunkSize ?? observationSize
        return observationSize + 2 * (observationSize / chunk) * MemoryLayout<Int32>.size + scalars
    }

    /// Throws unless `capacity` transitions fit in this machine's memory with room to spare (at most 3/4 of it): a
    /// buffer sized for frames in Floats asks for tens of gigabytes, and the error says so before the allocation.
    public static func checkFitsMemory(capacity: Int, observationSize: Int, actionSize: Int, storesBytes: Bool, chunkSize: Int? = nil,
                                       agent: String) throws {
        let each = bytesPerTransition(observationSize: observationSize, actionSize: actionSize, storesBytes: storesBytes, chunkSize: chunkSize)
        let needed = Double(capacity) * Double(each)
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed <= 0.75 * available else {
            let gib = { (bytes: Double) in String(format: "%.1f GiB", bytes / 1_073_741_824) }
            throw AgentError("\(agent): a replay buffer of \(capacity) transitions of \(observationSize)-element observations needs \(gib(needed)) "
                + "(\(each) bytes each), more than 3/4 of this machine's \(gib(available)): lower buffer_size")
        }
    }

    /// Distinct frame chunks stored and their size (nil for Float observations): what the buffer's frames take.
    public var storedFrames: (chunks: Int, chunkSize: Int)? { observations.frames.map { ($0.live, $0.chunkSize) } }

    /// Stores one transition, evicting the oldest when full. New transitions get the largest priority
    /// seen so far, so each is sampled at least once with high probability.
    public func add(observation: ArraySlice<Float>, action: ArraySlice<Float>, reward: Float, nextObservation: ArraySlice<Float>, discount: Float) {
        precondition(observation.count == observationSize && nextObservation.count == observationSize && action.count == actionSize)
        let slot = nextSlot
        observations.store(observation, at: slot)
        nextObservations.store(nextObservation, at: slot)
        actions.replaceSubrange(slot * actionSize..<(slot + 1) * actionSize, with: action)
        rewards[slot] = reward
        discounts[slot] = discount
        priorities?.update(slot, priority: Float(maxPriority))
        nextSlot = (nextSlot + 1) % capacity
        count = min(count + 1, capacity)
    }

    /// Samples `batchSize` transitions: uniformly, or proportionally to priority with importance weights
    /// w_i = (N·P(i))^−β / max_j w_j (stratified: one draw per equal slice of the total mass).
    public func sample(_ batchSize: Int, rng: inout RandomSource, beta: Double = 0.4) -> TransitionBatch {
        var batch = TransitionBatch(count: batchSize, observationSize: observationSize, actionSize: actionSize)
        sample(batchSize, rng: &rng, beta: beta, into: &batch)
        return batch
    }

    /// `sample(_:rng:beta:)` into `batch`, reusing its arrays when it already holds `batchSize` rows
    /// of this buffer's sizes (a learner's loop then allocates nothing). The same draws and rows.
    public func sample(_ batchSize: Int, rng: inout RandomSource, beta: Double = 0.4, into batch: inout TransitionBatch) {
        precondition(count > 0, "cannot sample from an empty replay buffer")
        fit(&batch, rows: batchSize)
        if let priorities, priorities.total > 0 {
            let total = priorities.total
            let segment = total / Double(batchSize)
            let maxWeight = Foundation.pow(Double(count) * priorities.weight(ofLeaf: priorities.minimumPositive) / total, -beta)
            for row in 0..<batchSize {
                let mass = (Double(row) + rng.nextDouble()) * segment
                let index = priorities.find(min(mass, total * (1 - 1e-12)))
                batch.indices[row] = index
                let probability = priorities.weight(ofLeaf: priorities[index]) / total
                batch.weights[row] = Float(Foundation.pow(Double(count) * probability, -beta) / maxWeight)
            }
        } else {
            for row in 0..<batchSize { batch.indices[row] = uniformIndex(&rng) }
            for row in 0..<batchSize { batch.weights[row] = 1 }
        }
        gather(into: &batch)
    }

    /// The slots `count` uniform draws pick, in order: what `sample` would draw for `count` rows (or
    /// for several consecutive batches of rows), so a caller can look at a whole round of minibatches
    /// before gathering them with `gather(_:into:)`. Uniform replay only. O(count).
    public func uniformIndices(_ count: Int, rng: inout RandomSource) -> [Int] {
        precondition(prioritized == nil, "uniformIndices: a prioritized buffer samples by priority")
        precondition(self.count > 0, "cannot sample from an empty replay buffer")
        return (0..<count).map { _ in uniformIndex(&rng) }
    }

    /// The transitions at `indices` (buffer slots, e.g. from `uniformIndices`) into `batch`, as `sample`
    /// would return them (weights 1), reusing its arrays when the row count fits. O(B · (2·obs + action + 2)).
    public func gather(_ indices: some Collection<Int>, into batch: inout TransitionBatch) {
        fit(&batch, rows: indices.count)
        for (row, index) in indices.enumerated() {
            precondition(index >= 0 && index < count, "gather: slot \(index) outside 0..<\(count)")
            batch.indices[row] = index
            batch.weights[row] = 1
        }
        gather(into: &batch)
    }

    @inline(__always)
    private func uniformIndex(_ rng: inout RandomSource) -> Int { rng.nextInt(below: count) }

    /// Makes `batch` hold `rows` rows of this buffer's sizes, keeping its arrays when they already do.
    private func fit(_ batch: inout TransitionBatch, rows: Int) {
        if batch.count != rows || batch.observations.count != rows * observationSize || batch.actions.count != rows * actionSize {
            batch = TransitionBatch(count: rows, observationSize: observationSize, actionSize: actionSize)
        }
    }

    /// Copies the rows at `batch.indices` into the batch's arrays. O(B · (2·obs + action + 2)).
    private func gather(into batch: inout TransitionBatch) {
        let (o, a) = (observationSize, actionSize)
        precondition(observations.width == o)
        observations.gather(batch.indices, into: &batch.observations)
        nextObservations.gather(batch.indices, into: &batch.nextObservations)
        Self.gather(actions, width: a, rows: batch.indices, into: &batch.actions)
        Self.gather(rewards, width: 1, rows: batch.indices, into: &batch.rewards)
        Self.gather(discounts, width: 1, rows: batch.indices, into: &batch.discounts)
    }

    static func gather(_ source: [Float], width: Int, rows: [Int], into target: inout [Float]) {
        source.withUnsafeBufferPointer { source in
            target.withUnsafeMutableBufferPointer { target in
                if width >= 16 {
                    for (row, index) in rows.enumerated() {
                        (target.baseAddress! + row * width).update(from: source.baseAddress! + index * width, count: width)
                    }
                } else {
                    // Narrow rows (CartPole's 4 floats, rewards) column by column: copied row by row, each
                    // row is a memmove call costing more than its copy.
                    for column in 0..<width {
                        for (row, index) in rows.enumerated() { target[row * width + column] = source[index * width + column] }
                    }
                }
            }
        }
    }

    /// Sets priorities p_i = (|δ_i| + ε)^α from new TD errors of sampled transitions.
    public func updatePriorities(indices: [Int], tdErrors: [Float]) {
        guard let options = prioritized, let priorities else { return }
        for (index, error) in zip(indices, tdErrors) {
            let raw = Double(abs(error)) + options.epsilon
            guard raw.isFinite else { continue }
            maxPriority = max(maxPriority, raw)
            priorities.update(index, priority: Float(raw))
        }
    }

    public func save(to writer: CheckpointWriter) throws {
        if let frames = observations.frames { try writer.write(frames.contents, "frames") }
        try observations.save(to: writer, count: count, "observations")
        try nextObservations.save(to: writer, count: count, "next_observations")
        try writer.write(Array(actions[0..<count * actionSize]), shape: [count, actionSize], "actions")
        try writer.write(Array(rewards[0..<count]), "rewards")
        try writer.write(Array(discounts[0..<count]), "discounts")
        try writer.write([Int64(count), Int64(nextSlot), Int64(capacity)], "cursor")
        if let priorities {
            // "priorities" keeps its meaning (p^α, as checkpoints before the shared tree stored it); the
            // raw Float priorities make a resumed run sample exactly as the uninterrupted one.
            try writer.write((0..<count).map { priorities.weight(ofLeaf: priorities[$0]) }, "priorities")
            try writer.write((0..<count).map { priorities[$0] }, "raw_priorities")
            try writer.write([maxPriority], "max_priority")
        }
    }

    /// The actions of the stored transitions, `count × actionSize` (for checks after a restore).
    public var storedActions: ArraySlice<Float> { actions[0..<(count * actionSize)] }

    public func restore(from reader: CheckpointReader) throws {
        let cursor = try reader.ints("cursor")
        guard cursor.count == 3, cursor[2] == capacity else {
            throw CheckpointError.shapeMismatch(entry: reader.path("cursor"), expected: capacity, found: cursor.count == 3 ? cursor[2] : -1)
        }
        let stored = cursor[0]
        guard stored <= capacity, cursor[1] < capacity else {
            throw reader.invalid("cursor", "holds count \(stored) and next slot \(cursor[1]), which do not fit capacity \(capacity)")
        }
        try restoreObservations(from: reader, count: stored)
        actions.replaceSubrange(0..<stored * actionSize, with: try reader.floats("actions", count: stored * actionSize))
        rewards.replaceSubrange(0..<stored, with: try reader.floats("rewards", count: stored))
        discounts.replaceSubrange(0..<stored, with: try reader.floats("discounts", count: stored))
        count = stored
        nextSlot = cursor[1]
        if let prioritized, let priorities {
            let raw = reader.contains("raw_priorities")
                ? try reader.floats("raw_priorities", count: stored)
                : Self.rawPriorities(weights: try reader.doubles("priorities"), alpha: prioritized.alpha)
            guard raw.count == stored else { throw CheckpointError.shapeMismatch(entry: reader.path("priorities"), expected: stored, found: raw.count) }
            if let index = raw.firstIndex(where: { $0 < 0 }) { throw reader.invalid("raw_priorities", "holds the negative priority \(raw[index]) at index \(index)") }
            priorities.rebuild { leaves in for (slot, priority) in raw.enumerated() { leaves[slot] = priority } }
            maxPriority = try reader.doubles("max_priority").first ?? 1
        }
    }

    private func restoreObservations(from reader: CheckpointReader, count stored: Int) throws {
        guard let frames = observations.frames else {
            try observations.restore(from: reader, count: stored, "observations")
            return try nextObservations.restore(from: reader, count: stored, "next_observations")
        }
        guard reader.contains("frames") else { return try restoreFramesSavedWhole(from: reader, count: stored) }
        let contents = try reader.bytes("frames")
        guard contents.count % frames.chunkSize == 0 else {
            throw reader.invalid("frames", "holds \(contents.count) bytes, not whole frames of \(frames.chunkSize)")
        }
        let allocated = contents.count / frames.chunkSize
        let ids = (try observations.storedChunkIDs(from: reader, count: stored, "observations", allocated: allocated),
                   try nextObservations.storedChunkIDs(from: reader, count: stored, "next_observations", allocated: allocated))
        var counts = [Int32](repeating: 0, count: allocated)
        for id in ids.0 + ids.1 { counts[Int(id)] += 1 }
        frames.restore(contents: contents, referenceCounts: counts)
        observations.setChunkIDs(ids.0)
        nextObservations.setChunkIDs(ids.1)
    }

    /// Frames of a checkpoint written before frames were stored once: every observation's bytes whole.
    private func restoreFramesSavedWhole(from reader: CheckpointReader, count stored: Int) throws {
        for (name, keyPath) in [("observations", \ReplayBuffer.observations), ("next_observations", \ReplayBuffer.nextObservations)] {
            let bytes = try reader.bytes(name)
            guard bytes.count == stored * observationSize else {
                throw CheckpointError.shapeMismatch(entry: reader.path(name), expected: stored * observationSize, found: bytes.count)
            }
            for slot in 0..<stored {
                self[keyPath: keyPath].store(bytes[(slot * observationSize)..<((slot + 1) * observationSize)].map(Float.init)[...], at: slot)
            }
        }
    }

    /// Raw priorities from the p^α weights that checkpoints written before `raw_priorities` hold.
    private static func rawPriorities(weights: [Double], alpha: Double) -> [Float] {
        weights.map { weight in
            guard weight > 0 else { return 0 }
            return alpha == 0 ? 1 : Float(Foundation.pow(weight, 1 / alpha))
        }
    }
}

import Foundation
