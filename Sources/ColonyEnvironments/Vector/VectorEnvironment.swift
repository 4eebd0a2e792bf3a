/// N copies of one environment stepped together, with Gymnasium's same-step automatic reset.
///
/// Results live in contiguous arrays that are overwritten by every step: `observations`
/// (`count × observationCount`, row-major), `rewards`, `terminated`, `truncated`. When copy `i`
/// finishes, it is reset within the same `step` call, so `observations` row `i` already holds the
/// first observation of its next episode, while `rewards[i]`, `terminated[i]` and `truncated[i]`
/// describe the finished step and `finalObservations[i]` holds the last observation of the
/// finished episode (Gymnasium's `final_obs`); `completedEpisodes` lists the finished episodes.
///
/// `LocalVectorEnvironment` steps in-process copies; `VectorEnvironments.make` builds the vector
/// for a registered id. Each array property returns the whole array: read it once per step into a
/// local rather than element by element through the existential. One owner, not thread-safe.
public protocol VectorEnvironment: AnyObject {
    var id: String { get }
    /// Copies stepped together.
    var count: Int { get }
    /// The spaces of one copy.
    var observationSpace: Space { get }
    var actionSpace: Space { get }
    /// Floats per observation row.
    var observationCount: Int { get }

    var observations: [Float] { get }
    var rewards: [Double] { get }
    var terminated: [Bool] { get }
    var truncated: [Bool] { get }
    /// The last observation of each episode that finished in the last step; nil elsewhere.
    var finalObservations: [[Float]?] { get }
    /// The episodes that finished in the last step, in environment order.
    var completedEpisodes: [EpisodeRecord] { get }

    /// Resets every copy and the bookkeeping. A seed seeds copy `i` from the `i`-th `split()` of
    /// `RandomSource(seed:)`; nil continues each copy's own stream.
    func reset(seed: UInt64?) throws
    /// Steps every copy with its action (`actions.count == count`). Throws
    /// `EnvironmentError.invalidAction` before any copy steps if one action is invalid.
    func step(_ actions: [Action]) throws
    /// Steps every copy of a discrete-action environment.
    func step(discrete actions: [Int]) throws
    /// Steps every copy of a box-action environment; `actions` is `count × actionSpace.elementCount`, row-major.
    func step(continuous actions: [Float]) throws

    /// Starts a step with `actions` (checked as `step` checks them); the arrays hold its results
    /// only after `finishStep()`. A vector that steps in other processes returns at once, so the
    /// caller can act on another vector meanwhile (double buffering); others step here.
    func beginStep(_ actions: [Action]) throws
    /// Waits for the step `beginStep` started and fills the arrays.
    func finishStep() throws
    /// The copies whose episodes were cut in the last step because what ran them failed and was
    /// replaced (reported as truncated); empty for in-process copies.
    var interruptedIndices: [Int] { get }

    /// A small ASCII drawing of copy `index`.
    func render(_ index: Int) -> String
    /// Copy `index` as its environment draws it: text, or an RGB image for vectors made with the
    /// `rgb_array` render mode.
    func renderFrame(_ index: Int) throws -> RenderedFrame

    /// Everything needed to continue this vector exactly, or nil where its copies cannot offer it
    /// (see `SnapshottableEnvironment`). Taken between steps.
    func snapshot() -> VectorEnvironmentSnapshot?
    /// Continues from `snapshot` (taken from a vector of the same id and size). Throws
    /// `EnvironmentError.notSnapshottable` where the copies cannot be restored.
    func restore(_ snapshot: VectorEnvironmentSnapshot) throws
}

extension VectorEnvironment {
    /// In-process vectors step in `beginStep`.
    public func beginStep(_ actions: [Action]) throws { try step(actions) }
    public func finishStep() throws {}
    public var interruptedIndices: [Int] { [] }
    /// In-process environments draw text.
    public func renderFrame(_ index: Int) throws -> RenderedFrame { .text(render(index)) }

    /// Observation row `index` of `observations`.
    public func observation(_ index: Int) -> ArraySlice<Float> {
        observations[(index * observationCount)..<((index + 1) * observationCount)]
    }
}
