import ArgumentParser
import CommandOptions
import Foundation
import Inference
import Pretrained
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
        let imported: ImportedModel
        if OfficialModel.isFolder(source) {
            if network != nil { throw ValidationError("--network is for a .pth/.pt file; an official folder's arch_cfg.yaml says which network it is") }
            imported = try ImportedModel(folder: source)
        } else if let network {
            imported = try ImportedModel(stateDict: source, network: network, labels: labelConfig.load(), labelsFile: labelConfig.url)
        } else {
            throw ValidationError("a .pth/.pt file holds weights only: say which network they are for with --network (\(TrainingConfig.networkNames.joined(separator: ", ")))")
        }
        _ = try imported.write(to: out, source: source)
        let a = imported.config.architecture, sensor = imported.config.sensor
        print("Imported \(imported.title): \(a.name), \(imported.network.parameterCount) parameters, \(a.classes) classes, "
            + "\(sensor.height)x\(sensor.width) images of \(a.inputs.names.joined(separator: ", ")).")
        print("Wrote \(model.path), config.yaml and labels.yaml. Next:")
        let cleanup = imported.usesRangeKNN ? " --cleanup range" : ""
        print("  rangeseg infer --checkpoint \(model.path) --label-config \(out.path)/labels.yaml\(cleanup) SCAN.bin --out PREDICTIONS")
        print("  rangeseg train --init \(model.path) --label-config \(out.path)/labels.yaml --dataset DATA --run RUN")
        print("  rangeseg export --checkpoint \(model.path) --onnx \(out.path)/model.onnx")
        if imported.usesRangeKNN {
            print("The folder cleans its labels with the range k-NN (post.KNN): pass --cleanup range (infer's default for the folder itself).")
        }
    }
}
