import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI

/// A model from elsewhere as a RangeSeg run directory would hold it (`rangeseg import`): an
/// official RangeNet++ or SalsaNext folder, or a PyTorch state dict with the network named.
public struct ImportedModel {
    /// What it came from, for messages: "RangeNet++ from ~/models/darknet53".
    public var title: String
    public var network: any SegmentationNetwork
    /// The network and sensor, as `rangeseg train` writes them.
    public var config: TrainingConfig
    /// The label configuration's text (the folder's `data_cfg.yaml`, or the one given).
    public var labelsYAML: String
    /// Whether the source cleans its labels with the range k-NN (`post.KNN`).
    public var usesRangeKNN: Bool

    /// An official model folder.
    public init(folder: URL) throws {
        let official = try OfficialModel(folder: folder)
        title = "\(official.origin.rawValue) from \(folder.path)"
        network = try official.network()
        config = official.config
        labelsYAML = official.labelConfigText
        usesRangeKNN = official.knn != nil
    }

    /// A `.pth`/`.pt` state dict for `network` (a built-in name or an architecture file,
    /// relative to the working directory) with `labels`' classes; `labelsFile` is the label
    /// configuration's file (nil: the built-in SemanticKITTI one).
    public init(stateDict file: URL, network name: String, labels: LabelConfig, labelsFile: URL?) throws {
        config = try TrainingConfig.defaults
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        config.architecture = try TrainingConfig.architecture(named: name, relativeTo: here, from: "--network", key: nil)
        config.network = name
        config.architecture.classes = labels.classCount
        var generator = RandomGenerator(seed: 0)
        network = Networks.make(config.architecture, generator: &generator)
        try Checkpoint.load(try TorchStateDict.read(file), into: network, source: file.path)
        title = "PyTorch weights from \(file.path)"
        labelsYAML = try labelsFile.map { try YAMLFile.read($0) } ?? BundledData.labelConfig
        usesRangeKNN = false
    }

    /// Writes `labels.yaml`, `config.yaml` and then `last.safetensors` (the model last, so that
    /// a directory with a model is complete) to `out`, which must not hold a model yet; returns
    /// the model's file.
    public func write(to out: URL, source: URL) throws -> URL {
        let model = out.appendingPathComponent("last.safetensors")
        if FileManager.default.fileExists(atPath: model.path) {
            throw FormatError(file: out, reason: "already holds a model (last.safetensors); choose another --out")
        }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try AtomicFile.write(Data(labelsYAML.utf8), to: out.appendingPathComponent("labels.yaml"))
        try AtomicFile.write(Data(config.yamlText().utf8), to: out.appendingPathComponent("config.yaml"))
        try Checkpoint.save(network, to: model, metadata: ["imported_from": source.path])
        return model
    }
}
