import Foundation
import Testing
import TestSupport
@testable import Training

/// epochs.csv as the trainer's log writes it and EpochRow reads it back.
@Suite struct EpochRowTests {
    @Test func rowsComeBackAsWritten() throws {
        var log = TrainingLog()
        log.epochs = [
            EpochRow(epoch: 0, trainLoss: 1.25, mIoU: nil, accuracy: nil, classIoU: []),
            EpochRow(epoch: 1, trainLoss: 0.8123456, mIoU: 0.1 / 3, accuracy: 0.75, classIoU: [0, 0.5, 1 / 3.0]),
        ]
        let run = RunDirectory(SampleData.temporaryDirectory("epoch-rows"))
        try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
        try log.writeTables(to: run, classNames: ["unlabeled", "car", "road"])
        let text = try String(contentsOf: run.epochs, encoding: .utf8)
        #expect(text.hasPrefix("epoch,train_loss,valid_miou,valid_accuracy,iou_unlabeled,iou_car,iou_road\n0,1.25,,\n"))
        #expect(try EpochRow.read(run) == log.epochs)
        // Resuming keeps the epochs before the one it resumes at.
        #expect(try TrainingLog(reading: run, throughEpoch: 1).epochs == [log.epochs[0]])
    }
}
