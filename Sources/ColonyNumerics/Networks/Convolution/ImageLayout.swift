/// How the images a convolutional network is given are laid out. Its convolutions read channel first
/// (C × H × W: Gymnasium's Atari frame stack); channel-last images (H × W × C: MiniGrid, Procgen, raw Atari
/// frames) are reordered as a batch enters the network, as Stable-Baselines3's VecTransposeImage does outside it,
/// so frames stay as the environment gives them everywhere else (rollouts, the wire, replay).
public enum ImageLayout: String, Sendable, Equatable {
    case channelsFirst = "channel first"
    case channelsLast = "channel last"

    /// The shape of one input image in this layout, for an image of channel-first shape [C, H, W].
    public func inputShape(channelsFirst shape: [Int]) -> [Int] {
        self == .channelsFirst ? shape : [shape[1], shape[2], shape[0]]
    }

    /// `images` (whole images of channel-first shape [C, H, W], laid out in this layout) channel first: the
    /// array itself when it already is. O(elements).
    func channelsFirst<Element>(_ images: [Element], shape: [Int]) -> [Element] {
        guard self == .channelsLast else { return images }
        return Self.transpose(images, planes: shape[1] * shape[2], channels: shape[0])
    }

    /// A channel-first gradient of `images` back in this layout (the adjoint of `channelsFirst`, a permutation).
    func restoring(_ images: [Float], shape: [Int]) -> [Float] {
        guard self == .channelsLast else { return images }
        return Self.transpose(images, planes: shape[0], channels: shape[1] * shape[2])
    }

    /// Each image of `planes × channels` values (row-major) as `channels × planes`.
    private static func transpose<Element>(_ images: [Element], planes: Int, channels: Int) -> [Element] {
        let size = planes * channels
        guard size > 0, !images.isEmpty else { return images }
        precondition(images.count % size == 0, "ImageLayout: \(images.count) values are not whole images of \(size)")
        return [Element](unsafeUninitializedCapacity: images.count) { output, count in
            images.withUnsafeBufferPointer { input in
                for start in Swift.stride(from: 0, to: images.count, by: size) {
                    let (source, target) = (input.baseAddress! + start, output.baseAddress! + start)
                    for position in 0..<planes {
                        for channel in 0..<channels { (target + channel * planes + position).initialize(to: source[position * channels + channel]) }
                    }
                }
            }
            count = images.count
        }
    }
}

extension ImageLayout {
    /// The channel-first shape [C, H, W] and layout of an image of `shape`: channel first when the first dimension is
    /// the smallest, channel last when the last is smaller than both others (Stable-Baselines3's rule), H × W as one
    /// channel. Nil for other ranks or an image whose smallest dimension is in the middle.
    public static func of(shape: [Int]) -> (channelsFirst: [Int], layout: ImageLayout)? {
        switch shape.count {
        case 3 where shape[0] <= shape[1] && shape[0] <= shape[2]: return (shape, .channelsFirst)
        case 3 where shape[2] < shape[0] && shape[2] < shape[1]: return ([shape[2], shape[0], shape[1]], .channelsLast)
        case 2: return ([1] + shape, .channelsFirst)
        default: return nil
        }
    }
}
