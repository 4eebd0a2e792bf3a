/// One drawing of an environment: text (native environments, Gymnasium's `ansi` mode) or an RGB
/// image (Gymnasium's `rgb_array` mode), as `VectorEnvironment.renderFrame` returns it.
public enum RenderedFrame: Sendable, Equatable {
    case text(String)
    /// Row-major RGB bytes, `height × width × 3`.
    case image(width: Int, height: Int, rgb: [UInt8])
}
