import Foundation
import Random
import Testing
import TestSupport
import Engine
import Formats
import Losses
import SemanticKITTI
import Inference
@testable import Training

/// bf16 mixed precision in the training step, checkpoints, configuration and inference.
@Suite(.serialized) struct PrecisionTrainingTests {
    @Test func precisionRoundTripsThroughTheConfiguration() throws {
        #expect(TrainingConfig().precision == .auto)
        let config = try TrainingConfig(yamlText: "precision: bf16\n", file: "t.yaml")
        #expect(config.precision == .bf16)
        let again = try TrainingConfig(yamlText: config.yamlText(), file: "written.yaml")
        #expect(again == config)
        #expect(try config.yamlText().contains("precision: bf16"))
        let error = #expect(throws: FormatError.self) { try TrainingConfig(yamlText: "precision: fp16\n", file: "t.yaml") }
        #expect(error?.reason.hasPrefix("precision") == true, "\(String(describing: error))")
    }

    /// A tiny network on a fixed random task with a learnable pattern (the label is the sign of
    /// the first input channel), trained a few steps at a time.
    func tinyStep(_ precision: Precision, winograd: Winograd = .backward, widths: [Int] = [16, 32]) throws -> (TrainingStep, TrainingBatch) {
        var config = TrainingConfig()
        config.sensor.width = 64
        config.sensor.height = 8
        config.architecture.widths = widths
        config.architecture.blocks = [1, 1]
        config.loss.terms = try LossSpec(parsing: "ce")
        config.optimizer.learningRate = 0.05
        config.precision = precision
        config.winograd = winograd
        config.seed = 7
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let step = try TrainingStep(config: config, labels: labels)
        var g = RandomGenerator(seed: 11)
        let input = Tensor(uniformShape: [2, 5, 8, 64], low: -1, high: 1, generator: &g)
        let values = input.scalars
        let plane = 8 * 64
        let targets = (0 ..< 2).flatMap { b in (0 ..< plane).map { p in values[b * 5 * plane + p] > 0 ? Int32(9) : Int32(15) } }
        return (step, TrainingBatch(input: input, labels: targets))
    }

    @Test func aBFloat16StepLearnsLikeFloat32() throws {
        var finals: [Precision: [Float]] = [:]
        for precision in Precision.allCases {
            let (step, batch) = try tinyStep(precision)
            var losses: [Float] = []
            for _ in 0 ..< 12 { losses.append(try step(batch, learningRate: 0.05)) }
            let finite = losses.allSatisfy { $0.isFinite }
            #expect(finite)
            let first: Float = losses.prefix(3).reduce(0, +), last: Float = losses.suffix(3).reduce(0, +)
            #expect(last < 0.7 * first, "\(precision): \(losses)")
            // The master weights and the optimiser's state stay float32.
            #expect(step.model.namedParameters().allSatisfy { $0.tensor.elementType == .f32 && $0.tensor.isContiguous })
            finals[precision] = losses
        }
        // The first loss is the same network on the same batch: equal up to bf16 rounding where
        // the CPU runs bf16, and bit for bit where bf16 falls back to fp32 (no AVX-512).
        let a = finals[.fp32]![0], b = finals[.bf16]![0]
        #expect(abs(a - b) < 0.02 * a, "first losses \(a) (fp32) and \(b) (bf16)")
        if Precision.bf16.onThisCPU == .bf16 {
            #expect(finals[.fp32]! != finals[.bf16]!, "a bf16 run gave fp32's losses bit for bit: it did not run bf16")
        } else {
            #expect(finals[.fp32]! == finals[.bf16]!, "bf16 fell back to fp32 here, so the losses must be fp32's")
        }
    }

    @Test func aBFloat16RunWritesFloat32CheckpointsThatLoadInEitherPrecision() throws {
        let (step, batch) = try tinyStep(.bf16)
        for _ in 0 ..< 3 { try step(batch, learningRate: 0.05) }
        let url = SampleData.temporaryDirectory("bf16-checkpoint").appendingPathComponent("model.safetensors")
        try Checkpoint.save(step.model, to: url)
        let file = try SafeTensors.read(from: url)
        let floats = file.tensors.values.filter { $0.dtype != .int64 }
        #expect(!floats.isEmpty && floats.allSatisfy { $0.dtype == .float32 })
        // Into a float32 network: the same parameters and statistics bit for bit.
        let (fresh, _) = try tinyStep(.fp32)
        try Checkpoint.load(into: fresh.model, from: url)
        for (a, b) in zip(step.model.namedParameters(), fresh.model.namedParameters()) {
            #expect(a.tensor.scalars == b.tensor.scalars, "\(a.name)")
        }
        // And both precisions label with it.
        fresh.model.eval()
        let fp32 = withoutGradient { fresh.model(batch.input) }.scalars
        let bf16 = withPrecision(.bf16) { withoutGradient { fresh.model(batch.input) } }.scalars
        let scale = fp32.map(abs).max()!
        #expect(zip(fp32, bf16).allSatisfy { abs($0 - $1) < 0.05 * max(scale, 1) })
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func bf16InferenceLabelsTheRealSampleAsFloat32Does() throws {
        // A network trained in-process (fp32, 3 epochs on the real sample's three labelled scans,
        // 64 x 512, the small test network) labels every point of the six real scans in both
        // precisions; bf16 must agree with fp32 on at least 99.5% of the points.
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let run = SampleData.temporaryDirectory("run-bf16-agreement")
        var config = try smallConfig(epochs: 3, loss: "ce")
        config.preciseBatchNormScans = 3
        try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run).train()
        let fp32 = try Segmenter(checkpoint: RunDirectory(run).best, config: config, labels: labels)
        var bf16Config = config
        bf16Config.precision = .bf16
        let bf16 = try Segmenter(checkpoint: RunDirectory(run).best, config: bf16Config, labels: labels)
        var agree = 0, total = 0
        for index in 0 ..< 6 {
            let scan = try Scan(bin: SampleData.scan(index))
            let a = fp32.predict(scan).points, b = bf16.predict(scan).points
            #expect(a.count == scan.count && b.count == scan.count)
            agree += zip(a, b).filter { $0 == $1 }.count
            total += a.count
        }
        let agreement = Double(agree) / Double(total)
        #expect(total > 600_000)
        #expect(agreement >= 0.995, "bf16 agrees with fp32 on \(agreement * 100)% of \(total) points")
    }
}
