import ArgumentParser
import CommandOptions
import Configuration
import Engine
import Foundation
import Inference
import Pretrained
import Projection
import RangeSegKit
import SemanticKITTI

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Label scans with a trained network and write .label predictions (and PCD/PLY, PNG).",
        discussion: """
        Writes OUT/sequences/NN/predictions/NNNNNN.label with raw SemanticKITTI ids (through the \
        label config's learning_map_inv), the layout the official evaluator reads, for every scan \
        of --sequences under a SemanticKITTI --dataset; OUT/NAME/<frame>.label for a dataset of \
        point-cloud folders (NAME/*.pcd, *.ply); or OUT/<name>.label for scan files given as \
        arguments (.bin, .pcd, .ply). The network's settings come from config.yaml beside the \
        checkpoint.

        --checkpoint also takes an official pretrained model folder as downloaded: RangeNet++'s \
        (darknet21, darknet53, darknet53-512, darknet53-1024: arch_cfg.yaml, data_cfg.yaml, \
        backbone, segmentation_decoder, segmentation_head) or SalsaNext's (arch_cfg.yaml, \
        data_cfg.yaml, SalsaNext). Its network, image size, normalisation and k-NN clean-up \
        come from arch_cfg.yaml and its labels from data_cfg.yaml; the PyTorch files are read \
        as data, never run.

        Examples:
          rangeseg infer --checkpoint out/runs/sub/best.safetensors --dataset \\
            out/synthetic --sequences 08 --out out/pred
          rangeseg infer --checkpoint out/runs/sub/best.safetensors scan.pcd --out \\
            out/one --format label,ply --png
          rangeseg infer --checkpoint ~/models/darknet53 --dataset /data/kitti \\
            --sequences 08 --out out/darknet53
        """
    )

    @Option(help: ArgumentHelp("Model checkpoint (.safetensors) written by rangeseg train or import, or an official RangeNet++ or SalsaNext model folder.",
                               valueName: "file|folder"),
            transform: { URL(fileURLWithPath: $0) })
    var checkpoint: URL

    @Option(help: "Training configuration of the checkpoint (default: config.yaml beside it).", transform: { URL(fileURLWithPath: $0) })
    var trainConfig: URL?

    @Option(help: "Arithmetic of the network: fp32, bf16 mixed precision, or auto (bf16 where this CPU runs it faster; default: the training configuration's precision, auto for an official folder).")
    var precision: Precision?

    @Option(help: "Dataset root: SemanticKITTI's layout, or a folder of point-cloud sequences (NAME/*.pcd or *.ply).", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL?

    @Option(help: ArgumentHelp("Sequences to label, e.g. 08 (default: the label config's valid split for SemanticKITTI, every folder of a point-cloud folder dataset).", valueName: "list"))
    var sequences: NameList?

    @Argument(help: "Scan files (.bin, .pcd, .ply) or sequence directories to label instead of a dataset.",
              transform: { URL(fileURLWithPath: $0) })
    var scans: [URL] = []

    @Option(help: "Output root.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: ArgumentHelp("Outputs per scan: label, pcd, ply.", valueName: "list"))
    var format: NameList = NameList(argument: "label")!

    @Option(help: "Clean-up of the reprojected predictions: none, range (RangeNet++'s range-image k-NN) or 3d (PCL k-d tree) (default: none; for an official folder, what its arch_cfg.yaml's post.KNN says).")
    var cleanup: Cleanup?

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
        var labelling = try Labelling(checkpoint: checkpoint, trainConfig: trainConfig, labelConfig: labelConfig.url,
                                      precision: precision, cleanup: cleanup)
        printPrecisionNotice(labelling.segmenter.config.precision)
        if let model = labelling.officialModel { print("\(model.summary), \(labelling.cleanupSummary).") }
        let labels = labelling.labels
        labelling.outputs.label = format.names.contains("label")
        labelling.outputs.pcd = format.names.contains("pcd")
        labelling.outputs.ply = format.names.contains("ply")
        labelling.outputs.picture = png
        labelling.outputs.arrays = arrays

        var items: [ScanItem] = []
        if let root = dataset {
            let dataset = try DatasetLayouts.open(root: root)
            items += try ScanSource.items(dataset: dataset, sequences: ScanSource.sequences(sequences?.names, of: dataset, labels: labels))
        }
        items += try ScanSource.items(scans)
        let bar = ProgressBar("infer", total: items.count, unit: "scans")
        let summary = try labelling.run(items, out: out) { bar.advance() }
        bar.finish()
        print(String(format: "Labelled %d scans (%d points) in %.1f s: %.2f scans/s, precision %@. Predictions under %@",
                     summary.scans, summary.points, summary.seconds, summary.scansPerSecond,
                     labelling.segmenter.config.precision.choiceOnThisCPU.description, out.path))
    }
}
