import ColonyEnvironments
import ColonyNumerics

/// The `encoder` key: which network reads observations.
public enum EncoderArchitecture: String, Sendable, CaseIterable {
    /// For images (uint8 Boxes of 2 or 3 dimensions) nature_cnn, or impala_cnn where an image is smaller than the
    /// Nature CNN's 36 × 36; mlp for everything else.
    case auto
    /// Fully connected layers of `hidden_sizes`.
    case mlp
    /// Mnih et al. (2015): 32 8×8/4, 64 4×4/2, 64 3×3/1 convolutions, 512 units (Atari's 84×84 frames).
    case natureCNN = "nature_cnn"
    /// Espeholt et al. (2018): sections of 16, 32, 32 channels with max-pooling and two residual blocks each, 256 units.
    case impalaCNN = "impala_cnn"

    /// The key every agent with a network over observations declares.
    static let key = ConfigurationKey(
        "encoder", .string(EncoderArchitecture.auto.rawValue),
        "network that reads observations: mlp (hidden_sizes), nature_cnn (Mnih et al. 2015, 512 units) or impala_cnn (Espeholt et al. "
            + "2018, 256 units) over C × H × W images; auto: nature_cnn for uint8 images (impala_cnn below 36 × 36), mlp otherwise",
        choices: allCases.map(\.rawValue))
}

/// Builds the networks an agent reads observations with, from its `encoder` and `hidden_sizes` keys and the
/// observation space: MLPs for vectors, the Nature CNN or the IMPALA ResNet for images. A uint8 image is read ÷255
/// by the network's first layer (its `inputScale`), whatever holds the frames, so agents pass observations as they are.
struct ObservationNetworkBuilder {
    let architecture: EncoderArchitecture
    /// Floats of one network input.
    let inputSize: Int
    /// C × H × W for a convolutional encoder, whatever the observations' layout.
    let imageShape: [Int]
    /// How the observations lay an image out: channel last (H × W × C) is reordered by the network as it reads.
    let layout: ImageLayout
    let inputScale: Float

    /// - Parameter encodedSize: the width of the rows the agent feeds its networks (one-hot rows for Discrete
    ///   observations), for an MLP.
    init(configuration: Configuration, observationSpace space: Space, encodedSize: Int, agent: String) throws {
        let requested = EncoderArchitecture(rawValue: configuration.string("encoder")) ?? .auto
        let image = Self.image(of: space)
        switch requested {
        case .auto:
            if case .box(let box) = space, box.elementType == .uint8, let image {
                architecture = image.shape[1] >= 36 && image.shape[2] >= 36 ? .natureCNN : .impalaCNN
            } else {
                architecture = .mlp
            }
        default:
            architecture = requested
        }
        inputSize = encodedSize
        guard architecture != .mlp else {
            (imageShape, layout, inputScale) = ([], .channelsFirst, 1)
            return
        }
        guard case .box(let box) = space, let image else {
            throw AgentError("\(agent): encoder \(architecture.rawValue) reads images (a Box of shape C × H × W, H × W × C or H × W), but the observations "
                + "are \(space); use encoder = \"mlp\"")
        }
        guard let layout = image.layout else {
            throw AgentError("\(agent): encoder \(architecture.rawValue) reads images channel first (C × H × W) or channel last (H × W × C), "
                + "taking the smallest dimension for the channels, but the observations have shape \(box.shape); transpose them so that the "
                + "channels come first or last")
        }
        if architecture == .natureCNN && (image.shape[1] < 36 || image.shape[2] < 36) {
            throw AgentError("\(agent): encoder nature_cnn needs images of at least 36 × 36 (its 8×8/4, 4×4/2 and 3×3/1 convolutions), "
                + "but the observations are \(image.shape[1]) × \(image.shape[2]); use encoder = \"impala_cnn\", which pads")
        }
        if configuration.schema.key("normalize_observations") != nil && configuration.bool("normalize_observations") {
            throw AgentError("\(agent): normalize_observations standardises vector observations for an mlp encoder; images are read ÷255 "
                + "by \(architecture.rawValue): set normalize_observations = false")
        }
        (imageShape, self.layout) = (image.shape, layout)
        inputScale = box.elementType == .uint8 ? 1 / 255 : 1
    }

    /// The C × H × W shape of a Box of 2 or 3 dimensions and its layout (`ImageLayout.of`), a nil layout for an image
    /// whose smallest dimension is in the middle (refused). Nil for anything else.
    private static func image(of space: Space) -> (shape: [Int], layout: ImageLayout?)? {
        guard case .box(let box) = space, box.elementCount > 0, box.shape.count == 2 || box.shape.count == 3 else { return nil }
        guard let (shape, layout) = ImageLayout.of(shape: box.shape) else { return (box.shape, nil) }
        return (shape, layout)
    }

    /// A network with `outputs` outputs: the MLP of `hiddenSizes` with `activation`, or the convolutional encoder
    /// with its own fully connected layer (512 or 256 ReLU units). Weights from `rng` in parameter order.
    func make(outputs: Int, hiddenSizes: [Int], activation: Activation, initialization: LayerInitialization,
              outputInitialization: LayerInitialization, rng: inout RandomSource) -> any Network {
        switch architecture {
        case .auto, .mlp:
            return MLP(sizes: [inputSize] + hiddenSizes + [outputs], hidden: activation, initialization: initialization,
                       outputInitialization: outputInitialization, rng: &rng)
        case .natureCNN:
            return ConvolutionalNetwork.natureDQN(inputShape: imageShape, outputs: outputs, initialization: initialization,
                                                  outputInitialization: outputInitialization, inputScale: inputScale, layout: layout, rng: &rng)
        case .impalaCNN:
            return ResidualNetwork.impala(inputShape: imageShape, outputs: outputs, initialization: initialization,
                                          outputInitialization: outputInitialization, inputScale: inputScale, layout: layout, rng: &rng)
        }
    }
}
