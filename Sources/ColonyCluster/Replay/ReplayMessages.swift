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
public enum ReplayMessages {
    public static let maximumBatch = 1_000_000

    static let insertSchema = MessageSchema(tensors: [
        .init("payloads", .f32, ["B", "item"]), .init("priorities", .f32, ["B"]),
    ], bounds: ["B": 1...maximumBatch, "item": 1...1_000_000]) { message, _ in
        allNonNegative(message.tensors[1]) ? nil : "priorities must be non-negative"
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
    ], bounds: ["B": 0...maximumBatch])

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
        if let items { insert = insert.checkingMeaning { message, _ in items.problem(message.tensors[0]) } }
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
