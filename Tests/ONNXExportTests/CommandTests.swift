import Engine
import Formats
import Foundation
import Inference
import Random
import SemanticKITTI
import TestSupport
import Testing

/// `rangeseg export` as a user runs it, and the README's Python lines on its output.
@Suite(.serialized) struct ExportCommandTests {
    let labelConfig = SampleData.projectConfig.path

    /// A run directory as `rangeseg train` leaves it: `best.safetensors` and `config.yaml`.
    func runDirectory(_ config: TrainingConfig, network: any SegmentationNetwork, name: String) throws -> URL {
        let run = SampleData.temporaryDirectory(name)
        try Data(try config.yamlText().utf8).write(to: run.appendingPathComponent("config.yaml"))
        try Checkpoint.save(network, to: run.appendingPathComponent("best.safetensors"))
        return run
    }

    @Test func exportWritesAModelAndExplainsErrors() throws {
        let config = twoStageConfig(sensorWidth: 256)
        var generator = RandomGenerator(seed: 4)
        let run = try runDirectory(config, network: RangeNetLite(config: config.architecture, generator: &generator), name: "cli-export")
        defer { try? FileManager.default.removeItem(at: run) }
        let checkpoint = run.appendingPathComponent("best.safetensors").path
        let model = run.appendingPathComponent("out/model.onnx")

        var result = try RangeSegTool.run(["export", "--checkpoint", checkpoint, "--onnx", model.path, "--config", labelConfig])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Wrote \(model.path)"))
        #expect(result.stdout.contains("ONNX opset 17): range_image [N, 5, 64, 256] -> logits [N, 20, 64, 256]"))
        #expect(result.stdout.contains("batch norm folded into the convolutions"))
        #expect(result.stdout.contains("ConvTranspose 2"))
        #expect(FileManager.default.fileExists(atPath: model.path))

        result = try RangeSegTool.run(["export", "--checkpoint", checkpoint, "--onnx", model.path, "--config", labelConfig,
                                       "--keep-batch-norm", "--width", "128", "--height", "32"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("range_image [N, 5, 32, 128] -> logits [N, 20, 32, 128]"))
        #expect(result.stdout.contains("BatchNormalization 13") && result.stdout.contains("kept as BatchNormalization nodes"))

        // The checkpoint of another network beside this config.yaml.
        var other = config
        other.architecture.widths = [8, 32]
        let wrong = run.appendingPathComponent("wrong.safetensors")
        try Checkpoint.save(RangeNetLite(config: other.architecture, generator: &generator), to: wrong)
        let missing = run.appendingPathComponent("missing.onnx")
        result = try RangeSegTool.run(["export", "--checkpoint", wrong.path, "--onnx", missing.path, "--config", labelConfig])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(wrong.path): checkpoint does not match the model:"))
        #expect(result.stderr.contains("enc.1.0.weight: shape [32, 8, 3, 3], expected [16, 8, 3, 3]"))
        #expect(!FileManager.default.fileExists(atPath: missing.path))

        result = try RangeSegTool.run(["export", "--checkpoint", checkpoint, "--onnx", missing.path, "--width", "102"])
        #expect(result.stderr.contains("width 102 must be divisible by 4"))
        result = try RangeSegTool.run(["export", "--checkpoint", checkpoint, "--onnx", missing.path, "--width", "0"])
        #expect(result.stderr.contains("sensor: image size 64 x 0 must be at least 1 x 1"))
        let blocked = run.appendingPathComponent("best.safetensors/model.onnx")
        result = try RangeSegTool.run(["export", "--checkpoint", checkpoint, "--onnx", blocked.path, "--config", labelConfig])
        #expect(result.status != 0 && result.stderr.contains("\(blocked.path): cannot create directory"))
        #expect(files(in: run) == ["best.safetensors", "config.yaml", "out", "wrong.safetensors"])
        #expect(files(in: run.appendingPathComponent("out")) == ["model.onnx"])
    }

    /// The Python lines of docs/commands.md's export section, run as written on `rangeseg project`'s `.npz` and the model
    /// `rangeseg export` wrote, give RangeSeg's own labels.
    @Test(.enabled(if: SampleData.shouldRun && ONNXRuntime.shouldRun, Comment(rawValue: ONNXRuntime.skipReason)))
    func readmeSnippetLabelsAScanAsRangeSegDoes() throws {
        try SampleData.require()
        try ONNXRuntime.require()
        let readme = try String(contentsOf: SampleData.packageRoot.appendingPathComponent("docs/commands.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## `export`"), "docs/commands.md has no export section")
        let start = try #require(readme.range(of: "```python\n", range: section.upperBound ..< readme.endIndex))
        let end = try #require(readme.range(of: "```", range: start.upperBound ..< readme.endIndex))
        let snippet = String(readme[start.upperBound ..< end.lowerBound])
        #expect(snippet.split(separator: "\n").count <= 12)

        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try TrainingConfig(yaml: SampleData.packageRoot.appendingPathComponent("data/train.yaml"))
        config.precision = .fp32  // as the exported model computes (auto may pick bf16)
        let run = try runDirectory(config, network: networkWithStatistics(config, labels: labels, seed: 13), name: "cli-readme")
        defer { try? FileManager.default.removeItem(at: run) }
        var result = try RangeSegTool.run(["export", "--checkpoint", "best.safetensors", "--onnx", "model.onnx",
                                           "--config", labelConfig], in: run)
        #expect(result.status == 0, "\(result.stderr)")
        result = try RangeSegTool.run(["project", SampleData.scan(0).path, "--out", "out/range"], in: run)
        #expect(result.status == 0, "\(result.stderr)")

        let script = run.appendingPathComponent("snippet.py")
        try Data((snippet + "np.save('labels.npy', labels)\nnp.save('points.npy', points)\n").utf8).write(to: script)
        _ = try Python.run(["-c", "import os, runpy; os.chdir('\(run.path)'); runpy.run_path('snippet.py')"])

        let segmenter = try Segmenter(checkpoint: run.appendingPathComponent("best.safetensors"), config: config, labels: labels)
        let prediction = segmenter.predict(try Scan(bin: SampleData.scan(0)))
        let toRaw = labels.lookup().toRaw
        let pixels = try NumPyArray(npy: run.appendingPathComponent("labels.npy")).integers()
        let points = try NumPyArray(npy: run.appendingPathComponent("points.npy")).integers()
        let expectedPixels = prediction.pixels.map { Int(toRaw[Int($0)]) }
        let expectedPoints = prediction.points.map { Int(toRaw[Int($0)]) }
        #expect(pixels.count == 64 * 2048 && points.count == expectedPoints.count)
        let pixelAgreement = Double(zip(pixels, expectedPixels).filter { $0 == $1 }.count) / Double(pixels.count)
        let pointAgreement = Double(zip(points, expectedPoints).filter { $0 == $1 }.count) / Double(points.count)
        print("docs/commands.md snippet on scan 000000: pixel labels agree with rangeseg on \(pixelAgreement), point labels on \(pointAgreement)")
        #expect(pixelAgreement >= 0.9999 && pointAgreement >= 0.9999)
        #expect(Set(expectedPixels).count > 2, "a network that predicts one class tells nothing")
    }
}
