/// The images a convolutional network's forward keeps for its backward: Floats (read × the network's input scale) or
/// uint8 pixels (read ÷255), never widened as a whole.
enum CachedImages {
    case floats([Float]), pixels([UInt8])

    var isFloats: Bool { if case .floats = self { true } else { false } }

    /// Calls `body` with what fills `convolution`'s columns of one cached image: (image, target, pitch).
    func withColumns(of convolution: Convolution2D, imageSize: Int, inputScale: Float,
                     _ body: ((Int, UnsafeMutablePointer<Float>, Int) -> Void) -> Void) {
        switch self {
        case .floats(let values):
            values.withUnsafeBufferPointer { images in
                body { image, target, pitch in convolution.im2col(images.baseAddress! + image * imageSize, into: target, pitch: pitch) { $0 * inputScale } }
            }
        case .pixels(let bytes):
            bytes.withUnsafeBufferPointer { images in
                body { image, target, pitch in convolution.im2col(images.baseAddress! + image * imageSize, into: target, pitch: pitch) { Float($0) * (1 / 255) } }
            }
        }
    }
}
