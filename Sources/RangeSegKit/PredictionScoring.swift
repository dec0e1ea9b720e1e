import Evaluation
import Formats
import Foundation
import Parallel
import PointClouds
import Projection
import SemanticKITTI

/// `rangeseg evaluate` as a library call: scores `.label` predictions, where the dataset's
/// layout puts them (`ScanItem.prediction`), against the labels (`.label` files, or the label
/// field of PCD and PLY scans), with the official evaluator's semantics, as written and
/// optionally after each clean-up.
///
/// ```swift
/// let scoring = PredictionScoring(labels: labels)
/// let dataset = try DatasetLayouts.open(root: root)
/// let reports = try scoring.run(try ScanSource.items(dataset: dataset, sequences: ["08"], labelledOnly: true),
///                               predictions: predictionRoot)
/// print(reports[.asWritten]!.meanIoU)
/// ```
public struct PredictionScoring: Sendable {
    /// The predictions as written, or after a clean-up.
    public enum Variant: String, Sendable, CaseIterable, Codable {
        case asWritten = "as written"
        case rangeKNN = "range-image k-NN"
        case threeD = "3-D k-NN"
    }

    public var labels: LabelConfig
    /// The range image of the clean-up variants.
    public var projection = ProjectionConfig()
    public var variants: [Variant] = [.asWritten]

    public init(labels: LabelConfig) { self.labels = labels }

    /// One report per variant, over every point of `items` (labelled dataset scans; predictions
    /// read from `predictions/<item.prediction>`). Scans run on all cores.
    public func run(_ items: [ScanItem], predictions: URL,
                    progress: @escaping @Sendable () -> Void = {}) throws -> [Variant: EvaluationReport] {
        let scored = items.filter { ($0.labels != nil || $0.labelsInScan) && $0.prediction != nil }
        guard !scored.isEmpty else { throw InputError("no labelled scans to score") }
        let evaluator = SemanticEvaluator(config: labels)
        let projector = SphericalProjection(projection)
        let lookup = labels.lookup()
        let variants = self.variants, classCount = labels.classCount
        let perScan = try parallelMap(scored.count) { i -> [ConfusionMatrix] in
            let item = scored[i]
            let predictionFile = predictions.appendingPathComponent(item.prediction!)
            var matrices: [ConfusionMatrix] = []
            if variants.contains(.asWritten), let truthFile = item.labels {
                matrices.append(try evaluator.confusion(prediction: predictionFile, labels: truthFile))
            }
            if item.labelsInScan || variants.contains(.rangeKNN) || variants.contains(.threeD) {
                let cloud = try PointCloudFile.read(item.scan, labels: item.labels)
                let scan = cloud.scan, truthFile = item.labels ?? item.scan
                guard let labels = cloud.labels else {
                    throw FormatError(file: item.scan, reason: "has no 'label' field: there is nothing to score its prediction against")
                }
                let truth = try lookup.learningIDs(of: labels, file: truthFile)
                let predicted = try lookup.learningIDs(of: try ScanLabels(label: predictionFile, pointCount: scan.count), file: predictionFile)
                if variants.contains(.asWritten), item.labels == nil {
                    var matrix = evaluator.emptyMatrix()
                    matrix.add(predictions: predicted, truth: truth)
                    matrices.append(matrix)
                }
                for variant in variants where variant != .asWritten {
                    let cleaned: [Int32]
                    if variant == .rangeKNN {
                        let image = projector.project(scan)
                        cleaned = RangeKNN().apply(to: image, pixelClasses: image.pixels(from: predicted, empty: 0), classCount: classCount)
                    } else {
                        cleaned = KNNCleanup3D()(predicted.map { UInt32($0) }, scan: scan).map { Int32($0) }
                    }
                    var matrix = evaluator.emptyMatrix()
                    matrix.add(predictions: cleaned, truth: truth)
                    matrices.append(matrix)
                }
            }
            progress()
            return matrices
        }
        var reports: [Variant: EvaluationReport] = [:]
        for (v, variant) in variants.enumerated() {
            var total = evaluator.emptyMatrix()
            for matrices in perScan { total.merge(matrices[v]) }
            reports[variant] = EvaluationReport(confusion: total, config: labels, scans: scored.count)
        }
        return reports
    }

    /// The recall of each kind of appearance over the `items` that have subclass labels
    /// (`subclasses/NNNNNN.label`, their kinds in the sequence's `subclasses.yaml`), for the
    /// predictions as written; nil when no item has them. Sequences whose `subclasses.yaml`
    /// differ are an error (score them one at a time).
    public func kindRecall(_ items: [ScanItem], predictions: URL) throws -> KindRecall? {
        let scored = items.filter { $0.subclasses != nil && $0.prediction != nil }
        guard let first = scored.first?.subclasses else { return nil }
        let file = SubclassCatalog.file(ofLabels: first)
        let catalog = try SubclassCatalog(yaml: file)
        var checked: Set<URL> = [file]
        for other in scored.map({ SubclassCatalog.file(ofLabels: $0.subclasses!) }) where checked.insert(other).inserted {
            if try SubclassCatalog(yaml: other) != catalog {
                throw InputError("\(other.path) names other kinds than \(file.path): score those sequences one at a time")
            }
        }
        let lookup = labels.lookup(), labels = self.labels
        let perScan = try parallelMap(scored.count) { i -> KindRecall in
            let item = scored[i]
            let predictionFile = predictions.appendingPathComponent(item.prediction!)
            let predicted = try lookup.learningIDs(of: ScanLabels(label: predictionFile), file: predictionFile)
            let kinds = try ScanLabels(label: item.subclasses!, pointCount: predicted.count).raw
            var recall = KindRecall(catalog: catalog, labels: labels)
            recall.add(kinds: kinds, predictions: predicted)
            return recall
        }
        var total = KindRecall(catalog: catalog, labels: labels)
        for recall in perScan { total.merge(recall) }
        return total
    }

    /// The reports as a table: per-class IoU with each variant in a column, then mIoU (over all
    /// classes, and over the classes present) and accuracy; then the recall of each kind, if given.
    public static func table(_ reports: [Variant: EvaluationReport], kinds: KindRecall? = nil) -> String {
        table(reports) + (kinds.map { "\n\n" + $0.table } ?? "")
    }

    private static func table(_ reports: [Variant: EvaluationReport]) -> String {
        let variants = Variant.allCases.filter { reports[$0] != nil }
        guard let first = variants.first.flatMap({ reports[$0] }) else { return "" }
        func column(_ v: Variant) -> Int { max(10, v.rawValue.count + 6) }
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : String(repeating: " ", count: width - text.count) + text }
        var lines = ["Scored \(first.scans) scans, \(first.points) labelled points (ignored classes left out)."]
        let header = "class".padding(toLength: 16, withPad: " ", startingAt: 0) + pad("points", 10)
            + variants.map { pad("IoU " + ($0 == .asWritten ? "" : $0.rawValue), column($0)) }.joined()
        lines.append(header)
        lines.append(String(repeating: "-", count: header.count))
        for (i, result) in first.classes.enumerated() {
            var line = result.name.padding(toLength: 16, withPad: " ", startingAt: 0) + pad(String(result.support), 10)
            for v in variants { line += pad(String(format: "%.1f%%", reports[v]!.classes[i].iou * 100), column(v)) }
            lines.append(line)
        }
        lines.append(String(repeating: "-", count: header.count))
        let summaries: [(String, (EvaluationReport) -> Double)] = [("mIoU", { $0.meanIoU }), ("mIoU (present)", { $0.meanIoUOfPresentClasses }),
                                                                    ("accuracy", { $0.accuracy })]
        for (name, value) in summaries {
            var line = name.padding(toLength: 26, withPad: " ", startingAt: 0)
            for v in variants { line += pad(String(format: "%.1f%%", value(reports[v]!) * 100), column(v)) }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// The reports as JSON, keyed by variant name (confusion matrices included).
    public static func json(_ reports: [Variant: EvaluationReport]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(Dictionary(uniqueKeysWithValues: reports.map { ($0.key.rawValue, $0.value) }))
    }
}
