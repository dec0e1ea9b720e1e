import Engine
import Formats
import Foundation
import Inference
import ONNXExport
import Random
import SemanticKITTI
import SwiftProtobuf
import TestSupport
import Testing

private let needsRuntime = ConditionTrait.enabled(if: SampleData.shouldRun && ONNXRuntime.shouldRun,
                                                   Comment(rawValue: ONNXRuntime.skipReason))

/// The shipped training configuration: RangeNet-lite on 64 x 2048 images.
private func shippedConfig() throws -> TrainingConfig {
    try TrainingConfig(yaml: SampleData.packageRoot.appendingPathComponent("data/train.yaml"))
}

@Suite(.serialized) struct ExportTests {
    /// The issue's check: ONNX Runtime's logits on a real scan against RangeSeg's fused
    /// inference, with batch norm folded and kept.
    @Test(needsRuntime, arguments: ONNXExporter.BatchNormHandling.allCases)
    func onnxRuntimeReproducesRangeSegOnARealScan(batchNorm: ONNXExporter.BatchNormHandling) throws {
        try SampleData.require()
        try ONNXRuntime.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let config = try shippedConfig()
        let dir = SampleData.temporaryDirectory("onnx-\(batchNorm)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let network = try networkWithStatistics(config, labels: labels)
        // The statistics are far from PyTorch's initial ones (mean 0, variance 1).
        let variances = network.modules().compactMap { $0 as? BatchNorm2d }.flatMap(\.runningVariance.scalars)
        #expect(variances.contains { $0 > 2 } && variances.contains { $0 < 0.5 })
        let checkpoint = dir.appendingPathComponent("best.safetensors")
        try Checkpoint.save(network, to: checkpoint)

        let model = dir.appendingPathComponent("model.onnx")
        let summary = try ONNXExporter(batchNorm: batchNorm).export(checkpoint: checkpoint, config: config, labels: labels, to: model)
        #expect(summary.inputShape == ["N", "5", "64", "2048"] && summary.outputShape == ["N", "20", "64", "2048"])
        #expect(summary.weights > 0 && summary.bytes > 4 * summary.weights)

        let segmenter = try Segmenter(checkpoint: checkpoint, config: config, labels: labels)
        let (input, logits) = try rangeSegArrays(segmenter, frames: [0], in: dir)
        let report = try ONNXRuntime.check(model: model, input: input, expected: logits)
        print("ONNX export (batch norm \(batchNorm)) on scan 000000: max |ONNX Runtime - RangeSeg| \(report.maxAbsDifference) (largest logit \(report.largestLogit)), argmax agreement \(report.argmaxAgreement); onnx \(report.onnxVersion), onnxruntime \(report.onnxRuntimeVersion)")
        #expect(report.maxAbsDifference <= 1e-4)
        #expect(report.argmaxAgreement >= 0.9999)
        #expect(report.largestLogit > 1, "logits too small to tell anything apart")
        #expect(report.outputShape == [1, 20, 64, 2048])
        #expect(report.input == .init(name: "range_image", shape: ["N", "5", "64", "2048"]))
        #expect(report.output == .init(name: "logits", shape: ["N", "20", "64", "2048"]))
        switch batchNorm {
        case .folded: #expect(report.operators == ["Add", "Conv", "ConvTranspose", "LeakyRelu"])
        case .kept: #expect(report.operators == ["Add", "BatchNormalization", "Conv", "ConvTranspose", "LeakyRelu"])
        }

        // What a deployer needs, as ONNX Runtime reads it.
        let meta = report.metadata
        #expect(meta["height"] == "64" && meta["width"] == "2048")
        #expect(meta["fov_up"] == "3.0" && meta["fov_down"] == "-25.0")
        #expect(meta["channels"] == #"["range","x","y","z","remission"]"#)
        #expect(meta["means"] == "[12.12,10.88,0.23,-1.04,0.21]")
        #expect(meta["stds"] == "[12.32,11.47,6.91,0.86,0.16]")
        let names = try JSONDecoder().decode([String].self, from: Data(try #require(meta["class_names"]).utf8))
        #expect(names.count == 20 && names[0] == "unlabeled" && names[1] == "car" && names[19] == "traffic-sign")
        let inverse = try JSONDecoder().decode([Int].self, from: Data(try #require(meta["learning_map_inv"]).utf8))
        #expect(inverse == (0 ..< 20).map { labels.learningMapInverse[$0]! })
        #expect(meta["batch_norm"] == batchNorm.rawValue)
        #expect(meta["projection"]?.contains("atan2(y, x)") == true && meta["input"] != nil && meta["output"] != nil)
    }

    /// Every other network exports through the same recorded forward pass, and ONNX Runtime gives
    /// RangeSeg's logits on a real scan (64 x 512, batch norm folded and kept).
    @Test(needsRuntime, arguments: ["darknet21", "salsanext"], ONNXExporter.BatchNormHandling.allCases)
    func otherNetworksExport(network name: String, batchNorm: ONNXExporter.BatchNormHandling) throws {
        try SampleData.require()
        try ONNXRuntime.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try TrainingConfig(yamlText: "network: \(name)\n", file: "t.yaml")
        config.sensor.width = 512
        let dir = SampleData.temporaryDirectory("onnx-\(name)-\(batchNorm)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("best.safetensors")
        try Checkpoint.save(try networkWithStatistics(config, labels: labels), to: checkpoint)
        let model = dir.appendingPathComponent("model.onnx")
        let summary = try ONNXExporter(batchNorm: batchNorm).export(checkpoint: checkpoint, config: config, labels: labels, to: model)
        #expect(summary.inputShape == ["N", "5", "64", "512"] && summary.outputShape == ["N", "20", "64", "512"])

        let segmenter = try Segmenter(checkpoint: checkpoint, config: config, labels: labels)
        let (input, logits) = try rangeSegArrays(segmenter, frames: [0], in: dir)
        let report = try ONNXRuntime.check(model: model, input: input, expected: logits)
        print("ONNX export of \(name) (batch norm \(batchNorm)): max |ONNX Runtime - RangeSeg| \(report.maxAbsDifference) (largest logit \(report.largestLogit)), argmax agreement \(report.argmaxAgreement)")
        #expect(report.maxAbsDifference <= 1e-4 * max(1, report.largestLogit))
        #expect(report.argmaxAgreement >= 0.9999)
        #expect(report.largestLogit > 1, "logits too small to tell anything apart")
        let stateNames = Set(segmenter.model.namedParameters().map(\.name))
        let written = Set(try Onnx_ModelProto(serializedBytes: try Data(contentsOf: model)).graph.initializer.map(\.name))
        if batchNorm == .kept { #expect(written == stateNames.union(segmenter.model.namedBuffers().map(\.name).filter { !$0.hasSuffix("num_batches_tracked") })) }
    }

    /// A model exported for another width runs, with a dynamic batch of three real scans.
    @Test(needsRuntime) func width1024WithABatchOfThree() throws {
        try SampleData.require()
        try ONNXRuntime.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try shippedConfig()
        config.sensor.width = 1024
        let dir = SampleData.temporaryDirectory("onnx-1024")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("best.safetensors")
        try Checkpoint.save(try networkWithStatistics(config, labels: labels, seed: 12), to: checkpoint)
        let model = dir.appendingPathComponent("model.onnx")
        _ = try ONNXExporter().export(checkpoint: checkpoint, config: config, labels: labels, to: model)

        let segmenter = try Segmenter(checkpoint: checkpoint, config: config, labels: labels)
        let (input, logits) = try rangeSegArrays(segmenter, frames: [0, 1, 2], in: dir)
        let report = try ONNXRuntime.check(model: model, input: input, expected: logits)
        print("ONNX export at 64 x 1024, batch 3: max |ONNX Runtime - RangeSeg| \(report.maxAbsDifference), argmax agreement \(report.argmaxAgreement)")
        #expect(report.outputShape == [3, 20, 64, 1024])
        #expect(report.input.shape == ["N", "5", "64", "1024"])
        #expect(report.metadata["width"] == "1024")
        #expect(report.maxAbsDifference <= 1e-4)
        #expect(report.argmaxAgreement >= 0.9999)
    }

    /// The graph as written: names after the state dict, the decoder's transposed convolutions,
    /// opset 17 and the dynamic batch (decoded with the generated messages, no Python needed).
    @Test func graphFollowsTheStateDict() throws {
        let config = twoStageConfig(sensorWidth: 256, blocks: [1, 0])
        var generator = RandomGenerator(seed: 1)
        let network = RangeNetLite(config: config.architecture, generator: &generator)
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let metadata = DeploymentMetadata(sensor: config.sensor, labels: labels)
        let folded = try Onnx_ModelProto(serializedBytes: try ONNXExporter().model(of: network, metadata: metadata).serializedBytes() as [UInt8])
        #expect(folded.irVersion == 8 && folded.opsetImport.map(\.version) == [17] && folded.opsetImport[0].domain == "")
        let nodes = folded.graph.node.map { "\($0.opType) \($0.name)" }
        #expect(nodes == ["Conv stem.0", "LeakyRelu stem.0.relu",
                          "Conv enc.0.0", "LeakyRelu enc.0.0.relu", "Conv enc.0.3.body.0", "LeakyRelu enc.0.3.body.0.relu",
                          "Conv enc.0.3.body.3", "LeakyRelu enc.0.3.body.3.relu", "Add Add_1",
                          "Conv enc.1.0", "LeakyRelu enc.1.0.relu",
                          "ConvTranspose dec.0.0", "LeakyRelu dec.0.0.relu", "Conv dec.0.3.body.0", "LeakyRelu dec.0.3.body.0.relu",
                          "Conv dec.0.3.body.3", "LeakyRelu dec.0.3.body.3.relu", "Add Add_2", "Add Add_3",
                          "ConvTranspose dec.1.0", "LeakyRelu dec.1.0.relu", "Conv dec.1.3.body.0", "LeakyRelu dec.1.3.body.0.relu",
                          "Conv dec.1.3.body.3", "LeakyRelu dec.1.3.body.3.relu", "Add Add_4", "Add Add_5",
                          "Conv head"])
        // The residual sum, then the second decoder stage's skip: the stem's output.
        #expect(folded.graph.node.first { $0.name == "Add_4" }?.input == ["dec.1.0.relu", "dec.1.3.body.3.relu"])
        #expect(folded.graph.node.first { $0.name == "Add_5" }?.input == ["Add_4", "stem.0.relu"])
        #expect(folded.graph.node.last?.output == ["logits"])
        let transposed = try #require(folded.graph.node.first { $0.opType == "ConvTranspose" })
        let attributes = Dictionary(uniqueKeysWithValues: transposed.attribute.map { ($0.name, $0.ints) })
        #expect(attributes == ["kernel_shape": [1, 4], "strides": [1, 2], "pads": [0, 1, 0, 1], "dilations": [1, 1]])
        #expect(transposed.input == ["enc.1.0.relu", "dec.0.0.weight", "dec.0.0.bias"])
        let leaky = try #require(folded.graph.node.first { $0.opType == "LeakyRelu" }?.attribute.first)
        #expect(leaky.name == "alpha" && leaky.f == 0.1)
        let dims = folded.graph.input[0].type.tensorType.shape.dim.map(\.value)
        #expect(dims == [.dimParam("N"), .dimValue(5), .dimValue(64), .dimValue(256)])

        // Kept: BatchNormalization nodes with the checkpoint's names and epsilon.
        let kept = ONNXExporter(batchNorm: .kept).model(of: network, metadata: metadata)
        let norm = try #require(kept.graph.node.first { $0.opType == "BatchNormalization" })
        #expect(norm.name == "stem.1" && norm.input == ["stem.0", "stem.1.weight", "stem.1.bias", "stem.1.running_mean", "stem.1.running_var"])
        #expect(norm.attribute.first?.name == "epsilon" && norm.attribute.first?.f == 1e-5)
        let stateNames = Set(network.namedParameters().map(\.name) + network.namedBuffers().map(\.name)
                              .filter { !$0.hasSuffix("num_batches_tracked") })
        #expect(Set(kept.graph.initializer.map(\.name)) == stateNames)
    }

    /// Folding batch norm into a transposed convolution scales the weight's second axis; the
    /// folded layer computes what the two layers compute.
    @Test func foldingIntoATransposedConvolution() throws {
        var generator = RandomGenerator(seed: 5)
        let conv = ConvTranspose2d(inputChannels: 3, outputChannels: 4, kernelSize: Size2D(1, 4), stride: Size2D(1, 2),
                                   padding: Size2D(0, 1), bias: false, generator: &generator)
        let norm = BatchNorm2d(channels: 4)
        norm.weight.assign(Tensor(uniformShape: [4], low: 0.5, high: 2, generator: &generator))
        norm.bias.assign(Tensor(uniformShape: [4], low: -1, high: 1, generator: &generator))
        norm.runningMean.assign(Tensor(uniformShape: [4], low: -1, high: 1, generator: &generator))
        norm.runningVariance.assign(Tensor(uniformShape: [4], low: 0.2, high: 3, generator: &generator))
        norm.eval()
        let x = Tensor(uniformShape: [2, 3, 2, 8], low: -1, high: 1, generator: &generator)
        let expected = withoutGradient { norm(conv(x)) }.scalars
        let (weight, bias) = norm.folded(intoWeight: conv.weight, bias: nil, outputAxis: 1)
        let got = withoutGradient {
            convTranspose2d(x, weight: weight, bias: bias, stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
        }.scalars
        #expect(zip(got, expected).map { abs($0 - $1) }.max()! < 1e-5)
    }

    /// A checkpoint of another network fails with the checkpoint's name and what does not fit,
    /// and nothing is written.
    @Test func checkpointThatDoesNotFitItsConfigWritesNothing() throws {
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let dir = SampleData.temporaryDirectory("onnx-mismatch")
        var small = twoStageConfig()
        var generator = RandomGenerator(seed: 2)
        let checkpoint = dir.appendingPathComponent("small.safetensors")
        try Checkpoint.save(RangeNetLite(config: small.architecture, generator: &generator), to: checkpoint)
        let model = dir.appendingPathComponent("model.onnx")
        let error = #expect(throws: FormatError.self) {
            try ONNXExporter().export(checkpoint: checkpoint, config: TrainingConfig(), labels: labels, to: model)
        }
        #expect(error?.file == checkpoint.path)
        #expect(error?.reason.hasPrefix("checkpoint does not match the model: missing ") == true)
        // The first few mismatches in name order, and how many more there are.
        #expect(error?.reason.contains("dec.0.0.weight: shape [16, 8, 1, 4], expected [256, 128, 1, 4]") == true, "\(error?.reason ?? "")")
        #expect(error?.reason.range(of: "; and [0-9]+ more$", options: .regularExpression) != nil, "\(error?.reason ?? "")")
        #expect(files(in: dir) == ["small.safetensors"])

        // A label config with another number of classes.
        var three = labels
        three.learningMapInverse = [0: 0, 1: 10, 2: 40]
        let classes = #expect(throws: FormatError.self) {
            try ONNXExporter().export(checkpoint: checkpoint, config: small, labels: three, to: model)
        }
        #expect(classes?.description == "\(checkpoint.path): the network predicts 20 classes but the label config has 3 learning classes")
        // A width the network cannot take.
        small.sensor.width = 1002
        let width = #expect(throws: FormatError.self) {
            try ONNXExporter().export(checkpoint: checkpoint, config: small, labels: labels, to: model)
        }
        #expect(width?.reason.contains("width 1002 must be divisible by 4") == true)
        #expect(files(in: dir) == ["small.safetensors"])
    }

    /// A path that cannot be written fails with its name and leaves no file, partial or temporary.
    @Test func unwritablePathLeavesNothingBehind() throws {
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let dir = SampleData.temporaryDirectory("onnx-unwritable")
        let config = twoStageConfig(sensorWidth: 64)
        var generator = RandomGenerator(seed: 3)
        let checkpoint = dir.appendingPathComponent("net.safetensors")
        try Checkpoint.save(RangeNetLite(config: config.architecture, generator: &generator), to: checkpoint)

        // Under a regular file (even root cannot make a directory there).
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let under = blocker.appendingPathComponent("model.onnx")
        let error = #expect(throws: FormatError.self) {
            try ONNXExporter().export(checkpoint: checkpoint, config: config, labels: labels, to: under)
        }
        #expect(error?.file == under.path && error?.reason.hasPrefix("cannot create directory") == true)

        // Onto an existing directory: the model is encoded and written, the rename fails, the
        // temporary file is removed.
        let directory = dir.appendingPathComponent("model.onnx")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        let rename = #expect(throws: FormatError.self) {
            try ONNXExporter().export(checkpoint: checkpoint, config: config, labels: labels, to: directory)
        }
        #expect(rename?.file == directory.path && rename?.reason.hasPrefix("cannot rename the temporary file into place") == true)
        #expect(files(in: dir) == ["file", "model.onnx", "net.safetensors"])
        #expect(files(in: directory).isEmpty)
    }
}
