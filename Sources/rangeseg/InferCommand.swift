import ArgumentParser
import Formats
import Foundation
import PointClouds
import Projection
import SemanticKITTI
import Training

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Label scans with a trained network and write .label predictions (and PCD/PLY, PNG).",
        discussion: """
        Writes OUT/sequences/NN/predictions/NNNNNN.label with raw SemanticKITTI ids (through the \
        config's learning_map_inv), the layout the official evaluator reads, for every scan of \
        --sequences under --dataset; or OUT/<name>.label for scan files given as arguments \
        (.bin, .pcd, .ply). The network's settings come from config.yaml beside the checkpoint.

        Examples:
          rangeseg infer --checkpoint out/runs/sub/best.safetensors --dataset out/synthetic --sequences 08 --out out/pred
          rangeseg infer --checkpoint out/runs/sub/best.safetensors scan.pcd --out out/one --format label,ply --png
        """
    )

    @Option(help: "Model checkpoint (.safetensors) written by rangeseg train.")
    var checkpoint: String

    @Option(help: "Training configuration of the checkpoint (default: config.yaml beside it).")
    var trainConfig: String?

    @Option(help: "Dataset root in the SemanticKITTI layout.")
    var dataset: String?

    @Option(help: "Sequences to label, comma-separated (default: the label config's valid split).")
    var sequences: String?

    @Argument(help: "Scan files (.bin, .pcd, .ply) to label instead of a dataset.")
    var scans: [String] = []

    @Option(help: "Output root.")
    var out: String

    @Option(help: "Outputs per scan, comma-separated: label, pcd, ply.")
    var format: String = "label"

    @Option(help: "Clean-up of the reprojected predictions: none, range (RangeNet++'s range-image k-NN) or 3d (PCL k-d tree).")
    var cleanup: Cleanup = .none

    @Flag(help: "Also write a PNG of each predicted range image (range on top, classes below).")
    var png = false

    @Flag(help: "Also write the logits [1, C, H, W] as <name>.logits.npy and, for labelled scans, the pixel labels [1, H, W] (learning ids) as <name>.labels.npy: the inputs of rangeseg loss.")
    var arrays = false

    @OptionGroup var labelConfig: LabelConfigOption

    enum Cleanup: String, ExpressibleByArgument, CaseIterable { case none, range, threeD = "3d" }

    func validate() throws {
        if dataset == nil, scans.isEmpty { throw ValidationError("give --dataset (with --sequences) or scan files") }
        let formats = format.split(separator: ",").map(String.init)
        if formats.isEmpty || formats.contains(where: { !["label", "pcd", "ply"].contains($0) }) {
            throw ValidationError("--format takes label, pcd and ply, comma-separated")
        }
    }

    func run() throws {
        let labels = try labelConfig.load()
        let checkpointURL = URL(fileURLWithPath: checkpoint)
        let configURL = trainConfig.map { URL(fileURLWithPath: $0) } ?? checkpointURL.deletingLastPathComponent().appendingPathComponent("config.yaml")
        let config = try TrainingConfig(yaml: configURL)
        let segmenter = try Segmenter(checkpoint: checkpointURL, config: config, labels: labels)
        let lookup = labels.lookup()
        let outRoot = URL(fileURLWithPath: out)
        let formats = Set(format.split(separator: ",").map(String.init))

        // (input scan, its labels if any, output stem without extension, .label path)
        var jobs: [(scan: URL, truth: URL?, stem: URL, label: URL)] = []
        if let dataset {
            let names = sequences.map { $0.split(separator: ",").map { DatasetLayout.normalise(String($0)) } }
                ?? labels.split.valid.map { String(format: "%02d", $0) }
            for name in names {
                let sequence = try Sequence(directory: DatasetLayout.sequenceDirectory(root: URL(fileURLWithPath: dataset), sequence: name))
                for frame in sequence.frames {
                    let label = DatasetLayout.predictionFile(root: outRoot, sequence: sequence.name, frame: frame.id)
                    jobs.append((frame.scan, frame.labels, label.deletingPathExtension(), label))
                }
            }
        }
        for path in scans {
            let url = URL(fileURLWithPath: path)
            let stem = outRoot.appendingPathComponent(url.deletingPathExtension().lastPathComponent)
            jobs.append((url, nil, stem, stem.appendingPathExtension("label")))
        }
        let bar = ProgressBar("infer", total: jobs.count, unit: "scans")
        let started = Date()
        var points = 0
        for job in jobs {
            let scan = try PointCloudFile.readScan(job.scan)
            let prediction = segmenter.predict(scan, knn: cleanup == .range ? RangeKNN() : nil)
            var classes = prediction.points
            let (pixels, image) = (prediction.pixels, prediction.image)
            if cleanup == .threeD {
                classes = KNNCleanup3D()(classes.map { UInt32($0) }, scan: scan).map { Int32($0) }
            }
            let raw = lookup.rawLabels(learning: classes)
            if formats.contains("label") { try raw.write(label: job.label) }
            let colors = labels.colors
            if formats.contains("pcd") {
                try PointCloudFile.write(pcd: job.stem.appendingPathExtension("pcd"), scan: scan, labels: raw, colors: colors)
            }
            if formats.contains("ply") {
                try PointCloudFile.write(ply: job.stem.appendingPathExtension("ply"), scan: scan, labels: raw, colors: colors)
            }
            if png {
                let rawPixels = pixels.map { Int32(lookup.toRaw[Int($0)]) }
                try RGBImage.stacked([image.rangePicture(), image.labelPicture(rawIDs: rawPixels, config: labels)].map { $0.stretchedVertically(by: 2) }, gap: 4)
                    .write(png: job.stem.appendingPathExtension("png"))
            }
            if arrays {
                let (c, h, w) = (config.architecture.classes, config.sensor.height, config.sensor.width)
                try NumPyArray(prediction.logits, shape: [1, c, h, w]).write(npy: job.stem.appendingPathExtension("logits.npy"))
                if let truth = job.truth {
                    let ids = try lookup.learningIDs(of: ScanLabels(label: truth, pointCount: scan.count), file: truth)
                    try NumPyArray(image.pixels(from: ids, empty: 0), shape: [1, h, w]).write(npy: job.stem.appendingPathExtension("labels.npy"))
                }
            }
            points += scan.count
            bar.advance()
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)
        print(String(format: "Labelled %d scans (%d points) in %.1f s: %.2f scans/s. Predictions under %@",
                     jobs.count, points, seconds, Double(jobs.count) / seconds, outRoot.path))
    }
}
