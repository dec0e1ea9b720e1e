import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI
import SwiftProtobuf

/// Writes a trained network (any of `Networks.all`) as an ONNX model for ONNX Runtime, TensorRT
/// and other runtimes of the field.
///
/// The graph (opset 17, IR version 8) has one input `range_image` float32 `[N, C_in, H, W]` (the
/// channels the network reads, as the metadata names them) and one output `logits` float32
/// `[N, C, H, W]`, with the batch `N` dynamic and `H`, `W` those of the metadata. It is the
/// operations of one forward pass: `Conv`, `ConvTranspose`, `LeakyRelu`, `Add`, `Concat`,
/// `AveragePool`, `DepthToSpace` (pixel shuffle), and with batch norm kept,
/// `BatchNormalization`. Convolution and batch-norm nodes and their initializers carry the
/// checkpoint's state-dict names (`enc.1.3.body.0.weight`, `backbone.enc1.conv.weight`).
/// `metadata_props` hold the `DeploymentMetadata`.
///
/// ```swift
/// let exporter = ONNXExporter()                        // batch norm folded
/// let summary = try exporter.export(checkpoint: run.appendingPathComponent("best.safetensors"),
///                                   config: config, labels: labels, to: URL(fileURLWithPath: "model.onnx"))
/// ```
public struct ONNXExporter: Sendable {
    /// What becomes of each batch norm.
    public enum BatchNormHandling: String, Sendable, CaseIterable {
        /// Folded into the weights and bias of the convolution before it (also the transposed
        /// ones): fewer operators, the same logits up to rounding.
        case folded
        /// Kept as `BatchNormalization` nodes with the running statistics, as in the checkpoint.
        case kept
    }

    public var batchNorm: BatchNormHandling

    /// The ONNX operator set the graph is written for.
    public static let opset: Int64 = 17
    /// The ONNX IR version of the file (8 reads in every runtime that knows opset 17).
    public static let irVersion: Int64 = 8
    /// Names of the graph's input and output.
    public static let inputName = "range_image"
    public static let outputName = "logits"

    public init(batchNorm: BatchNormHandling = .folded) { self.batchNorm = batchNorm }

    /// The ONNX model of `network` in evaluation mode (running statistics), which the network
    /// is switched to. The graph is what one layer-by-layer forward pass runs
    /// (`GraphRecording`), so any network built from the engine's operations exports.
    ///
    /// - Parameters:
    ///   - network: The network; `metadata`'s image size must be one it takes.
    ///   - metadata: The image size, normalisation and classes, written into `metadata_props`.
    public func model(of network: any SegmentationNetwork, metadata: DeploymentMetadata) -> Onnx_ModelProto {
        let architecture = network.architecture
        let divisor = architecture.sizeDivisor
        precondition(metadata.width % divisor.width == 0 && metadata.height % divisor.height == 0
                     && metadata.channels.count == architecture.inputChannels,
                     "image \(metadata.height) x \(metadata.width) must be divisible by \(divisor) and channels must be \(architecture.inputChannels)")
        network.eval()
        // The smallest image the network takes: the values and the size do not matter, the
        // operations do (the graph's input has the deployed size).
        let input = Tensor(zeros: [1, architecture.inputChannels, divisor.height, divisor.width])
        let (logits, recording) = GraphRecording.record(input: input) {
            withoutGradient { network.forward(input, keeping: []).logits }
        }
        precondition(recording.unsupported.isEmpty, "the ONNX export cannot write \(recording.unsupported)")
        var builder = GraphBuilder(foldBatchNorm: batchNorm == .folded, parameterNames: network.namedParameters(),
                                   bufferNames: network.namedBuffers())
        builder.add(recording, input: Self.inputName, output: (recording.number(of: logits)!, Self.outputName))

        var graph = Onnx_GraphProto()
        graph.name = architecture.name
        graph.docString = "\(architecture.name) (\(type(of: network).summary)); batch norm \(batchNorm.rawValue)"
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = [.float32(Self.inputName, dims: [.symbol("N"), .size(architecture.inputChannels), .size(metadata.height),
                                                        .size(metadata.width)],
                                 doc: "normalised range image; see the model's metadata")]
        graph.output = [.float32(Self.outputName, dims: [.symbol("N"), .size(architecture.classes), .size(metadata.height),
                                                          .size(metadata.width)],
                                  doc: "class scores before softmax, by learning id")]

        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opset
        model.opsetImport = [opset]
        model.producerName = "RangeSeg"
        model.docString = "LiDAR range-image semantic segmentation (SemanticKITTI learning ids), exported by rangeseg export"
        model.graph = graph
        model.metadataProps = (metadata.properties + [("batch_norm", batchNorm.rawValue)]).map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return model
    }

    /// Writes the model of `network` to `url` atomically (a temporary file renamed into place),
    /// so a failed write leaves no partial file.
    ///
    /// - Throws: `FormatError` naming `url` when the file cannot be written.
    public func write(_ network: any SegmentationNetwork, metadata: DeploymentMetadata, to url: URL) throws(FormatError) -> ONNXExportSummary {
        let proto = model(of: network, metadata: metadata)
        let bytes: Data
        do { bytes = try proto.serializedBytes() } catch {
            throw FormatError(file: url, reason: "cannot encode the ONNX model: \(error)")
        }
        try AtomicFile.write(bytes, to: url)
        return ONNXExportSummary(model: proto, file: url, bytes: bytes.count, batchNorm: batchNorm)
    }

    /// Loads `checkpoint` into the network its training configuration describes and writes the
    /// ONNX model to `url`. Everything is checked before anything is written: the settings, that
    /// the label config has the network's classes, and every name and shape of the checkpoint.
    ///
    /// - Parameters:
    ///   - checkpoint: A model checkpoint (`.safetensors`) written by `rangeseg train`.
    ///   - config: The checkpoint's training configuration (its sensor gives `H`, `W` and the
    ///     normalisation; its architecture the network).
    ///   - labels: The label configuration, for class names and `learning_map_inv`.
    ///   - url: The `.onnx` file to write.
    /// - Throws: `FormatError` naming the checkpoint (settings, classes, names and shapes) or the
    ///   output (cannot be written); no file is left at `url` then.
    public func export(checkpoint: URL, config: TrainingConfig, labels: LabelConfig,
                       to url: URL) throws(FormatError) -> ONNXExportSummary {
        if let problem = config.problems.first {
            throw FormatError(file: checkpoint, reason: "cannot export with this training configuration: \(problem)")
        }
        guard labels.classCount == config.architecture.classes else {
            throw FormatError(file: checkpoint, reason: "the network predicts \(config.architecture.classes) classes but the label config has \(labels.classCount) learning classes")
        }
        var generator = RandomGenerator(seed: 0)
        let network = Networks.make(config.architecture, generator: &generator)
        try Checkpoint.load(into: network, from: checkpoint)
        return try write(network, metadata: DeploymentMetadata(sensor: config.sensor, labels: labels, inputs: config.architecture.inputs), to: url)
    }
}
