import Engine
import Foundation
import Losses
import Random
import SemanticKITTI
import Synth
import Testing
import TestSupport
import Inference
@testable import Training

/// Each network trains as `rangeseg train` runs it (the `Trainer`, on a synthetic
/// SemanticKITTI-layout sequence): the loss falls, the centroid loss clusters its last decoder
/// features, and a run stopped after one epoch and resumed ends where the uninterrupted run
/// ends, bit for bit (dropout masks included).
@Suite(.serialized) struct NetworkTrainingTests {
    /// Two synthetic scans (sparse firings, for speed), written once.
    static let dataset: URL = {
        let root = SampleData.temporaryDirectory("network-training-data")
        var sensor = SensorModel.hdl64e
        sensor.firings = 512
        _ = try! Synthesizer.run(SynthConfiguration(seed: 5, sequences: ["00"], scans: 2, sensor: sensor, workers: 1), root: root)
        return root
    }()

    /// `network` on 16 x 128 images (divisible for all three), two scans a step.
    func config(_ network: String, epochs: Int, loss: String) throws -> TrainingConfig {
        var config = try TrainingConfig(yamlText: "network: \(network)\n", file: "t.yaml")
        config.sensor.height = 16
        config.sensor.width = 128
        config.batchSize = 2
        config.epochs = epochs
        config.loss.terms = try LossSpec(parsing: loss)
        config.trainSequences = ["00"]
        config.validSequences = ["00"]
        config.augmentation = .none
        config.preciseBatchNormScans = 0
        config.optimizer.learningRate = 0.01
        config.schedule.warmupEpochs = 0
        config.seed = 9
        #expect(config.problems.isEmpty, "\(config.problems)")
        return config
    }

    @Test(arguments: ["darknet21", "darknet53", "salsanext"])
    func trainsResumesAndClusters(network: String) throws {
        let labels = try LabelConfig.semanticKITTI
        let straight = SampleData.temporaryDirectory("net-\(network)-straight")
        let resumed = SampleData.temporaryDirectory("net-\(network)-resumed")
        defer { for d in [straight, resumed] { try? FileManager.default.removeItem(at: d) } }

        var losses: [Float] = []
        let trainer = try Trainer(config: config(network, epochs: 3, loss: "ce"), labels: labels, dataset: SemanticKITTIDataset(root: Self.dataset), run: straight)
        try trainer.train { event in if case let .step(_, _, _, loss, _) = event { losses.append(loss) } }
        #expect(losses.count == 3)
        #expect(losses.last! < losses.first!, "\(network): loss did not fall: \(losses)")
        #expect(try TrainingConfig(yaml: RunDirectory(straight).config).architecture == trainer.config.architecture)

        try Trainer(config: config(network, epochs: 1, loss: "ce"), labels: labels, dataset: SemanticKITTIDataset(root: Self.dataset), run: resumed).train()
        try Trainer(config: config(network, epochs: 3, loss: "ce"), labels: labels, dataset: SemanticKITTIDataset(root: Self.dataset), run: resumed).train(resume: true)
        let a = try Data(contentsOf: RunDirectory(straight).last), b = try Data(contentsOf: RunDirectory(resumed).last)
        #expect(a == b, "\(network): the resumed run ended elsewhere")

        // The centroid loss on the network's last decoder feature map.
        var centroid = try config(network, epochs: 1, loss: "centroid,ce")
        centroid.loss.subclassFeatures = "decoder"
        let step = try TrainingStep(config: centroid, labels: labels)
        #expect(step.subclassFeatures == step.model.featureNames.last)
        let batch = try Benchmarks.datasetBatches(dataset: SemanticKITTIDataset(root: Self.dataset), sequences: ["00"], config: centroid, labels: labels, batch: 2)[0]
        #expect(try step(batch, learningRate: 0.01).isFinite)
    }
}
