import Engine
import Evaluation
import Formats
import Foundation
import Inference
import Losses
import RangeSegKit
import SemanticKITTI
import Testing
import TestSupport
import Training

/// A small network for debug builds: 64 x 512 images, three narrow stages.
func smallConfig(epochs: Int = 1, loss: LossSpec = LossSpec(.subclassified)) -> TrainingConfig {
    var config = TrainingConfig()
    config.sensor.width = 512
    config.architecture.widths = [8, 16, 32]
    config.architecture.blocks = [1, 1, 1]
    config.batchSize = 1
    config.epochs = epochs
    config.loss.terms = loss
    config.trainSequences = ["00"]
    config.validSequences = ["00"]
    config.preciseBatchNormScans = 1
    config.schedule.warmupEpochs = 0
    config.seed = 3
    return config
}

/// A segmenter with the small network's initial weights.
func untrainedSegmenter(_ labels: LabelConfig) throws -> Segmenter {
    let config = smallConfig()
    let segmenter = Segmenter(model: try TrainingStep(config: config, labels: labels).model, config: config,
                              builder: SampleBuilder(sensor: config.sensor, lookup: labels.lookup()))
    segmenter.model.eval()
    return segmenter
}

@Suite(.serialized, .enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
struct RangeSegKitTests {
    @Test func scanSourcesFindScansLabelsAndOutputNames() throws {
        try SampleData.require()
        let sequence = try ScanSource.items([SampleData.sequence00])
        #expect(sequence.count == 6 && sequence.filter { $0.labels != nil }.count == 3)
        #expect(sequence[0].group == "00" && sequence[0].name == "000000" && sequence[0].sequence == "00")
        let file = try ScanSource.items([SampleData.scan(1)], labels: SampleData.labels(1))
        #expect(file == [ScanItem(scan: SampleData.scan(1), labels: SampleData.labels(1), name: "000001")])
        let folder = try ScanSource.items([SampleData.sequence00.appendingPathComponent("velodyne")])
        #expect(folder.count == 6 && folder[0].group == "velodyne" && folder[0].labels == nil)
        let dataset = try ScanSource.items(dataset: SemanticKITTIDataset(root: SampleData.root), sequences: ["0"], labelledOnly: true)
        #expect(dataset.map(\.name) == ["000000", "000001", "000002"])
        let missing = #expect(throws: InputError.self) { try ScanSource.items([SampleData.root.appendingPathComponent("nothing.bin")]) }
        #expect(missing?.description.hasSuffix("nothing.bin: no such file or directory") == true)
        #expect(throws: InputError.self) { try ScanSource.items([SampleData.scan(0), SampleData.scan(1)], labels: SampleData.labels(0)) }
        let out = URL(fileURLWithPath: "/tmp/x")
        #expect(throws: InputError.self) { try ScanSource.checkDistinctOutputs([out, out.appendingPathComponent("../x")]) }
    }

    @Test func rangeImageExportWritesArchivesAndPictures() throws {
        try SampleData.require()
        let out = SampleData.temporaryDirectory("kit-project")
        var export = RangeImageExport(projection: .init(height: 64, width: 1024), labels: try LabelConfig.semanticKITTI)
        export.pictures = true
        let counter = Counter()
        let summary = try export.run(try ScanSource.items([SampleData.scan(0)], labels: SampleData.labels(0)), out: out) { counter.add() }
        #expect(summary.scans == 1 && counter.value == 1 && summary.skippedPoints == 0)
        let archive = try NumPyArchive(npz: out.appendingPathComponent("000000.npz"))
        #expect(archive["proj_range"]?.shape == [64, 1024] && archive["proj_sem_label"] != nil)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("000000.png").path))
        // Labels need a label config.
        export.labels = nil
        #expect(throws: InputError.self) { try export.run(try ScanSource.items([SampleData.scan(0)], labels: SampleData.labels(0)), out: out) }
    }

    /// Labelling with either overlap writes the bytes of labelling one scan after another, for
    /// all six scans and with each clean-up; a broken scan in the middle stops it with the file's
    /// name (no hang), and the scans before it are written.
    @Test func overlappedLabellingWritesWhatOneAfterAnotherDoes() throws {
        try SampleData.require()
        let labels = try LabelConfig.semanticKITTI
        let segmenter = try untrainedSegmenter(labels)
        let items = try ScanSource.items([SampleData.sequence00.appendingPathComponent("velodyne")])
        #expect(items.count == 6)
        let out = SampleData.temporaryDirectory("kit-pipeline")
        defer { try? FileManager.default.removeItem(at: out) }
        for cleanup in Cleanup.allCases {
            var labelling = Labelling(segmenter: segmenter, labels: labels)
            labelling.cleanup = cleanup
            let single = out.appendingPathComponent("\(cleanup)-single")
            #expect(try items.map { try labelling.label($0, out: single) }.reduce(0, +) == 745_811)
            let expected = try items.map { try Data(contentsOf: Labelling.stem(of: $0, under: single).appendingPathExtension("label")) }
            for overlap in Labelling.Overlap.allCases {
                labelling.overlap = overlap
                let dir = out.appendingPathComponent("\(cleanup)-\(overlap)")
                var progress = 0
                let summary = try labelling.run(items, out: dir) { progress += 1 }
                #expect(summary.scans == 6 && progress == 6 && summary.points == 745_811)
                let files = try items.map { try Data(contentsOf: Labelling.stem(of: $0, under: dir).appendingPathExtension("label")) }
                #expect(files == expected, "\(cleanup), overlap \(overlap)")
            }
        }
        let broken = out.appendingPathComponent("broken.bin")
        try Data(count: 10).write(to: broken)
        var mixed = try ScanSource.items([SampleData.scan(0), SampleData.scan(1), broken, SampleData.scan(2)])
        mixed[2].name = "broken"
        for overlap in Labelling.Overlap.allCases {
            var labelling = Labelling(segmenter: segmenter, labels: labels)
            labelling.overlap = overlap
            let dir = out.appendingPathComponent("mixed-\(overlap)")
            #expect(throws: (any Error).self) { _ = try labelling.run(mixed, out: dir) }
            do { _ = try labelling.run(mixed, out: dir) } catch { #expect("\(error)".contains("broken.bin"), "\(error)") }
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("000001.label").path))
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("000002.label").path), "the scans after the broken one are not labelled")
        }
    }

    @Test func labellingThenScoringEveryCleanUp() throws {
        try SampleData.require()
        let labels = try LabelConfig.semanticKITTI
        let out = SampleData.temporaryDirectory("kit-infer")
        var labelling = Labelling(segmenter: try untrainedSegmenter(labels), labels: labels)
        labelling.outputs.pcd = true
        labelling.outputs.arrays = true
        let items = try ScanSource.items(dataset: SemanticKITTIDataset(root: SampleData.root), sequences: ["00"], labelledOnly: true)
        let summary = try labelling.run(items, out: out)
        #expect(summary.scans == 3 && summary.points > 300_000)
        let stem = out.appendingPathComponent("sequences/00/predictions/000000")
        for ext in ["label", "pcd", "logits.npy", "labels.npy"] {
            #expect(FileManager.default.fileExists(atPath: stem.appendingPathExtension(ext).path), "\(ext)")
        }
        #expect(try NumPyArray(npy: stem.appendingPathExtension("logits.npy")).shape == [1, 20, 64, 512])

        var scoring = PredictionScoring(labels: labels)
        scoring.variants = PredictionScoring.Variant.allCases
        let reports = try scoring.run(items, predictions: out)
        #expect(Set(reports.keys) == Set(PredictionScoring.Variant.allCases))
        // Every variant scores the same labelled points.
        let points = Set(reports.values.map(\.points))
        #expect(points.count == 1 && points.first! > 200_000)
        // Scoring the predictions as written is the evaluator's confusion of the files.
        var direct = SemanticEvaluator(config: labels).emptyMatrix()
        for item in items {
            direct.merge(try SemanticEvaluator(config: labels).confusion(
                prediction: SemanticKITTIDataset.predictionFile(root: out, sequence: "00", frame: item.name), labels: item.labels!))
        }
        #expect(reports[.asWritten]!.confusion == direct)
        let table = PredictionScoring.table(reports)
        #expect(table.contains("IoU range-image k-NN") && table.contains("IoU 3-D k-NN") && table.contains("mIoU (present)"))
        let json = try JSONSerialization.jsonObject(with: PredictionScoring.json(reports)) as? [String: Any]
        #expect(Set(json.map { Array($0.keys) } ?? []) == ["as written", "range-image k-NN", "3-D k-NN"])
    }

    @Test func lossComparisonReportsAndResumes() throws {
        try SampleData.require()
        let labels = try LabelConfig.semanticKITTI
        let out = SampleData.temporaryDirectory("kit-compare")
        var comparison = LossComparison(base: smallConfig(), labels: labels, dataset: SampleData.root,
                                        losses: [LossSpec(.ce), try LossSpec(parsing: "lovasz,wce")], seeds: 1)
        comparison.maxStepsPerEpoch = 1
        comparison.extraEvaluation = .init(name: "again", dataset: SampleData.root, sequences: ["00"])
        #expect(comparison.plan(out: out).map(\.finishedEpochs) == [0, 0])
        let started = Recorder()
        let report = try comparison.run(out: out) { if case let .runStarted(run) = $0 { started.add(run.loss.description) } }
        #expect(started.values == ["ce", "lovasz+wce"])
        #expect(report.reports.map(\.count) == [1, 1])
        #expect(comparison.plan(out: out).allSatisfy { $0.isFinished })
        // The extra evaluation on the same scans gives the same numbers; the curves have the epoch.
        #expect(report.extra?.reports[1][0].meanIoU == report.reports[1][0].meanIoU)
        #expect(report.fullMarkdown().contains("again IoU in %"))
        #expect(report.kinds.isEmpty && report.kindMarkdown() == nil)  // the real sample has no kinds
        #expect(report.curves.map { $0.map(\.count) } == [[1], [1]])
        #expect(report.mIoUCurves().missingGlyphs.isEmpty && report.lossCurves().texts.contains("epoch"))
        let markdown = report.markdown()
        #expect(markdown.contains("| ce | ") && markdown.contains("| lovasz+wce | ")) // as --losses writes it
        #expect(markdown.contains("| loss | mIoU | vegetation | road | "))  // by prevalence in SemanticKITTI's content
        let gains = try #require(report.gains(of: try LossSpec(parsing: "lovasz,wce"), over: LossSpec(.ce)))
        #expect(gains.count == 19)
        let chart = try #require(report.gainChart(of: try LossSpec(parsing: "lovasz,wce"), over: LossSpec(.ce)))
        #expect(chart.missingGlyphs.isEmpty, "no glyph for \(chart.missingGlyphs)")
        #expect(Set(gains.map(\.className)).isSubset(of: Set(chart.texts)), "class names cut or missing: \(chart.texts)")
        #expect(chart.texts.contains("IoU gain (points)") && chart.title.contains("lovasz+wce over ce"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lovasz+wce-seed0/best.safetensors").path))
        // A second run finds the finished runs and only evaluates them.
        let epochs = try Data(contentsOf: out.appendingPathComponent("ce-seed0/epochs.csv"))
        let restarted = Recorder()
        let again = try comparison.run(out: out) { if case let .runStarted(run) = $0 { restarted.add(run.loss.description) } }
        #expect(restarted.values.isEmpty)
        #expect(try Data(contentsOf: out.appendingPathComponent("ce-seed0/epochs.csv")) == epochs)
        #expect(again.reports[0][0].meanIoU == report.reports[0][0].meanIoU)
    }

    @Test func comparisonArmsAreLossTimesRemedyWithSeedPairedGains() throws {
        try SampleData.require()
        let labels = try LabelConfig.semanticKITTI
        let out = SampleData.temporaryDirectory("kit-compare-remedies")
        var base = smallConfig(loss: LossSpec(.ce))
        base.augmentation.rareClasses = ["car"]
        base.augmentation.mix = 0.25
        var comparison = LossComparison(base: base, labels: labels, dataset: SampleData.root, losses: [LossSpec(.ce)], seeds: 1)
        comparison.remedies = [.none, .pasteAndMix]
        comparison.maxStepsPerEpoch = 1
        let plan = comparison.plan(out: out)
        #expect(plan.map(\.directory.lastPathComponent) == ["ce-none-seed0", "ce-paste+mix-seed0"])
        // A remedy arm uses the base's value where it gives one (mix), else the standard one (paste).
        #expect(plan.map(\.config.augmentation.paste) == [0, DataRemedy.standardPaste])
        #expect(plan.map(\.config.augmentation.mix) == [0, 0.25])
        #expect(plan.allSatisfy { $0.config.seed == 0 && $0.config.augmentation.rareClasses == ["car"] })
        let started = Recorder()
        let report = try comparison.run(out: out) { if case let .runStarted(run) = $0 { started.add(run.arm.description) } }
        #expect(started.values == ["ce, none", "ce, paste+mix"])
        #expect(report.arms.map(\.remedy) == [DataRemedy.none, .pasteAndMix] && report.reports.map(\.count) == [1, 1])
        let written = try TrainingConfig(yaml: RunDirectory(out.appendingPathComponent("ce-paste+mix-seed0")).config)
        #expect(written.augmentation.paste == DataRemedy.standardPaste && written.augmentation.mix == 0.25)
        let markdown = report.markdown()
        #expect(markdown.contains("| loss | remedy | mIoU | vegetation | "))
        #expect(markdown.contains("| ce | none | ") && markdown.contains("| ce | paste+mix | "))
        // The chart's default: the last remedy over the first, with the same loss and seeds.
        let chart = try report.write(to: out).gainChart
        #expect(chart?.lastPathComponent == "gain.png")
        let gains = try #require(report.gains(of: ComparisonArm(loss: LossSpec(.ce), remedy: .pasteAndMix),
                                              over: ComparisonArm(loss: LossSpec(.ce), remedy: DataRemedy.none)))
        #expect(gains.count == 19)
        let figure = try #require(report.gainChart(of: report.arms[1], over: report.arms[0]))
        #expect(figure.title.contains("ce, paste+mix over ce, none"))
        // In the curves, the remedy arm has its loss's colour, lighter.
        let (none, remedied) = (report.curveColor(of: report.arms[0], index: 0), report.curveColor(of: report.arms[1], index: 1))
        #expect(none == Chart.palette[0] && remedied.0 > none.0 && remedied.1 > none.1 && remedied.2 > none.2, "\(none) \(remedied)")
        // Finished arms are only evaluated when run again.
        let restarted = Recorder()
        _ = try comparison.run(out: out) { if case let .runStarted(run) = $0 { restarted.add(run.arm.description) } }
        #expect(restarted.values.isEmpty)
    }

    @Test func lossOnArraysGivesValueGradientAndWeightPicture() throws {
        let (logits, labels) = LossBenchmark.imbalancedBatch(batch: 2, classes: 4, height: 8, width: 32)
        let arrays = try LossOnArrays(logits: NumPyArray(logits.scalars, shape: [2, 4, 8, 32]),
                                      labels: NumPyArray(labels.map(Int64.init), shape: [2, 8, 32]), logitsFile: "z", labelsFile: "y")
        var loss = try CombinedLoss(LossConfig(), classes: 4)
        let result = try arrays.evaluate(&loss)
        #expect(result.value == (try subclassifiedLoss(logits: logits, labels: labels).scalar))
        #expect(result.gradient.count == 2 * 4 * 8 * 32 && result.gradient.contains { $0 != 0 })
        let weights = try #require(result.pixelWeights)
        let picture = arrays.weightPicture(weights, ignoreIndex: 0)
        #expect(picture.width == 32 && picture.height == 2 * 8 * 16 + 4)
        let mismatch = #expect(throws: InputError.self) {
            try LossOnArrays(logits: NumPyArray(logits.scalars, shape: [2, 4, 8, 32]),
                             labels: NumPyArray(labels.map(Int64.init), shape: [2, 256]), logitsFile: "z", labelsFile: "y")
        }
        #expect(mismatch?.description == "y: labels must be [2, 8, 32] to match the logits, found [2, 256]")
    }
}

/// Collects strings from any thread.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var values: [String] { lock.withLock { items } }
    func add(_ item: String) { lock.withLock { items.append(item) } }
}

/// Counts calls from any thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add() { lock.withLock { count += 1 } }
}
