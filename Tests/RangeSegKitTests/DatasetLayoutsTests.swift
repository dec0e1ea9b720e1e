import Evaluation
import Foundation
import Inference
import PointClouds
import RangeSegKit
import SemanticKITTI
import Testing
import TestSupport
import Training

/// The layouts a dataset root is read in, and a point-cloud folder dataset through labelling,
/// scoring and training as a SemanticKITTI one goes.
@Suite(.serialized, .enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
struct DatasetLayoutsTests {
    /// The sample's sequence 00 converted to PCD, as `rangeseg convert --to pcd` writes it: `root/00/*.pcd`.
    static func converted(_ name: String) throws -> URL {
        try SampleData.require()
        let root = SampleData.temporaryDirectory(name)
        _ = try PointCloudConversion(format: .pcd).run(try ScanSource.items([SampleData.sequence00]), out: root)
        return root
    }

    @Test func theLayoutIsChosenFromTheRoot() throws {
        #expect(try DatasetLayouts.open(root: SampleData.root) is SemanticKITTIDataset)
        let folder = try Self.converted("layouts-pcd")
        let dataset = try DatasetLayouts.open(root: folder)
        #expect(dataset is PointCloudFolderDataset)
        #expect(try dataset.sequences() == ["00"])
        // Convert wrote every scan, the labelled ones with a label field.
        let frames = try dataset.frames(sequence: "00")
        #expect(frames.count == 6)
        #expect(try dataset.read(frames[2], labels: true).labels == (try ScanLabels(label: SampleData.labels(2))))
        #expect(try dataset.read(frames[3], labels: false).scan == (try Scan(bin: SampleData.scan(3))))

        let empty = SampleData.temporaryDirectory("layouts-empty")
        let error = #expect(throws: InputError.self) { try DatasetLayouts.open(root: empty) }
        #expect(error?.description.hasPrefix("\(empty.path): not a dataset in a layout RangeSeg reads") == true)
        let missing = #expect(throws: InputError.self) { try DatasetLayouts.open(root: empty.appendingPathComponent("nope")) }
        #expect(missing?.description == "\(empty.path)/nope: no such dataset directory")
    }

    @Test func labellingAndScoringAFolderOfPointClouds() throws {
        let root = try Self.converted("layouts-label")
        let dataset = try DatasetLayouts.open(root: root)
        let labels = try LabelConfig.semanticKITTI
        #expect(try ScanSource.sequences(nil, of: dataset, labels: labels) == ["00"])
        // Only the first three have a label field.
        let items = try ScanSource.items(dataset: dataset, sequences: ["00"], labelledOnly: true)
        #expect(items.map(\.name) == ["000000", "000001", "000002"])
        #expect(items.allSatisfy { $0.labels == nil && $0.labelsInScan && $0.prediction == "00/\($0.name).label" })
        let out = SampleData.temporaryDirectory("layouts-label-out")
        var labelling = Labelling(segmenter: try untrainedSegmenter(labels), labels: labels)
        labelling.outputs.arrays = true
        _ = try labelling.run(items, out: out)
        for ext in ["label", "logits.npy", "labels.npy"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("00/000000.\(ext)").path), "\(ext)")
        }
        // Scoring the PCDs' label fields is scoring the .label files they came from.
        var scoring = PredictionScoring(labels: labels)
        scoring.variants = PredictionScoring.Variant.allCases
        let reports = try scoring.run(items, predictions: out)
        var direct = SemanticEvaluator(config: labels).emptyMatrix()
        for item in items {
            direct.merge(try SemanticEvaluator(config: labels).confusion(prediction: out.appendingPathComponent(item.prediction!),
                                                                         labels: SampleData.labels(Int(item.name)!)))
        }
        #expect(reports[.asWritten]!.confusion == direct)
        #expect(Set(reports.values.map(\.points)).count == 1)

        // A file said to hold labels that has none is named.
        let unlabelled = root.appendingPathComponent("00/000003.pcd")
        let claimed = ScanItem(scan: unlabelled, group: "00", name: "000003", sequence: "00", prediction: "00/000000.label", labelsInScan: true)
        let error = #expect(throws: (any Error).self) { try PredictionScoring(labels: labels).run([claimed], predictions: out) }
        #expect("\(error!)".contains("000003.pcd: has no 'label' field"), "\(error!)")
    }

    @Test func trainingNeedsSequencesOutsideSemanticKITTI() throws {
        let root = try Self.converted("layouts-train")
        let dataset = try DatasetLayouts.open(root: root)
        var config = smallConfig()
        config.trainSequences = []
        let run = SampleData.temporaryDirectory("layouts-train-run")
        let error = #expect(throws: TrainingError.self) { try Trainer(config: config, labels: try LabelConfig.semanticKITTI, dataset: dataset, run: run) }
        #expect(error?.description.contains("--train-sequences") == true && error?.description.contains("its sequences: 00") == true)
    }
}
