import ArgumentParser
import Evaluation
import Formats
import Foundation
import PointClouds
import Projection
import SemanticKITTI

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score .label predictions against labels: per-class IoU, mIoU and accuracy.",
        discussion: """
        The semantics of SemanticKITTI's official evaluate_semantics.py: raw ids are mapped through \
        the config's learning_map, points labelled with an ignored class (unlabeled) are left out, \
        and the mean IoU averages every class that is not ignored, absent ones included (the mean \
        over classes present is printed beside it). Predictions are read from \
        PREDICTIONS/sequences/NN/predictions/NNNNNN.label, labels from DATASET/sequences/NN/labels.

        With --compare-cleanup the predictions are also cleaned up by RangeNet++'s range-image \
        k-NN and by the 3-D k-NN (PCL k-d tree) and all three are scored.

        Examples:
          rangeseg evaluate --dataset data/synthetic --predictions out/run/predictions --sequences 08
          rangeseg evaluate --dataset ../shared/data/semantickitti --predictions out/pred --sequences 00 --json scores.json
        """
    )

    @Option(help: "Dataset root holding sequences/NN/labels.")
    var dataset: String

    @Option(help: "Root holding sequences/NN/predictions (default: the dataset root).")
    var predictions: String?

    @Option(help: "Sequences to score, comma-separated (default: the config's valid split).")
    var sequences: String?

    @Option(help: "Write the report (confusion matrix included) as JSON here.")
    var json: String?

    @Flag(help: "Also score the predictions after range-image k-NN and after 3-D k-NN clean-up.")
    var compareCleanup = false

    @OptionGroup var projection: ProjectionOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func run() throws {
        let config = try labelConfig.load()
        let root = URL(fileURLWithPath: dataset)
        let predictionRoot = URL(fileURLWithPath: predictions ?? dataset)
        let names = sequences.map { $0.split(separator: ",").map { DatasetLayout.normalise(String($0)) } }
            ?? config.split.valid.map { String(format: "%02d", $0) }
        var frames: [(sequence: String, frame: Sequence.Frame)] = []
        for name in names {
            let sequence = try Sequence(directory: DatasetLayout.sequenceDirectory(root: root, sequence: name))
            frames += sequence.labelledFrames.map { (name, $0) }
        }
        guard !frames.isEmpty else { throw ValidationError("no labelled scans in sequences \(names.joined(separator: ", ")) of \(root.path)") }

        let evaluator = SemanticEvaluator(config: config)
        let variants = compareCleanup ? ["as written", "range-image k-NN", "3-D k-NN"] : ["as written"]
        let projector = SphericalProjection(projection.config)
        let lookup = config.lookup()
        let work = frames
        let bar = ProgressBar("evaluate", total: work.count, unit: "scans")
        let perScan = try parallelMap(work.count) { i -> [ConfusionMatrix] in
            let (sequence, frame) = work[i]
            let predictionFile = DatasetLayout.predictionFile(root: predictionRoot, sequence: sequence, frame: frame.id)
            var matrices = [try evaluator.confusion(prediction: predictionFile, labels: frame.labels!)]
            if variants.count > 1 {
                let scan = try Scan(bin: frame.scan)
                let truth = try lookup.learningIDs(of: try ScanLabels(label: frame.labels!, pointCount: scan.count), file: frame.labels)
                let predicted = try lookup.learningIDs(of: try ScanLabels(label: predictionFile, pointCount: scan.count), file: predictionFile)
                let image = projector.project(scan)
                let rangeKNN = RangeKNN().apply(to: image, pixelClasses: image.pixels(from: predicted, empty: 0), classCount: config.classCount)
                let spatial = KNNCleanup3D()(predicted.map { UInt32($0) }, scan: scan).map { Int32($0) }
                for cleaned in [rangeKNN, spatial] {
                    var matrix = evaluator.emptyMatrix()
                    matrix.add(predictions: cleaned, truth: truth)
                    matrices.append(matrix)
                }
            }
            bar.advance()
            return matrices
        }
        bar.finish()
        var reports: [EvaluationReport] = []
        for v in variants.indices {
            var total = evaluator.emptyMatrix()
            for matrices in perScan { total.merge(matrices[v]) }
            reports.append(EvaluationReport(confusion: total, config: config, scans: work.count))
        }
        print(Self.table(reports, variants: variants))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Dictionary(uniqueKeysWithValues: zip(variants, reports)))
            try AtomicFile.write(data, to: URL(fileURLWithPath: json))
            print("Report: \(json)")
        }
    }

    static func table(_ reports: [EvaluationReport], variants: [String]) -> String {
        let first = reports[0]
        var lines = ["Scored \(first.scans) scans, \(first.points) labelled points (ignored classes left out)."]
        let header = "class".padding(toLength: 16, withPad: " ", startingAt: 0) + "points".leftPad(10)
            + variants.map { ("IoU " + ($0 == "as written" ? "" : $0)).leftPad(max(10, $0.count + 6)) }.joined()
        lines.append(header)
        lines.append(String(repeating: "-", count: header.count))
        for (i, result) in first.classes.enumerated() {
            var line = result.name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(result.support).leftPad(10)
            for (v, report) in reports.enumerated() {
                line += String(format: "%.1f%%", report.classes[i].iou * 100).leftPad(max(10, variants[v].count + 6))
            }
            lines.append(line)
        }
        lines.append(String(repeating: "-", count: header.count))
        for (name, value) in [("mIoU", { (r: EvaluationReport) in r.meanIoU }), ("mIoU (present)", { $0.meanIoUOfPresentClasses }),
                              ("accuracy", { $0.accuracy })] {
            var line = name.padding(toLength: 26, withPad: " ", startingAt: 0)
            for (v, report) in reports.enumerated() {
                line += String(format: "%.1f%%", value(report) * 100).leftPad(max(10, variants[v].count + 6))
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
