import ColonyAgents
import ColonyTransport

/// The replay messages (docs/wire.md, "Replay"), their schemas and limits. Every reply echoes the
/// request's header sequence number in its `parameter version` field, so a client matches replies.
///
/// - `replayInsert` client → server: payloads f32 [B, item_size], priorities f32 [B];
///   server → client (the reply, once all B are in): keys i64 [B]
/// - `replaySample` client → server: batch i32 [1], beta f32 [1]
/// - `replaySampleReply` server → client: payloads f32 [B, item_size], keys i64 [B], weights f32 [B]
/// - `replayPriorityUpdate` client → server: keys i64 [B], priorities f32 [B] (no reply)
///
/// Items of a table with frame columns travel packed: payloads hold only the other Floats, and two
/// more tensors follow, frames u8 [B, F] (every frame value of an item as a byte) and frame_offsets
/// i64 [K] (the item columns where the K blocks of F/K values start), so an item is rebuilt
/// without knowing the run (`FrameBlocks`).
public enum ReplayMessages {
    public static let maximumBatch = 1_000_000

    static let insertSchema = MessageSchema(tensors: [
        .init("payloads", .f32, ["B", "item"]), .init("priorities", .f32, ["B"]),
    ], extraTensorsAllowed: 2, bounds: ["B": 1...maximumBatch, "item": 1...1_000_000]) { message, _ in
        guard allNonNegative(message.tensors[1]) else { return "priorities must be non-negative" }
        return framesProblem(message, after: 2)
    }

    /// The most frame blocks an item may have (an Ape-X transition has 2).
    static let maximumFrameBlocks = 16

    /// The frame blocks of a packed message whose frame tensors follow tensor `index - 1`; nil for a message
    /// without them. The schemas have checked them (`framesProblem`).
    public static func frameBlocks(_ message: WireMessage, after index: Int) -> FrameBlocks? {
        guard message.tensors.count == index + 2, let offsets = try? message.tensors[index + 1].int64s(), !offsets.isEmpty else { return nil }
        return FrameBlocks(offsets: offsets.map { Int($0) }, width: message.tensors[index].shape[1] / offsets.count)
    }

    /// Nil when tensors from `index` on are absent, or are frames u8 [B, F] and frame_offsets i64 [K] whose K blocks of
    /// F/K values fit beside the payloads' columns; else why not.
    static func framesProblem(_ message: WireMessage, after index: Int) -> String? {
        let tensors = message.tensors
        guard tensors.count > index else { return nil }
        guard tensors.count == index + 2 else { return "frames come as two tensors, frames and frame_offsets" }
        let (frames, offsets) = (tensors[index], tensors[index + 1])
        let rows = tensors[0].shape[0]
        guard frames.dtype == .u8, frames.shape.count == 2, frames.shape[0] == rows, frames.shape[1] > 0 else {
            return "frames must be u8 [\(rows), F], got \(frames)"
        }
        guard offsets.dtype == .i64, offsets.shape.count == 1, (1...maximumFrameBlocks).contains(offsets.shape[0]),
              frames.shape[1] % offsets.shape[0] == 0 else {
            return "frame_offsets must be i64 [K] with K in 1...\(maximumFrameBlocks) dividing the \(frames.shape[1]) frame values, got \(offsets)"
        }
        guard let blocks = frameBlocks(message, after: index), blocks.offsets.allSatisfy({ $0 >= 0 && $0 <= 1 << 40 }) else {
            return "frame_offsets are not item columns"
        }
        return blocks.problem(itemSize: tensors[0].shape[1] + frames.shape[1]).map { "frame_offsets: \($0)" }
    }

    /// Checked in place (no copy: this runs for every insert).
    private static func allNonNegative(_ tensor: WireTensor) -> Bool {
        (try? tensor.withValues(as: Float.self) { $0.allSatisfy { $0 >= 0 } }) ?? false
    }

    static let sampleSchema = MessageSchema(tensors: [.init("batch", .i32, [1]), .init("beta", .f32, [1])]) { message, _ in
        guard let batch = try? message.tensors[0].int32s().first, batch >= 1, Int(batch) <= maximumBatch else {
            return "batch must be between 1 and \(maximumBatch)"
        }
        guard let beta = try? message.tensors[1].floats().first, beta.isFinite, beta >= 0 else { return "beta must be finite and non-negative" }
        return nil
    }

    static let priorityUpdateSchema = MessageSchema(tensors: [
        .init("keys", .i64, ["B"]), .init("priorities", .f32, ["B"]),
    ], bounds: ["B": 1...maximumBatch]) { message, _ in
        allNonNegative(message.tensors[1]) ? nil : "priorities must be non-negative"
    }

    static let insertReplySchema = MessageSchema(tensors: [.init("keys", .i64, ["B"])], bounds: ["B": 1...maximumBatch])

    static let sampleReplySchema = MessageSchema(tensors: [
        .init("payloads", .f32, ["B", "item"]), .init("keys", .i64, ["B"]), .init("weights", .f32, ["B"]),
    ], extraTensorsAllowed: 2, bounds: ["B": 0...maximumBatch]) { message, _ in
        framesProblem(message, after: 3)
    }

    /// The two tensors that carry `rows` packed items' frames (`frames`: `blocks.values` bytes a row).
    static func frameTensors(_ frames: [UInt8], rows: Int, blocks: FrameBlocks) -> [WireTensor] {
        [WireTensor(frames, shape: [rows, blocks.values]), WireTensor(blocks.offsets.map { Int64($0) })]
    }

    /// Priorities at most `ReceivedValueBounds.maximumPriority`: one forged 1e30 would take every draw.
    private static func prioritiesProblem(_ message: WireMessage, _ sizes: [String: Int]) -> String? {
        do {
            // Tensor 1 of both inserts and priority updates.
            return try message.tensors[1].withValues(as: Float.self) {
                ReceivedValueBounds.magnitudeProblem($0, limit: ReceivedValueBounds.maximumPriority, what: "priority")
            }
        } catch {
            return "priorities are not f32"
        }
    }

    /// What the server's ROUTER accepts; with `items`, every inserted row must fit the run (actions in
    /// the space, bounded rewards, discounts in [0, 1]).
    public static func serverLimits(maximumMessageBytes: Int = 256 << 20, items: ReplayItemBounds? = nil) -> WireLimits {
        var limits = WireLimits(maximumMessageBytes: maximumMessageBytes, acceptedTypes: [.replayInsert, .replaySample, .replayPriorityUpdate])
        var insert = insertSchema.checkingMeaning(prioritiesProblem)
        if let items { insert = insert.checkingMeaning { message, _ in items.problem(message) } }
        limits.schemas[.replayInsert] = insert
        limits.schemas[.replaySample] = sampleSchema
        limits.schemas[.replayPriorityUpdate] = priorityUpdateSchema.checkingMeaning(prioritiesProblem)
        return limits
    }

    /// What a client's DEALER accepts.
    public static func clientLimits(maximumMessageBytes: Int = 1 << 30) -> WireLimits {
        var limits = WireLimits(maximumMessageBytes: maximumMessageBytes, acceptedTypes: [.replayInsert, .replaySampleReply])
        limits.schemas[.replayInsert] = insertReplySchema
        limits.schemas[.replaySampleReply] = sampleReplySchema
        return limits
    }
}
