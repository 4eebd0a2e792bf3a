import ColonyAgents
import ColonyTransport

/// What a replay server of a known run accepts in an item: a transition of the run's layout whose
/// action lies in its action space, with a bounded reward and a discount in [0, 1]
/// (`ReceivedValueBounds.transitionProblem`). An insert with one bad row is refused whole and counted
/// (`out of range`), so a forged action 7 or reward 1e20 never enters the table, its checkpoint, or a
/// learner's batch. A server started without a cluster file knows no spaces and checks shapes only.
public struct ReplayItemBounds: Sendable {
    public let values: ReceivedValueBounds
    public let layout: TransitionLayout

    public init(values: ReceivedValueBounds, layout: TransitionLayout) {
        self.values = values
        self.layout = layout
    }

    /// The first bad row of an insert (`[B, itemSize]` payloads, or packed: the other Floats, then frames as bytes),
    /// nil when every row fits. Frames are bytes, so a packed row's observations need no check.
    func problem(_ message: WireMessage) -> String? {
        let payloads = message.tensors[0]
        var layout = self.layout
        if let blocks = ReplayMessages.frameBlocks(message, after: 2) {
            guard blocks == FrameBlocks.transitions(layout) else {
                return "frames at columns \(blocks.offsets) of \(blocks.width) values, this run's transitions hold them at "
                    + "\(FrameBlocks.transitions(layout).offsets) of \(layout.observationSize)"
            }
            // What is left of a packed transition: action | reward | discount, a transition without observations.
            layout = TransitionLayout(observationSize: 0, actionSize: layout.actionSize)
        }
        let size = layout.itemSize
        guard payloads.shape.count == 2, payloads.shape[1] == size else { return "items of \(payloads.shape.last ?? 0) floats, this run's take \(size)" }
        do {
            return try payloads.withValues(as: Float.self) { rows -> String? in
                for row in 0..<payloads.shape[0] {
                    if let problem = values.transitionProblem(UnsafeBufferPointer(rebasing: rows[row * size..<(row + 1) * size]), layout: layout) {
                        return "item \(row): \(problem)"
                    }
                }
                return nil
            }
        } catch {
            return "payloads are not f32"
        }
    }
}
