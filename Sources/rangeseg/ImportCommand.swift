import ArgumentParser
import BundledData
import Configuration
import Engine
import Formats
import Foundation
import Inference
import Pretrained
import Random
import SemanticKITTI

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn an official RangeNet++ or SalsaNext model folder, or a PyTorch .pth/.pt state dict, into a RangeSeg run directory.",
        discussion: """
        Reads the PyTorch files as data (tensors and containers only; anything that would run \
        code is refused) and writes OUT/last.safetensors (the network's state dict under the \
        official names), OUT/config.yaml (network and sensor, as rangeseg train writes it) and \
        OUT/labels.yaml (the folder's data_cfg.yaml), so that infer, export, bench and \
        train --init take the model like one RangeSeg trained.

        A .pth/.pt file holds weights only: --network says which network they are for (its \
        state dict at the top level, or under 'state_dict' or 'model'; a 'module.' prefix is \
        dropped).

        Examples:
          rangeseg import ~/models/darknet53 --out out/darknet53
          rangeseg import ~/models/SalsaNext --out out/salsanext
          rangeseg import weights.pth --network salsanext --out out/mine
        """
    )

    @Argument(help: ArgumentHelp("An official model folder, or a .pth/.pt file.", valueName: "folder|file"),
              transform: { URL(fileURLWithPath: $0) })
    var source: URL

    @Option(help: "Run directory to write (created; must not hold a model yet).", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: ArgumentHelp("For a .pth/.pt file: the network its weights are for (\(TrainingConfig.networkNames.joined(separator: ", ")), or an architecture file).",
                               valueName: "name|yaml"))
    var network: String?

    @OptionGroup var labelConfig: LabelConfigOption

    func run() throws {
        let model = out.appendingPathComponent("last.safetensors")
        if FileManager.default.fileExists(atPath: model.path) {
            throw ValidationError("\(out.path) already holds a model (last.safetensors); choose another --out")
        }
        let imported = try OfficialModel.isFolder(source) ? importFolder() : importFile()
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try AtomicFile.write(Data(imported.labelsYAML.utf8), to: out.appendingPathComponent("labels.yaml"))
        try AtomicFile.write(Data(imported.config.yamlText().utf8), to: out.appendingPathComponent("config.yaml"))
        try Checkpoint.save(imported.network, to: model, metadata: ["imported_from": source.path])

        let a = imported.config.architecture, sensor = imported.config.sensor
        print("Imported \(imported.title): \(a.name), \(imported.network.parameterCount) parameters, \(a.classes) classes, "
            + "\(sensor.height)x\(sensor.width) images of \(a.inputs.names.joined(separator: ", ")).")
        print("Wrote \(model.path), config.yaml and labels.yaml. Next:")
        let cleanup = imported.knn ? " --cleanup range" : ""
        print("  rangeseg infer --checkpoint \(model.path) --label-config \(out.path)/labels.yaml\(cleanup) SCAN.bin --out PREDICTIONS")
        print("  rangeseg train --init \(model.path) --label-config \(out.path)/labels.yaml --dataset DATA --run RUN")
        print("  rangeseg export --checkpoint \(model.path) --onnx \(out.path)/model.onnx")
        if imported.knn {
            print("The folder cleans its labels with the range k-NN (post.KNN): pass --cleanup range (infer's default for the folder itself).")
        }
    }

    /// What an import produces.
    struct Imported {
        var title: String
        var network: any SegmentationNetwork
        var config: TrainingConfig
        var labelsYAML: String
        var knn: Bool
    }

    func importFolder() throws -> Imported {
        if network != nil { throw ValidationError("--network is for a .pth/.pt file; an official folder's arch_cfg.yaml says which network it is") }
        let official = try OfficialModel(folder: source)
        return Imported(title: "\(official.origin.rawValue) from \(source.path)", network: try official.network(),
                        config: official.config, labelsYAML: official.labelConfigText, knn: official.knn != nil)
    }

    func importFile() throws -> Imported {
        guard let network else {
            throw ValidationError("a .pth/.pt file holds weights only: say which network they are for with --network (\(TrainingConfig.networkNames.joined(separator: ", ")))")
        }
        let labels = try labelConfig.load()
        var config = try TrainingConfig.defaults
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        config.architecture = try TrainingConfig.architecture(named: network, relativeTo: here, from: "--network", key: nil)
        config.network = network
        config.architecture.classes = labels.classCount
        let stateDict = try TorchStateDict.read(source)
        var generator = RandomGenerator(seed: 0)
        let model = Networks.make(config.architecture, generator: &generator)
        try Checkpoint.load(stateDict, into: model, source: source.path)
        let labelsYAML = try labelConfig.url.map { try YAMLFile.read($0) } ?? BundledData.labelConfig
        return Imported(title: "PyTorch weights from \(source.path)", network: model, config: config, labelsYAML: labelsYAML, knn: false)
    }
}
