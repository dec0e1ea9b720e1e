import ArgumentParser
import Engine
import Foundation
import RangeSegKit
import SemanticKITTI
import Training

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Label scans with a trained network and write .label predictions (and PCD/PLY, PNG).",
        discussion: """
        Writes OUT/sequences/NN/predictions/NNNNNN.label with raw SemanticKITTI ids (through the \
        label config's learning_map_inv), the layout the official evaluator reads, for every scan \
        of --sequences under --dataset; or OUT/<name>.label for scan files given as arguments \
        (.bin, .pcd, .ply). The network's settings come from config.yaml beside the checkpoint.

        Examples:
          rangeseg infer --checkpoint out/runs/sub/best.safetensors --dataset \\
            out/synthetic --sequences 08 --out out/pred
          rangeseg infer --checkpoint out/runs/sub/best.safetensors scan.pcd --out \\
            out/one --format label,ply --png
        """
    )

    @Option(help: "Model checkpoint (.safetensors) written by rangeseg train.", transform: { URL(fileURLWithPath: $0) })
    var checkpoint: URL

    @Option(help: "Training configuration of the checkpoint (default: config.yaml beside it).", transform: { URL(fileURLWithPath: $0) })
    var trainConfig: URL?

    @Option(help: "Arithmetic of the network: fp32, or bf16 mixed precision (default: the training configuration's precision).")
    var precision: Precision?

    @Option(help: "Dataset root in the SemanticKITTI layout.", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL?

    @Option(help: ArgumentHelp("Sequences to label, e.g. 08 (default: the label config's valid split).", valueName: "list"))
    var sequences: NameList?

    @Argument(help: "Scan files (.bin, .pcd, .ply) or sequence directories to label instead of a dataset.",
              transform: { URL(fileURLWithPath: $0) })
    var scans: [URL] = []

    @Option(help: "Output root.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: ArgumentHelp("Outputs per scan: label, pcd, ply.", valueName: "list"))
    var format: NameList = NameList(argument: "label")!

    @Option(help: "Clean-up of the reprojected predictions: none, range (RangeNet++'s range-image k-NN) or 3d (PCL k-d tree).")
    var cleanup: Cleanup = .none

    @Flag(help: "Also write a PNG of each predicted range image (range on top, classes below).")
    var png = false

    @Flag(help: "Also write the logits [1, C, H, W] as <name>.logits.npy and, for labelled scans, the pixel labels [1, H, W] (learning ids) as <name>.labels.npy: the inputs of rangeseg loss.")
    var arrays = false

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if dataset == nil, scans.isEmpty { throw ValidationError("give --dataset (with --sequences) or scan files") }
        if format.names.contains(where: { !["label", "pcd", "ply"].contains($0) }) {
            throw ValidationError("--format takes label, pcd and ply, comma-separated")
        }
    }

    func run() throws {
        let labels = try labelConfig.load()
        var config = try checkpointConfig(checkpoint, trainConfig: trainConfig)
        if let precision { config.precision = precision }
        printPrecisionNotice(config.precision)
        var labelling = Labelling(segmenter: try Segmenter(checkpoint: checkpoint, config: config, labels: labels), labels: labels)
        labelling.cleanup = cleanup
        labelling.outputs.label = format.names.contains("label")
        labelling.outputs.pcd = format.names.contains("pcd")
        labelling.outputs.ply = format.names.contains("ply")
        labelling.outputs.picture = png
        labelling.outputs.arrays = arrays

        var items: [ScanItem] = []
        if let dataset {
            let names = sequences?.names ?? labels.split.valid.map { String(format: "%02d", $0) }
            items += try ScanSource.items(dataset: dataset, sequences: ScanSource.sequenceNames(names))
        }
        items += try ScanSource.items(scans)
        let bar = ProgressBar("infer", total: items.count, unit: "scans")
        let summary = try labelling.run(items, out: out) { bar.advance() }
        bar.finish()
        print(String(format: "Labelled %d scans (%d points) in %.1f s: %.2f scans/s. Predictions under %@",
                     summary.scans, summary.points, summary.seconds, summary.scansPerSecond, out.path))
    }
}
