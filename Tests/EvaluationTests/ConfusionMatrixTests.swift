import Foundation
import Testing
import TestSupport
import SemanticKITTI
import Formats
@testable import Evaluation

@Suite struct ConfusionMatrixTests {
    /// truth [1,1,1,2,2,0,0], prediction [1,1,2,2,0,1,2], class 0 ignored. Worked by hand with
    /// the official rules: IoU(1) = 2/3, IoU(2) = 1/3, mIoU = 1/2, accuracy = 3/4.
    @Test func knownConfusion() {
        var matrix = ConfusionMatrix(classCount: 3, ignored: [0])
        matrix.add(predictions: [1, 1, 2, 2, 0, 1, 2], truth: [1, 1, 1, 2, 2, 0, 0])
        #expect(matrix[1, 1] == 2 && matrix[2, 1] == 1 && matrix[0, 2] == 1 && matrix[1, 0] == 1)
        let (tp, fp, fn) = matrix.totals()
        #expect(tp == [0, 2, 1] && fp == [1, 0, 1] && fn == [0, 1, 1]) // fp[0]: the class-2 point predicted 0
        let iou = matrix.iou()
        #expect(abs(iou[1] - 2.0 / 3) < 1e-12 && abs(iou[2] - 1.0 / 3) < 1e-12)
        #expect(abs(matrix.meanIoU() - 0.5) < 1e-12)
        #expect(abs(matrix.accuracy() - 0.75) < 1e-12)
    }

    @Test func absentClassesCountAsZeroLikeTheOfficialScript() {
        var matrix = ConfusionMatrix(classCount: 4, ignored: [0])
        matrix.add(predictions: [1, 1], truth: [1, 1])
        #expect(abs(matrix.meanIoU() - 1.0 / 3) < 1e-12)
        #expect(matrix.meanIoUOfPresentClasses() == 1)
    }

    @Test func evaluatesLabelFilesThroughTheLearningMap() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let dir = SampleData.temporaryDirectory("evaluate")
        // raw ids: 10 car, 252 moving-car (-> car), 40 road, 0 unlabeled, 44 parking
        let truth = ScanLabels(semantic: [10, 252, 40, 40, 0, 44], instance: [1, 2, 0, 0, 0, 0])
        let prediction = ScanLabels(semantic: [10, 10, 40, 44, 40, 44])
        try truth.write(label: dir.appendingPathComponent("truth.label"))
        try prediction.write(label: dir.appendingPathComponent("pred.label"))
        let evaluator = SemanticEvaluator(config: config)
        let matrix = try evaluator.confusion(prediction: dir.appendingPathComponent("pred.label"), labels: dir.appendingPathComponent("truth.label"))
        let iou = matrix.iou()
        #expect(iou[1] == 1)                           // car: both points right
        #expect(abs(iou[9] - 0.5) < 1e-12)             // road: 1 TP, 1 FN
        #expect(abs(iou[10] - 0.5) < 1e-12)            // parking: 1 TP, 1 FP
        #expect(abs(matrix.accuracy() - 0.8) < 1e-12)  // the unlabeled point is left out
        let report = EvaluationReport(confusion: matrix, config: config, scans: 1)
        #expect(report.classes.count == 19)
        #expect(report.classes[0].name == "car" && report.classes[0].support == 2)
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(json.contains("\"meanIoU\""))
    }

    @Test func mismatchedPredictionIsAnErrorNamingTheFile() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let dir = SampleData.temporaryDirectory("evaluate-bad")
        try ScanLabels(semantic: [10, 40]).write(label: dir.appendingPathComponent("truth.label"))
        try ScanLabels(semantic: [10]).write(label: dir.appendingPathComponent("pred.label"))
        let error = #expect(throws: FormatError.self) {
            try SemanticEvaluator(config: config).confusion(prediction: dir.appendingPathComponent("pred.label"), labels: dir.appendingPathComponent("truth.label"))
        }
        #expect(error?.file.hasSuffix("pred.label") == true)
        let missing = #expect(throws: FormatError.self) {
            try SemanticEvaluator(config: config).confusion(prediction: dir.appendingPathComponent("none.label"), labels: dir.appendingPathComponent("truth.label"))
        }
        #expect(missing?.reason == "no such file")
    }
}
