import Foundation
import Random
import Testing
import TestSupport
import Engine
import Losses
import SemanticKITTI
import Formats
@testable import Inference
import Projection
@testable import Training

/// A configuration small enough to train in a debug build: 64 x 512 images, a three-stage
/// network with narrow layers, one scan per step.
func smallConfig(epochs: Int, loss: String = "subclassified") throws -> TrainingConfig {
    var config = TrainingConfig()
    config.sensor.width = 512
    config.architecture.widths = [8, 16, 32]
    config.architecture.blocks = [1, 1, 1]
    config.batchSize = 1
    config.epochs = epochs
    config.loss.terms = try LossSpec(parsing: loss)
    config.trainSequences = ["00"]
    config.validSequences = ["00"]
    config.optimizer.learningRate = 0.02
    config.schedule.warmupEpochs = 0
    config.seed = 3
    config.precision = .fp32  // the tests compare to tight tolerances; auto may pick bf16
    return config
}

/// A segmenter of the best checkpoint of a one-epoch `smallConfig` run on the sample, trained
/// in the fresh directory `name`.
func trainedSegmenter(run name: String) throws -> Segmenter {
    let labels = try LabelConfig(yaml: SampleData.projectConfig)
    let run = SampleData.temporaryDirectory(name)
    let config = try smallConfig(epochs: 1)
    try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run).train()
    return try Segmenter(checkpoint: RunDirectory(run).best, config: config, labels: labels)
}

@Suite(.serialized) struct TrainerTests {
    @Test func badConfigsAreExplained() throws {
        let dir = SampleData.temporaryDirectory("train-config")
        let url = dir.appendingPathComponent("t.yaml")
        try Data("sensor:\n  width: wide\n".utf8).write(to: url)
        let error = #expect(throws: FormatError.self) { try TrainingConfig(yaml: url) }
        #expect(error?.reason.hasPrefix("sensor.width") == true)
        var config = TrainingConfig()
        config.sensor.width = 1000
        config.loss.subclassified.kappa = -1
        #expect(config.problems.contains { $0.contains("divisible by 32") })
        #expect(config.problems.contains { $0.hasPrefix("loss: kappa") })
    }

    @Test func augmentationKeepsLabelsWithTheirPoints() throws {
        let config = try LabelConfig(yaml: SampleData.projectConfig)
        let builder = SampleBuilder(sensor: ProjectionConfig(), lookup: config.lookup())
        let scan = Scan(points: (0 ..< 1000).map { SIMD4(Float($0 % 50) + 2, Float($0 / 50) - 10, -1.5, 0.5) })
        let labels = (0 ..< 1000).map { Int32($0 % 3) }
        var augmentation = TrainingConfig.Augmentation()
        augmentation.drop = 0.3
        augmentation.jitter = 0
        var g = RandomGenerator(seed: 1)
        let (augmented, kept) = builder.augment(scan, labels, augmentation, &g)
        #expect(augmented.count == kept!.count)
        #expect(augmented.count > 600 && augmented.count < 800)
        // Rotation and mirroring keep the distance to the sensor and the height.
        let r0 = Set(scan.values.indices.filter { $0 % 4 == 0 }.map { (scan.values[$0] * scan.values[$0] + scan.values[$0 + 1] * scan.values[$0 + 1]).squareRoot().rounded() })
        for i in 0 ..< augmented.count {
            let p = augmented[point: i]
            #expect(r0.contains((p.x * p.x + p.y * p.y).squareRoot().rounded()))
            #expect(p.z == -1.5)
        }
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func trainsAndResumesBitExactly() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let straight = SampleData.temporaryDirectory("run-straight")
        let resumed = SampleData.temporaryDirectory("run-resumed")

        let full = try Trainer(config: smallConfig(epochs: 3), labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: straight)
        var losses: [Float] = []
        try full.train { event in if case let .step(_, _, _, loss, _) = event { losses.append(loss) } }
        #expect(losses.count == 9)
        #expect(losses.suffix(3).reduce(0, +) < losses.prefix(3).reduce(0, +), "loss did not fall: \(losses)")

        // The same run, stopped after the first epoch, then resumed.
        try Trainer(config: smallConfig(epochs: 1), labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: resumed).train()
        try Trainer(config: smallConfig(epochs: 3), labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: resumed).train(resume: true)
        let a = try Data(contentsOf: RunDirectory(straight).last), b = try Data(contentsOf: RunDirectory(resumed).last)
        #expect(a == b, "resumed weights differ from an uninterrupted run")
        let stepsA = try String(contentsOf: RunDirectory(straight).steps, encoding: .utf8)
        let stepsB = try String(contentsOf: RunDirectory(resumed).steps, encoding: .utf8)
        #expect(stepsA == stepsB)
        for file in ["config.yaml", "best.safetensors", "epochs.csv", "loss.png", "loss.svg", "miou.png", "miou.svg", "resume.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: straight.appendingPathComponent(file).path), "\(file) missing")
        }
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func preciseBatchNormMakesEvaluationMatchTraining() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try smallConfig(epochs: 1)
        config.preciseBatchNormScans = 1
        let trainer = try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: SampleData.temporaryDirectory("run-bn"))
        // Statistics of exactly one scan: evaluation mode (running statistics) then computes what
        // training mode (batch statistics) computes for that scan.
        try trainer.refreshBatchNormStatistics()
        var generator = RandomGenerator(seed: 0)
        let sample = try trainer.builder.load(trainer.trainFrames[0], from: trainer.dataset, augmentation: .none, generator: &generator)
        let input = Tensor(shape: [1, 5, 64, 512], scalars: sample.input)
        trainer.model.eval()
        let evaluation = withoutGradient { trainer.model(input) }.scalars
        trainer.model.train()
        let training = withoutGradient { trainer.model(input) }.scalars
        let largest = training.map(abs).max()!
        let worst = zip(evaluation, training).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3 * largest, "eval and train outputs differ by \(worst) (largest \(largest))")
        // The counters and momentum are as before.
        let norms = trainer.model.modules().compactMap { $0 as? BatchNorm2d }
        #expect(norms.allSatisfy { $0.momentum == config.architecture.batchNormMomentum })
    }

    /// Trains `epochs` epochs in `run`, or resumes there; returns the final model file's bytes.
    func train(_ config: TrainingConfig, labels: LabelConfig, run: URL, resume: Bool = false,
               configure: (Trainer) -> Void = { _ in }) throws -> Data {
        let trainer = try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run)
        configure(trainer)
        try trainer.train(resume: resume)
        return try Data(contentsOf: RunDirectory(run).last)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func centroidRunsOnDecoderFeaturesResumeExactly() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try smallConfig(epochs: 2, loss: "centroid")
        config.loss.subclassCounts = ["road": 3, "1": 2, "vegetation": 2]
        config.loss.centroid.update = .recluster
        config.loss.centroid.updateEvery = 2
        config.loss.centroid.crossEntropyWarmupSteps = 4
        config.preciseBatchNormScans = 1
        let straight = try train(config, labels: labels, run: SampleData.temporaryDirectory("run-centroid"))
        var first = config
        first.epochs = 1
        let run = SampleData.temporaryDirectory("run-centroid-resumed")
        _ = try train(first, labels: labels, run: run)
        // The centroids are in the training state, by learning id (road is 9, vegetation 15).
        let state = try SafeTensors.read(from: RunDirectory(run).resumeState)
        #expect(state.tensors["loss.centroid.9.centroids"]?.shape == [3, 8]) // the decoder's 8 channels
        #expect(state.tensors["loss.centroid.15.frequency"]?.shape == [2])
        #expect(state.metadata["loss.centroid.step"] == "3")
        #expect(try train(config, labels: labels, run: run, resume: true) == straight, "a resumed centroid run differs")
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func aRunStoppedBetweenItsWritesResumesExactly() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try smallConfig(epochs: 2)
        config.preciseBatchNormScans = 1
        let whole = SampleData.temporaryDirectory("run-whole")
        let straight = try train(config, labels: labels, run: whole)
        // Stopped in the second epoch after the training state was saved, before the model
        // files: last.safetensors is still from epoch 1, resume.safetensors from epoch 2.
        struct Stop: Error {}
        let run = SampleData.temporaryDirectory("run-stopped")
        #expect(throws: Stop.self) {
            _ = try train(config, labels: labels, run: run) { $0.afterSavingTrainingState = { if $0 == 1 { throw Stop() } } }
        }
        #expect(try SafeTensors.read(from: RunDirectory(run).last).metadata["epoch"] == "1")
        #expect(try SafeTensors.read(from: RunDirectory(run).resumeState).metadata["epoch"] == "2")
        // Resuming finds nothing left to train and completes the epoch's files from the state.
        #expect(try train(config, labels: labels, run: run, resume: true) == straight)
        for name in ["best.safetensors", "epochs.csv", "steps.csv"] {
            #expect(try Data(contentsOf: run.appendingPathComponent(name)) == Data(contentsOf: whole.appendingPathComponent(name)), "\(name)")
        }
        // And a longer run continues both the same way.
        var more = config
        more.epochs = 3
        #expect(try train(more, labels: labels, run: run, resume: true) == train(more, labels: labels, run: whole, resume: true))
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func withoutValidationTheLatestEpochIsTheBest() throws {
        try SampleData.require()
        var labels = try LabelConfig(yaml: SampleData.projectConfig)
        labels.split.valid = []
        var config = try smallConfig(epochs: 2)
        config.validSequences = []
        config.preciseBatchNormScans = 0
        let run = SampleData.temporaryDirectory("run-no-validation")
        let trainer = try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run)
        trainer.maxStepsPerEpoch = 1
        try trainer.train()
        let best = try SafeTensors.read(from: RunDirectory(run).best)
        #expect(best.metadata["epoch"] == "2")
        #expect(try Data(contentsOf: RunDirectory(run).best).count > 0)
        let last = try SafeTensors.read(from: RunDirectory(run).last)
        #expect(best.tensors == last.tensors)
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func segmenterLabelsEveryPoint() throws {
        try SampleData.require()
        let segmenter = try trainedSegmenter(run: "run-infer")
        let scan = try Scan(bin: SampleData.scan(4))
        let prediction = segmenter.predict(scan)
        #expect(prediction.points.count == scan.count)
        #expect(prediction.pixels.count == 64 * 512)
        #expect(prediction.logits.count == 20 * 64 * 512)
        #expect(prediction.points.allSatisfy { $0 >= 0 && $0 < 20 })
    }
}
