import Evaluation
import Formats
import Foundation
import Inference
import Losses
import RangeSegKit
import SemanticKITTI
import Testing
import TestSupport

/// The recall of each kind of appearance, from a sequence's `subclasses/` and `subclasses.yaml`,
/// on a hand-made scan whose every number is known.
@Suite struct KindRecallTests {
    @Test func evaluateCountsEachKindAndTheRareOnes() throws {
        let root = try handMadeSequence("kinds")
        defer { try? FileManager.default.removeItem(at: root) }
        let sequence = root.appendingPathComponent("sequences/00")
        let labels = try LabelConfig.semanticKITTI
        let items = try ScanSource.labelledItems(root: root, sequences: ["00"], labels: labels)
        #expect(items.first?.subclasses?.lastPathComponent == "000000.label")
        let recall = try #require(try PredictionScoring(labels: labels).kindRecall(items, predictions: root))
        #expect(recall.rows.map(\.points) == [3, 1, 1, 0])
        #expect(recall.rows.map(\.hits) == [2, 0, 1, 0])
        #expect(recall.rows.map(\.className) == ["car", "car", "person", "person"])
        // Rare: van (5%) with points, recall 0; sitting (2%) has no points and is left out.
        #expect(recall.rareMeanRecall == 0)
        #expect(recall.table.contains("mean recall of the rare kinds (under 10% of their class): 0.0%"), "\(recall.table)")

        // No subclass labels: nothing to report. A repeated kind id: an error naming the file.
        #expect(try PredictionScoring(labels: labels).kindRecall(items.map { var i = $0; i.subclasses = nil; return i }, predictions: root) == nil)
        try Data("kinds:\n  - {id: 1, name: a, class: 10, share: 0.5}\n  - {id: 1, name: b, class: 10, share: 0.5}\n".utf8)
            .write(to: sequence.appendingPathComponent("subclasses.yaml"))
        let error = #expect(throws: FormatError.self) { try PredictionScoring(labels: labels).kindRecall(items, predictions: root) }
        #expect(error?.description.contains("subclasses.yaml: kind id 1 appears twice") == true, "\(String(describing: error))")
    }

    /// A hand-made sequence: six points, four cars (three sedans, one van), a person walking and
    /// a point of no kind; predicted two of the three sedans as car, the van as road, the person
    /// right; the kinds sedan (90% of its class), van (5%), walking, sitting (2%, no points).
    private func handMadeSequence(_ name: String) throws -> URL {
        let root = SampleData.temporaryDirectory(name)
        let sequence = root.appendingPathComponent("sequences/00")
        for folder in ["velodyne", "labels", "subclasses", "predictions"] {
            try FileManager.default.createDirectory(at: sequence.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try Scan(points: (0 ..< 6).map { SIMD4(Float($0) + 5, 1, 0, 0.5) }).write(bin: sequence.appendingPathComponent("velodyne/000000.bin"))
        try ScanLabels(raw: [10, 10, 10, 10, 30, 40]).write(label: sequence.appendingPathComponent("labels/000000.label"))
        try ScanLabels(raw: [1, 1, 1, 2, 3, 0]).write(label: sequence.appendingPathComponent("subclasses/000000.label"))
        try ScanLabels(raw: [10, 10, 40, 40, 30, 40]).write(label: sequence.appendingPathComponent("predictions/000000.label"))
        try Data("""
        kinds:
          - {id: 1, name: sedan, class: 10, share: 0.9}
          - {id: 2, name: van, class: 10, share: 0.05}
          - {id: 3, name: walking, class: 30, share: 1}
          - {id: 4, name: sitting, class: 30, share: 0.02}
        """.utf8).write(to: sequence.appendingPathComponent("subclasses.yaml"))
        return root
    }

    @Test func sequencesWithOtherKindsAreRefusedByScoringAndLeftOutOfComparisons() throws {
        let root = try handMadeSequence("kinds-two-sequences")
        defer { try? FileManager.default.removeItem(at: root) }
        let sequences = root.appendingPathComponent("sequences")
        try FileManager.default.copyItem(at: sequences.appendingPathComponent("00"), to: sequences.appendingPathComponent("01"))
        let labels = try LabelConfig.semanticKITTI
        let items = try ScanSource.labelledItems(root: root, sequences: ["00", "01"], labels: labels)
        let frames = try SemanticKITTIDataset(root: root).labelledFrames(sequences: ["00", "01"])
        // The same kinds in both: scored together.
        #expect(try PredictionScoring(labels: labels).kindRecall(items, predictions: root)?.rows.map(\.points) == [6, 2, 2, 0])
        #expect(try SubclassCatalog.common(of: frames) != nil)
        // Other kinds in 01: an error naming its file, and no common catalog.
        try Data("kinds:\n  - {id: 1, name: sedan, class: 10, share: 1}\n".utf8).write(to: sequences.appendingPathComponent("01/subclasses.yaml"))
        let error = #expect(throws: InputError.self) { try PredictionScoring(labels: labels).kindRecall(items, predictions: root) }
        #expect(error?.description.contains("01/subclasses.yaml names other kinds than") == true, "\(String(describing: error))")
        #expect(try SubclassCatalog.common(of: frames) == nil)
    }

    @Test func trainingSharesPoolTheFramesAndJudgeTheValidationKinds() throws {
        let root = try handMadeSequence("kinds-pooled")
        defer { try? FileManager.default.removeItem(at: root) }
        let sequences = root.appendingPathComponent("sequences")
        try FileManager.default.copyItem(at: sequences.appendingPathComponent("00"), to: sequences.appendingPathComponent("01"))
        // 01: four vans and a child, in a catalog of its own that names a kind 00's does not.
        try ScanLabels(raw: [2, 2, 2, 2, 5, 0]).write(label: sequences.appendingPathComponent("01/subclasses/000000.label"))
        try Data("kinds:\n  - {id: 2, name: van, class: 10, share: 1}\n  - {id: 5, name: child, class: 30, share: 1}\n".utf8)
            .write(to: sequences.appendingPathComponent("01/subclasses.yaml"))
        let frames = try SemanticKITTIDataset(root: root).labelledFrames(sequences: ["00", "01"])
        // Over both: 3 sedans and 5 vans of 8 cars; 1 walking and 1 child of 2 people; no sitting.
        let pooled = try #require(try SubclassCatalog.pooled(over: frames))
        #expect(pooled.kinds.map(\.name) == ["sedan", "van", "walking", "sitting", "child"])
        #expect(pooled.kinds.map(\.share) == [0.375, 0.625, 0.5, 0, 0.5])
        // 00's kinds judged by those shares (its own say van 5%: rare there, common in training).
        let own = try #require(try SubclassCatalog.common(of: Array(frames.prefix(1))))
        #expect(own.kinds[1].share == 0.05 && own.sharing(pooled).kinds.map(\.share) == [0.375, 0.625, 0.5, 0])
        #expect(SubclassCatalog(kinds: [.init(id: 9, name: "unseen", rawClass: 10, share: 0.5)]).sharing(pooled).kinds[0].share == 0)
        #expect(try SubclassCatalog.pooled(over: frames.map { var f = $0; f.subclasses = nil; return f }) == nil)
    }

    @Test func segmenterCountsKindsAsItsConfusionMatrixDoes() throws {
        let root = try handMadeSequence("kinds-segmenter")
        defer { try? FileManager.default.removeItem(at: root) }
        let labels = try LabelConfig.semanticKITTI
        let dataset = try SemanticKITTIDataset(root: root)
        let frames = try dataset.labelledFrames(sequences: ["00"])
        let catalog = try #require(try SubclassCatalog.common(of: frames))
        #expect(catalog.kinds.map(\.name) == ["sedan", "van", "walking", "sitting"])
        let segmenter = try untrainedSegmenter(labels)
        let scored = try segmenter.evaluate(frames, of: dataset, labels: labels, kinds: catalog)
        let recall = try #require(scored.kinds)
        #expect(recall.rows.map(\.points) == [3, 1, 1, 0])
        // Every car and person point has a kind, so the kinds' hits are the matrix's diagonal.
        let car = 1, person = 6
        #expect(recall.rows[0].hits + recall.rows[1].hits == scored.report.confusion[car, car])
        #expect(recall.rows[2].hits == scored.report.confusion[person, person])
        #expect(scored.report.meanIoU == (try segmenter.evaluate(frames, of: dataset, labels: labels)).meanIoU)
        // Without a catalog, or frames without subclass labels: no kinds.
        #expect(try segmenter.evaluate(frames, of: dataset, labels: labels, kinds: nil).kinds == nil)
        #expect(try SubclassCatalog.common(of: frames.map { var f = $0; f.subclasses = nil; return f }) == nil)
    }

    @Test func comparisonTablesKindsWithSeedPairedRareGains() throws {
        let labels = try LabelConfig.semanticKITTI
        let catalog = SubclassCatalog(kinds: [.init(id: 1, name: "sedan", rawClass: 10, share: 0.9),
                                              .init(id: 2, name: "van", rawClass: 10, share: 0.05)])
        // Ten sedan points and ten van points; `vans` of the vans and all sedans found.
        func recall(vans: Int) -> KindRecall {
            var r = KindRecall(catalog: catalog, labels: labels)
            r.add(kinds: [UInt32](repeating: 1, count: 10) + [UInt32](repeating: 2, count: 10),
                  predictions: [Int32](repeating: 1, count: 10 + vans) + [Int32](repeating: 0, count: 10 - vans))
            return r
        }
        let empty = EvaluationReport(confusion: ConfusionMatrix(classCount: labels.classCount, ignored: labels.ignoredClasses),
                                     config: labels, scans: 1)
        let arms = [ComparisonArm(loss: LossSpec(.ce)), ComparisonArm(loss: LossSpec(.subclassified))]
        let report = ComparisonReport(arms: arms, reports: [[empty, empty], [empty, empty]], labels: labels,
                                      kinds: [[recall(vans: 2), recall(vans: 4)], [recall(vans: 5), recall(vans: 5)]])
        let table = try #require(report.kindMarkdown())
        #expect(table.contains("| loss | rare kinds | sedan (car) | van (car, rare) |"), "\(table)")
        #expect(table.contains("| ce | 30.0 ± 14.1 | 100.0 ± 0.0 | 30.0 ± 14.1 |"), "\(table)")
        #expect(table.contains("| subclassified | 50.0 ± 0.0 | 100.0 ± 0.0 | 50.0 ± 0.0 |"), "\(table)")
        #expect(table.contains("gain over ce seed by seed") && table.contains("- subclassified: +30.0, +10.0; mean +20.0 ± 14.1"), "\(table)")
        let reversed = try #require(report.kindMarkdown(baseline: arms[1]))
        #expect(reversed.contains("gain over subclassified seed by seed") && reversed.contains("- ce: -30.0, -10.0; mean -20.0 ± 14.1"), "\(reversed)")
        #expect(report.fullMarkdown().contains("Recall of each kind of appearance"))
        #expect(table.contains("rare kinds: under 10% of their class's points in the validation scans."), "\(table)")
        #expect(ComparisonReport(arms: arms, reports: [[empty], [empty]], labels: labels).kindMarkdown() == nil)

        // The same seed by seed, as kinds.csv holds it: one row per arm, seed and kind.
        let csv = try #require(report.kindsCSV()).split(separator: "\n").map(String.init)
        #expect(csv.first == "loss,remedy,seed,kind,class,share,rare,points,hits,recall")
        #expect(csv.count == 1 + 2 * 2 * 2)
        #expect(csv.contains("ce,,1,van,car,0.05,1,10,4,0.4"), "\(csv)")
        #expect(csv.contains("subclassified,,0,sedan,car,0.9,0,10,10,1.0"), "\(csv)")
        #expect(ComparisonReport(arms: arms, reports: [[empty], [empty]], labels: labels).kindsCSV() == nil)
    }

    @Test func comparisonScoresSeedBySeed() throws {
        let labels = try LabelConfig.semanticKITTI
        let car = 1, road = 9
        func report(carHits: Int) -> EvaluationReport {
            var counts = [Int](repeating: 0, count: labels.classCount * labels.classCount)  // [prediction * classes + truth]
            counts[car * labels.classCount + car] = carHits
            counts[road * labels.classCount + car] = 10 - carHits  // car points called road
            counts[road * labels.classCount + road] = 10
            return EvaluationReport(confusion: ConfusionMatrix(classCount: labels.classCount, ignored: labels.ignoredClasses, counts: counts),
                                    config: labels, scans: 1)
        }
        let arms = [ComparisonArm(loss: LossSpec(.ce), remedy: DataRemedy.none), ComparisonArm(loss: try LossSpec(parsing: "lovasz,wce"), remedy: .paste)]
        let scores = ComparisonReport(arms: arms, reports: [[report(carHits: 5), report(carHits: 10)], [report(carHits: 0), report(carHits: 8)]],
                                      labels: labels, extra: (name: "sample (sequences 00, 01)", reports: [[report(carHits: 1), report(carHits: 1)],
                                                                                                       [report(carHits: 2), report(carHits: 2)]]))
            .scoresCSV().split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(scores.first)
        #expect(Array(header.prefix(6)) == ["loss", "remedy", "seed", "scans", "miou", "accuracy"])
        #expect(header.count == 6 + 19 && header[6] == "iou_vegetation")  // by prevalence, as the tables
        #expect(scores.count == 1 + 2 * 2 * 2)
        let carColumn = try #require(header.firstIndex(of: "iou_car")), roadColumn = try #require(header.firstIndex(of: "iou_road"))
        let row = try #require(scores.first { $0.prefix(3) == ["lovasz+wce", "paste", "1"] })
        #expect(row[3] == "validation" && Double(row[carColumn]) == 0.8 && Double(row[roadColumn]) == 10.0 / 12.0, "\(row)")
        #expect(Double(row[4]) == report(carHits: 8).meanIoU)
        // The extra evaluation's name holds commas: quoted, so the fields still line up.
        let extra = try #require(scores.last)
        #expect(extra.count == header.count + 1 && extra[3] == "\"sample (sequences 00" && extra[4] == " 01)\"")
    }
}
