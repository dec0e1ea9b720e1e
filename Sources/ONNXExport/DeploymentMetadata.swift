import Engine
import Foundation
import Inference
import Projection
import SemanticKITTI

/// What a deployer needs to make the network's input from a scan and to read its output,
/// written into the ONNX model's `metadata_props` as strings (lists as JSON arrays).
///
/// | key | value, e.g. |
/// |---|---|
/// | `height`, `width` | `64`, `2048`: the range image in pixels |
/// | `fov_up`, `fov_down` | `3.0`, `-25.0`: the vertical field of view in degrees |
/// | `projection` | how a point finds its pixel (RangeNet++'s spherical projection) |
/// | `channels` | `["range","x","y","z","remission"]`: the input channels in order |
/// | `means`, `stds` | per channel; the input is `(value - mean) / std`, 0 at empty pixels |
/// | `input` | that rule in words |
/// | `class_names` | by learning id: `["unlabeled","car",...]` |
/// | `learning_map_inv` | by learning id, the raw SemanticKITTI id: `[0,10,11,...]` |
/// | `output` | how to read the logits |
///
/// In Python: `json.loads(session.get_modelmeta().custom_metadata_map["means"])`.
public struct DeploymentMetadata: Sendable, Equatable {
    /// Range-image rows and columns.
    public var height: Int
    public var width: Int
    /// Upper and lower edge of the vertical field of view, in degrees.
    public var fovUp: Float
    public var fovDown: Float
    /// Names of the input channels, in order.
    public var channels: [String]
    /// Mean and standard deviation of each input channel.
    public var means: [Float]
    public var stds: [Float]
    /// Class names by learning id (the logits' channel index).
    public var classNames: [String]
    /// Raw SemanticKITTI id of each learning id (the label config's `learning_map_inv`).
    public var learningMapInverse: [Int]

    /// The channels of a range image, in order.
    public static let inputChannels = ArchitectureConfig.InputChannels.all

    /// - Parameters:
    ///   - sensor: The range image and the normalisation of the checkpoint's training configuration.
    ///   - labels: The label configuration whose learning ids the network predicts.
    ///   - inputs: The channels the network reads (all five by default).
    public init(sensor: ProjectionConfig, labels: LabelConfig, inputs: ArchitectureConfig.InputChannels = .init()) {
        height = sensor.height
        width = sensor.width
        fovUp = sensor.fovUp
        fovDown = sensor.fovDown
        channels = inputs.names
        means = inputs.indices.map { sensor.means[$0] }
        stds = inputs.indices.map { sensor.stds[$0] }
        classNames = (0 ..< labels.classCount).map { labels.className(learning: $0) }
        learningMapInverse = (0 ..< labels.classCount).map { labels.learningMapInverse[$0] ?? 0 }
    }

    /// The key-value pairs of `metadata_props`, in the order of the table above.
    public var properties: [(key: String, value: String)] {
        [("height", String(height)), ("width", String(width)),
         ("fov_up", String(fovUp)), ("fov_down", String(fovDown)),
         ("projection", """
          RangeNet++ spherical projection: for a point (x, y, z) at range r, \
          column = floor(0.5 * (1 - atan2(y, x) / pi) * width) and \
          row = floor((1 - (asin(z / r) + |fov_down|) / (|fov_up| + |fov_down|)) * height) \
          (angles in radians, float32), both clamped to the image; the nearest point wins a pixel
          """),
         ("channels", json(channels)),
         ("means", json(means)), ("stds", json(stds)),
         ("input", """
          range_image[n, c, row, column] = (value_c - means[c]) / stds[c] for the point at the pixel, \
          0 where no point falls; float32 [N, \(channels.count), \(height), \(width)]
          """),
         ("class_names", json(classNames)),
         ("learning_map_inv", json(learningMapInverse)),
         ("output", """
          logits [N, \(classNames.count), \(height), \(width)], float32, before softmax; \
          the argmax over dimension 1 is the learning id, learning_map_inv[id] the raw SemanticKITTI label
          """)]
    }
}

/// A JSON array of numbers; Swift prints floats in their shortest exact form (`12.12`).
private func json(_ values: [Float]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }

private func json(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }

/// A JSON array of strings.
private func json(_ values: [String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return (try? encoder.encode(values)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
}
