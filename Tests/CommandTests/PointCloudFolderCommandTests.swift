import Foundation
import Testing
import TestSupport

/// A user's job on a folder of labelled point clouds, as on SemanticKITTI: convert the sample's
/// sequence to that layout, then train, infer and evaluate on it.
@Suite(.serialized) struct PointCloudFolderCommandTests {
    let config = SampleData.projectConfig.path

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func convertTrainInferEvaluate() throws {
        try SampleData.require()
        let dir = SampleData.temporaryDirectory("cli-folder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("pcd").path
        var result = try RangeSegTool.run(["convert", SampleData.sequence00.path, "--to", "pcd", "--out", data, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: data + "/00/000000.pcd"))

        // The label config's split names SemanticKITTI's sequences, not these folders.
        let run = dir.appendingPathComponent("run").path
        result = try RangeSegTool.run(["train", "--dataset", data, "--run", run, "--epochs", "1", "--label-config", config])
        #expect(result.status != 0 && result.stderr.contains("--train-sequences") && result.stderr.contains("its sequences: 00"),
                "\(result.stderr)")

        result = try RangeSegTool.run(["train", "--dataset", data, "--run", run, "--train-sequences", "00", "--valid-sequences", "00",
                                       "--epochs", "1", "--max-steps-per-epoch", "1", "--width", "512", "--batch-size", "1",
                                       "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("on 3 scans, validating on 3"), "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: run + "/best.safetensors"))

        let predictions = dir.appendingPathComponent("pred").path
        result = try RangeSegTool.run(["infer", "--checkpoint", run + "/best.safetensors", "--dataset", data,
                                       "--out", predictions, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Labelled 6 scans"), "\(result.stdout)")
        for frame in 0 ..< 6 {
            #expect(FileManager.default.fileExists(atPath: predictions + String(format: "/00/%06d.label", frame)))
        }

        let json = dir.appendingPathComponent("scores.json").path
        result = try RangeSegTool.run(["evaluate", "--dataset", data, "--predictions", predictions, "--sequences", "00",
                                       "--json", json, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Scored 3 scans") && result.stdout.contains("mIoU"), "\(result.stdout)")
        let scores = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        #expect(scores?["as written"] != nil)

        result = try RangeSegTool.run(["train", "--dataset", dir.path, "--run", run + "2", "--train-sequences", "00", "--label-config", config])
        #expect(result.status != 0 && result.stderr.contains("\(dir.path): not a dataset in a layout RangeSeg reads"), "\(result.stderr)")
    }
}
