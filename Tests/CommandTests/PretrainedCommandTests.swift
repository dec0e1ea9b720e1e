import Foundation
import Testing
import TestSupport
import Formats

/// An official model folder through the commands: infer on it, import it, infer and export the
/// import, fine-tune from it.
@Suite(.serialized) struct PretrainedCommandTests {
    static let writer = SampleData.packageRoot.appendingPathComponent("tools/official_folder.py").path

    func rawLabels(_ url: URL) throws -> [UInt32] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)) }.map { $0 & 0xFFFF }
    }

    @Test(.enabled(if: SampleData.shouldRun && Python.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func anOfficialFolderThroughInferImportAndFineTuning() throws {
        try SampleData.require()
        try Python.require()
        let dir = SampleData.temporaryDirectory("cli-pretrained")
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("SalsaNext").path
        _ = try Python.run([Self.writer, "salsanext", folder, "--width", "512"])
        let scan = SampleData.scan(0).path

        // The folder as downloaded.
        // fp32, as PyTorch ran it (auto may pick bf16, which changes about 1.5% of the labels).
        var result = try RangeSegTool.run(["infer", "--checkpoint", folder, scan, "--precision", "fp32", "--out", dir.appendingPathComponent("pred").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("SalsaNext salsanext from \(folder): 20 classes, 64x512 images of range, x, y, z, remission, no clean-up"),
                "\(result.stdout)")
        let official = try rawLabels(dir.appendingPathComponent("pred/000000.label"))
        let expected = try #require(NumPyArchive(npz: SampleData.packageRoot.appendingPathComponent("Tests/PretrainedFixtures/salsanext-512.npz"))["000000"])
            .integers().map(UInt32.init)
        #expect(official.count == expected.count)
        let agreement = Double(zip(official, expected).filter { $0 == $1 }.count) / Double(max(1, expected.count))
        #expect(agreement >= 0.999, "\(agreement * 100)% of points agree with PyTorch")

        // Imported: the same labels through the run directory.
        let run = dir.appendingPathComponent("imported").path
        result = try RangeSegTool.run(["import", folder, "--out", run])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Imported SalsaNext from \(folder): salsanext, 6711572 parameters, 20 classes"), "\(result.stdout)")
        for file in ["last.safetensors", "config.yaml", "labels.yaml"] {
            #expect(FileManager.default.fileExists(atPath: run + "/" + file), "\(file)")
        }
        result = try RangeSegTool.run(["infer", "--checkpoint", run + "/last.safetensors", "--label-config", run + "/labels.yaml", scan,
                                       "--precision", "fp32", "--out", dir.appendingPathComponent("pred2").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try rawLabels(dir.appendingPathComponent("pred2/000000.label")) == official)
        result = try RangeSegTool.run(["import", folder, "--out", run])
        #expect(result.status != 0 && result.stderr.contains("already holds a model"), "\(result.stderr)")
        result = try RangeSegTool.run(["export", "--checkpoint", run + "/last.safetensors", "--onnx", run + "/model.onnx",
                                       "--label-config", run + "/labels.yaml"])
        #expect(result.status == 0, "\(result.stderr)")

        // Fine-tuning starts from the imported weights: one step moves them a little.
        let tuned = dir.appendingPathComponent("tuned").path
        result = try RangeSegTool.run(["train", "--init", run + "/last.safetensors", "--dataset", SampleData.root.path,
                                       "--train-sequences", "00", "--valid-sequences", "00", "--epochs", "1", "--max-steps-per-epoch", "1",
                                       "--batch-size", "1", "--run", tuned, "--label-config", run + "/labels.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Starting from the weights of \(run)/last.safetensors"), "\(result.stdout)")
        #expect(result.stdout.contains("Training salsanext (6711572 parameters)"), "\(result.stdout)")
        let config = try String(contentsOfFile: tuned + "/config.yaml", encoding: .utf8)
        #expect(config.contains("kind: salsanext") && config.contains("width: 512"), "\(config)")
        // The weights are the imported ones (the first step's learning rate is the warm-up's 0;
        // a fresh initialisation would differ by about 100%); batch norm's statistics moved.
        let before = try SafeTensors.read(from: URL(fileURLWithPath: run + "/last.safetensors"))
        let after = try SafeTensors.read(from: URL(fileURLWithPath: tuned + "/last.safetensors"))
        func change(_ name: String) throws -> Float {
            let a = try #require(before.tensors[name]).floats, b = try #require(after.tensors[name]).floats
            return zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / a.map { $0 * $0 }.reduce(0, +)
        }
        #expect(try change("logits.weight") < 0.01)
        #expect(try change("downCntx.conv1.weight") < 0.01)
        #expect(try change("downCntx.bn1.running_var") > 0)

        // Wrong combinations are named.
        result = try RangeSegTool.run(["train", "--init", run + "/last.safetensors", "--resume", "--dataset", SampleData.root.path,
                                       "--run", tuned])
        #expect(result.status != 0 && result.stderr.contains("--init"), "\(result.stderr)")
        result = try RangeSegTool.run(["import", folder + "/SalsaNext", "--out", dir.appendingPathComponent("x").path])
        #expect(result.status != 0 && result.stderr.contains("--network"), "\(result.stderr)")
        result = try RangeSegTool.run(["import", folder + "/SalsaNext", "--network", "darknet21", "--out", dir.appendingPathComponent("y").path])
        #expect(result.status != 0 && result.stderr.contains("does not match the model"), "\(result.stderr)")
    }
}
