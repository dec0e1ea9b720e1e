import Foundation
import Testing
import TestSupport
import Engine
import SemanticKITTI
import Inference
@testable import Training

/// Networks used from several threads of one process: labelling with one shared segmenter,
/// and trainers running side by side. Each must give exactly what it gives alone.
@Suite struct ConcurrentUseTests {
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func fourThreadsLabelScansWithOneSegmenterAsOneThreadDoes() throws {
        try SampleData.require()
        let segmenter = try trainedSegmenter(run: "run-labelling")
        let scans = try (0 ..< 4).map { try Scan(bin: SampleData.scan($0)) }

        // One thread, the scans in turn.
        let inTurn = scans.map { segmenter.predict($0) }
        #expect(Set(inTurn.map(\.pixels)).count == 4, "different scans should get different labels")

        // Four threads at once, thread i labelling scan i, three times over so that the
        // threads' forward passes overlap throughout.
        let rounds = 3
        let atOnce = ThreadResults<[Segmenter.Prediction]>(count: 4)
        onSeparateThreads(4) { i in atOnce[i] = (0 ..< rounds).map { _ in segmenter.predict(scans[i]) } }
        for i in 0 ..< 4 {
            let predictions = try #require(atOnce[i])
            #expect(predictions.count == rounds)
            for prediction in predictions {
                #expect(prediction.points == inTurn[i].points, "scan \(i): point labels differ")
                #expect(prediction.pixels == inTurn[i].pixels, "scan \(i): pixel labels differ")
                #expect(prediction.logits == inTurn[i].logits, "scan \(i): logits differ")
            }
        }
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func twoTrainersAtOnceEndWithTheWeightsEachGetsAlone() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        // Two different runs (loss, seed), so that any cross-talk would show.
        var second = try smallConfig(epochs: 2, loss: "ce")
        second.seed = 11
        let configs = [try smallConfig(epochs: 2), second]
        /// The files a run ends with that must match byte for byte.
        @Sendable func train(_ config: TrainingConfig, _ name: String) throws -> [Data] {
            let run = RunDirectory(SampleData.temporaryDirectory(name))
            try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run.url).train()
            return try [run.last, run.resumeState, run.steps, run.epochs]
                .map { try Data(contentsOf: $0) }
        }

        let alone = try configs.indices.map { try train(configs[$0], "run-alone-\($0)") }
        #expect(alone[0][0] != alone[1][0], "the two runs should end with different weights")

        let together = ThreadResults<Result<[Data], any Error>>(count: 2)
        onSeparateThreads(2) { i in together[i] = Result { try train(configs[i], "run-together-\(i)") } }
        for i in 0 ..< 2 {
            let files = try #require(together[i]).get()
            #expect(files[0] == alone[i][0], "run \(i): weights differ from the run alone")
            #expect(files[1] == alone[i][1], "run \(i): optimiser state differs from the run alone")
            #expect(files[2] == alone[i][2], "run \(i): step losses differ from the run alone")
            #expect(files[3] == alone[i][3], "run \(i): epoch log differs from the run alone")
        }
    }
}
