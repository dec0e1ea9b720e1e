import Configuration
import Engine
import Formats
import Foundation
import Inference
import Projection
import Random
import SemanticKITTI
import TorchCheckpoint

/// A pretrained model folder as the official projects publish it, read without running any of
/// its code: the network, sensor and clean-up from `arch_cfg.yaml`, the labels from
/// `data_cfg.yaml`, the weights from the PyTorch files (`TorchCheckpoint`, which interprets
/// tensors and containers and refuses code).
///
/// - RangeNet++ (PRBonn/lidar-bonnetal: darknet21, darknet53, darknet53-512, darknet53-1024):
///   `backbone`, `segmentation_decoder` and `segmentation_head`, each a state dict.
/// - SalsaNext (TiagoCortinhal/SalsaNext): `SalsaNext`, a dict whose `state_dict` has the keys
///   of `nn.DataParallel` (`module.`...); its optimizer, scheduler and `info` are not read.
///
/// ```swift
/// let model = try OfficialModel(folder: URL(fileURLWithPath: "darknet53"))
/// let segmenter = try model.segmenter()
/// let points = segmenter.predict(scan, knn: model.knn).points
/// ```
public struct OfficialModel: Sendable {
    public enum Origin: String, Sendable {
        case rangeNet = "RangeNet++"
        case salsaNext = "SalsaNext"
    }

    public let folder: URL
    public let origin: Origin
    /// RangeSeg's configuration of the network: its architecture and sensor (size, field of
    /// view, normalisation); training settings are RangeSeg's defaults.
    public let config: TrainingConfig
    /// The folder's `data_cfg.yaml`, and its text (which `rangeseg import` copies).
    public let labels: LabelConfig
    public let labelConfigText: String
    /// The k-NN clean-up of `post.KNN`, when `use` is True.
    public let knn: RangeKNN?

    /// One line on the model: what it is, where from, how it sees scans.
    public var summary: String {
        let a = config.architecture, sensor = config.sensor
        return "\(origin.rawValue) \(a.name) from \(folder.path): \(a.classes) classes, \(sensor.height)x\(sensor.width) images of \(a.inputs.names.joined(separator: ", "))"
    }
    /// The weights under RangeSeg's (the official module's) names, checked against the network.
    public let stateDict: SafeTensors

    /// The files of each kind of folder, in the order they are read.
    public static let rangeNetFiles = ["backbone", "segmentation_decoder", "segmentation_head"]
    public static let salsaNextFile = "SalsaNext"

    /// Whether `url` is a directory (an official folder rather than a checkpoint file).
    public static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    public init(folder: URL) throws(FormatError) {
        self.folder = folder
        func file(_ name: String) -> URL { folder.appendingPathComponent(name) }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name).path) }
        guard Self.isFolder(folder) else { throw FormatError(file: folder, reason: "is not a directory (an official model folder)") }
        let missingConfigs = ["arch_cfg.yaml", "data_cfg.yaml"].filter { !exists($0) }
        if !missingConfigs.isEmpty {
            throw FormatError(file: folder, reason: "is not an official model folder: \(missingConfigs.joined(separator: " and ")) missing (a RangeNet++ or SalsaNext download has arch_cfg.yaml, data_cfg.yaml and its weights)")
        }
        let archFile = file("arch_cfg.yaml")
        let arch = try YAMLFile.decode(OfficialArchConfig.self, from: archFile)
        labelConfigText = try YAMLFile.read(file("data_cfg.yaml"))
        labels = try LabelConfig(yamlText: labelConfigText, file: file("data_cfg.yaml").path)
        var config = try TrainingConfig.defaults
        config.sensor = try arch.sensor(file: archFile)
        knn = try arch.knn(file: archFile)

        var tensors: [(name: String, tensor: TorchTensor, file: String)] = []
        if exists(Self.salsaNextFile) {
            origin = .salsaNext
            var a = SalsaNext.defaultArchitecture
            a.classes = labels.classCount
            config.architecture = a
            let source = file(Self.salsaNextFile)
            let checkpoint = try TorchCheckpoint(contentsOf: source)
            tensors = try TorchStateDict.withoutPrefix("module.", checkpoint.stateDict(at: ["state_dict"]))
                .map { ($0.name, $0.tensor, source.path) }
        } else if exists(Self.rangeNetFiles[0]) || arch.backbone != nil {
            origin = .rangeNet
            config.architecture = try arch.darkNet(classes: labels.classCount, file: archFile)
            let missing = Self.rangeNetFiles.filter { !exists($0) }
            if !missing.isEmpty {
                throw FormatError(file: folder, reason: "RangeNet++ folder without \(missing.joined(separator: ", ")): it needs backbone, segmentation_decoder and segmentation_head")
            }
            for (name, prefix) in zip(Self.rangeNetFiles, ["backbone.", "decoder.", "head."]) {
                let source = file(name)
                tensors += try TorchCheckpoint(contentsOf: source).stateDict().map { (prefix + $0.name, $0.tensor, source.path) }
            }
        } else {
            throw FormatError(file: folder, reason: "has neither a SalsaNext file nor RangeNet++'s backbone, segmentation_decoder and segmentation_head")
        }
        let problems = config.problems
        if !problems.isEmpty { throw FormatError(file: archFile, reason: problems.joined(separator: "; ")) }
        self.config = config
        stateDict = try TorchStateDict.safeTensors(tensors, metadata: ["source": folder.path, "origin": origin.rawValue])
    }

    /// The network with the folder's weights, in evaluation mode. The names and shapes must be
    /// exactly the network's; the error lists the first few that are not.
    public func network() throws(FormatError) -> any SegmentationNetwork {
        var generator = RandomGenerator(seed: 0)
        let model = Networks.make(config.architecture, generator: &generator)
        let a = config.architecture
        do {
            try Checkpoint.load(stateDict, into: model, source: folder.path)
        } catch {
            throw FormatError(file: folder, reason: "the weights do not fit \(a.name) with \(a.classes) classes (data_cfg.yaml) and \(a.inputChannels) input channels (arch_cfg.yaml): \(error.reason)")
        }
        model.eval()
        return model
    }

    /// A segmenter with the folder's weights, in `precision` (float32 by default: the
    /// official models' arithmetic).
    public func segmenter(precision: Precision = .fp32) throws(FormatError) -> Segmenter {
        var config = config
        config.precision = precision
        return Segmenter(model: try network(), config: config, builder: SampleBuilder(config: config, lookup: labels.lookup()))
    }
}
