import Foundation
import Testing
import TestSupport
import Formats
import SemanticKITTI

@Suite(.serialized) struct CommandTests {
    let config = SampleData.projectConfig.path

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func projectWritesTheReferenceArrays() throws {
        try SampleData.require()
        let out = SampleData.temporaryDirectory("cli-project")
        let result = try RangeSegTool.run(["project", SampleData.sequence00.path, "--out", out.path, "--png", "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Projected 6 scans"))
        let archive = try NumPyArchive(npz: out.appendingPathComponent("00/000000.npz"))
        #expect(archive.names == ["proj_range", "proj_xyz", "proj_remission", "proj_idx", "proj_mask", "proj_x", "proj_y",
                                  "unproj_range", "proj_sem_label", "proj_inst_label"])
        #expect(archive["proj_range"]?.shape == [64, 2048])
        #expect(archive["proj_x"]?.shape == [124_668])
        // proj_mask is proj_idx >= 0, point 0 included.
        let idx = try #require(archive["proj_idx"]).integers(), mask = try #require(archive["proj_mask"]).integers()
        #expect(zip(idx, mask).allSatisfy { ($0 >= 0) == ($1 == 1) })
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("00/000005.png").path))
        // Unlabelled frames (3-5) have no label arrays.
        #expect(try NumPyArchive(npz: out.appendingPathComponent("00/000004.npz"))["proj_sem_label"] == nil)
    }

    /// The data files are compiled in: a copy of the binary alone, run from another directory,
    /// still knows SemanticKITTI's labels and the default training configuration.
    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func anInstalledBinaryWorksFromAnyDirectory() throws {
        try SampleData.require()
        let bin = SampleData.temporaryDirectory("cli-installed")
        let elsewhere = SampleData.temporaryDirectory("cli-elsewhere")
        let copy = bin.appendingPathComponent("rangeseg")
        try FileManager.default.copyItem(at: try #require(RangeSegTool.url), to: copy)
        var result = try RangeSegTool.run(["project", SampleData.scan(0).path, "--labels", SampleData.labels(0).path, "--out", "out", "--png"],
                                          binary: copy, in: elsewhere)
        #expect(result.status == 0, "\(result.stderr)")
        let archive = try NumPyArchive(npz: elsewhere.appendingPathComponent("out/000000.npz"))
        #expect(archive["proj_sem_label"]?.shape == [64, 2048])
        // The old spelling of the label-config flag still works.
        result = try RangeSegTool.run(["project", SampleData.scan(0).path, "--labels", SampleData.labels(0).path, "--out", "old",
                                       "--config", SampleData.projectConfig.path], binary: copy, in: elsewhere)
        #expect(result.status == 0, "\(result.stderr)")
        result = try RangeSegTool.run(["train", "--dataset", SampleData.root.path, "--train-sequences", "00", "--valid-sequences", "00",
                                       "--run", "run", "--width", "512", "--epochs", "1", "--max-steps-per-epoch", "1",
                                       "--train-config", "missing.yaml"], binary: copy, in: elsewhere)
        #expect(result.status != 0 && result.stderr.contains("missing.yaml: no such file"))
        #expect(!result.stderr.contains("USAGE"), "a runtime failure prints one line, not the usage")
    }

    @Test func badScansGetErrorsNamingTheFile() throws {
        let dir = SampleData.temporaryDirectory("cli-bad")
        let truncated = dir.appendingPathComponent("truncated.bin")
        try Data(count: 18).write(to: truncated)
        var result = try RangeSegTool.run(["project", truncated.path, "--out", dir.appendingPathComponent("out").path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(truncated.path): size 18 bytes is not a multiple of 16"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/truncated.npz").path))

        let nan = dir.appendingPathComponent("nan.bin")
        try Scan(values: [1, 2, 3, 0, .nan, 1, 1, 0, 4, 5, 6, 0]).write(bin: nan)
        result = try RangeSegTool.run(["project", nan.path, "--out", dir.appendingPathComponent("out").path])
        #expect(result.stderr.contains("nan.bin: point 1 has a NaN or infinite coordinate"))
        result = try RangeSegTool.run(["project", nan.path, "--out", dir.appendingPathComponent("out").path, "--skip-invalid"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("Left out 1 points"))

        let labels = dir.appendingPathComponent("nan.label")
        try ScanLabels(raw: [10, 40]).write(label: labels)
        result = try RangeSegTool.run(["project", nan.path, "--labels", labels.path, "--skip-invalid", "--out", dir.path, "--label-config", config])
        #expect(result.stderr.contains("nan.label: holds 2 labels but its scan has 3 points"))

        try ScanLabels(raw: [10, 40, 7]).write(label: labels)
        result = try RangeSegTool.run(["project", nan.path, "--labels", labels.path, "--skip-invalid", "--out", dir.path, "--label-config", config])
        #expect(result.stderr.contains("nan.label: label id 7 (first at point 2, 1 points in all) is not in the config's learning_map"))

        result = try RangeSegTool.run(["project", dir.appendingPathComponent("nowhere").path, "--out", dir.path])
        #expect(result.stderr.contains("nowhere: no such file or directory"))

        result = try RangeSegTool.run(["project", nan.path, "--out", dir.path, "--fov-up=-30"])
        #expect(result.stderr.contains("fov-up (-30.0) must be above fov-down (-25.0)"))
    }

    /// Another network by name through the whole job: train (the start line names it), the run
    /// records it, and infer, evaluate, export and bench rebuild it from config.yaml.
    @Test func aNetworkByNameThroughTheWholeJob() throws {
        let dir = SampleData.temporaryDirectory("cli-network")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appendingPathComponent("data").path
        var result = try RangeSegTool.run(["synth", "--out", data, "--sequences", "00", "--scans", "2", "--seed", "5", "--firings", "512"])
        #expect(result.status == 0, "\(result.stderr)")
        let run = dir.appendingPathComponent("run").path
        result = try RangeSegTool.run(["train", "--dataset", data, "--run", run, "--train-sequences", "00", "--valid-sequences", "00",
                                       "--epochs", "1", "--width", "128", "--batch-size", "2", "--network", "salsanext",
                                       "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Training salsanext (6711572 parameters)"), "\(result.stdout)")
        #expect(try String(contentsOfFile: run + "/config.yaml", encoding: .utf8).contains("kind: salsanext"))
        result = try RangeSegTool.run(["infer", "--checkpoint", run + "/best.safetensors", "--dataset", data, "--sequences", "00",
                                       "--out", dir.appendingPathComponent("pred").path, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        result = try RangeSegTool.run(["evaluate", "--dataset", data, "--predictions", dir.appendingPathComponent("pred").path,
                                       "--sequences", "00", "--label-config", config])
        #expect(result.status == 0 && result.stdout.contains("mIoU"), "\(result.stderr)")
        result = try RangeSegTool.run(["export", "--checkpoint", run + "/best.safetensors", "--onnx", dir.appendingPathComponent("m.onnx").path,
                                       "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        result = try RangeSegTool.run(["bench", "infer", "--network", "darknet21", "--width", "64", "--steps", "1", "--warmup", "0"])
        #expect(result.status == 0 && result.stdout.contains("infer: darknet21, batch 1, 5 x 64 x 64"), "\(result.stdout)\(result.stderr)")
        result = try RangeSegTool.run(["bench", "infer", "--network", "darknet54"])
        #expect(result.status != 0 && result.stderr.contains("darknet53"), "\(result.stderr)")
        result = try RangeSegTool.run(["train", "--dataset", data, "--run", dir.appendingPathComponent("bad").path,
                                       "--network", "salsanext", "--width", "120", "--label-config", config])
        #expect(result.status != 0 && result.stderr.contains("divisible by 16"), "\(result.stderr)")
    }

    /// synth -> train -> infer -> evaluate, small enough for a debug build.
    @Test func theWholeJobOnSyntheticData() throws {
        let dir = SampleData.temporaryDirectory("cli-job")
        let data = dir.appendingPathComponent("data").path
        var result = try RangeSegTool.run(["synth", "--out", data, "--sequences", "00,08", "--scans", "3", "--seed", "5", "--firings", "512"])
        #expect(result.status == 0, "\(result.stderr)")
        let run = dir.appendingPathComponent("run").path
        result = try RangeSegTool.run(["train", "--dataset", data, "--run", run, "--train-sequences", "00", "--valid-sequences", "08",
                                       "--epochs", "2", "--width", "512", "--batch-size", "1", "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("epoch 2: train loss"))
        result = try RangeSegTool.run(["train", "--dataset", data, "--run", run, "--epochs", "2", "--label-config", config])
        #expect(result.stderr.contains("already holds a run"))
        let predictions = dir.appendingPathComponent("pred").path
        result = try RangeSegTool.run(["infer", "--checkpoint", run + "/best.safetensors", "--dataset", data, "--sequences", "08",
                                       "--out", predictions, "--format", "label,pcd", "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        for frame in ["000000", "000001", "000002"] {
            let label = predictions + "/sequences/08/predictions/\(frame).label"
            let scan = try Scan(bin: URL(fileURLWithPath: data + "/sequences/08/velodyne/\(frame).bin"))
            let predicted = try ScanLabels(label: URL(fileURLWithPath: label), pointCount: scan.count)
            // Raw SemanticKITTI ids, through learning_map_inv.
            let allowed: Set<UInt16> = [0, 10, 11, 15, 18, 20, 30, 31, 32, 40, 44, 48, 49, 50, 51, 70, 71, 72, 80, 81]
            #expect(Set(predicted.semantic).isSubset(of: allowed))
            #expect(FileManager.default.fileExists(atPath: predictions + "/sequences/08/predictions/\(frame).pcd"))
        }
        result = try RangeSegTool.run(["evaluate", "--dataset", data, "--predictions", predictions, "--sequences", "08",
                                       "--json", dir.appendingPathComponent("scores.json").path, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("mIoU"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("scores.json"))) as? [String: Any]
        #expect((json?["as written"] as? [String: Any])?["meanIoU"] is Double)
    }

    /// compare on synthetic streets: the kinds' recall, with a kind rare by its share of the
    /// training scans (pooled over them), and kinds.csv seed by seed.
    @Test func compareJudgesKindsByTheTrainingScans() throws {
        let dir = SampleData.temporaryDirectory("cli-compare-kinds")
        let data = dir.appendingPathComponent("data")
        var result = try RangeSegTool.run(["synth", "--out", data.path, "--sequences", "00,01,08", "--scans", "2", "--seed", "5", "--firings", "512"])
        #expect(result.status == 0, "\(result.stderr)")
        let out = dir.appendingPathComponent("runs")
        result = try RangeSegTool.run(["compare", "--dataset", data.path, "--train-sequences", "00,01", "--valid-sequences", "08",
                                       "--losses", "ce", "--seeds", "1", "--epochs", "1", "--max-steps-per-epoch", "1", "--width", "512",
                                       "--batch-size", "1", "--out", out.path, "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        let table = try String(contentsOf: out.appendingPathComponent("comparison.md"), encoding: .utf8)
        #expect(table.contains("rare kinds: under 10% of their class's points in the training scans."), "\(table)")
        let training = try #require(try SubclassCatalog.pooled(over: SemanticKITTIDataset(root: data).labelledFrames(sequences: ["00", "01"])))
        let validation = try SubclassCatalog(yaml: data.appendingPathComponent("sequences/08/subclasses.yaml"))
        let rows = try String(contentsOf: out.appendingPathComponent("kinds.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == validation.kinds.count)
        // Each validation kind, with the share the two training streets give it (0 if they lack it).
        for (row, kind) in zip(rows, validation.kinds) {
            let share = training.kinds.first { $0.id == kind.id }?.share ?? 0
            #expect(row[3] == kind.name && Double(row[5]) == share && row[6] == (share < SubclassCatalog.rareShare ? "1" : "0"), "\(row) \(share)")
        }
        #expect(training.kinds.map(\.share) != validation.kinds.map(\.share))  // the streets differ, so the check means something
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func compareRunsTrainingsAsProcessesAndResumes() throws {
        try SampleData.require()
        let out = SampleData.temporaryDirectory("cli-compare")
        let arguments = ["compare", "--dataset", SampleData.root.path, "--train-sequences", "00", "--valid-sequences", "00",
                         "--losses", "ce,lovasz+wce", "--seeds", "1", "--epochs", "1", "--max-steps-per-epoch", "1", "--width", "512",
                         "--jobs", "2", "--out", out.path, "--also-evaluate", SampleData.root.path, "--precision", "fp32"]
        var result = try RangeSegTool.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("2 runs (2 losses x 1 seed)") && result.stdout.contains("0 finished"))
        for run in ["ce-seed0", "lovasz+wce-seed0"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(run)/best.safetensors").path))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(run)/train.log").path))
        }
        let table = try String(contentsOf: out.appendingPathComponent("comparison.md"), encoding: .utf8)
        #expect(table.contains("| lovasz+wce | ") && table.contains("semantickitti (sequences 00) IoU in %"))
        // Seed by seed beside it: a row per arm and set of scans; no kinds in the real sample.
        let scores = try String(contentsOf: out.appendingPathComponent("scores.csv"), encoding: .utf8).split(separator: "\n")
        #expect(scores.count == 1 + 2 * 2 && scores[0].hasPrefix("loss,remedy,seed,scans,miou,accuracy,iou_"), "\(scores)")
        #expect(scores.contains { $0.hasPrefix("lovasz+wce,,0,validation,") } && scores.contains { $0.hasPrefix("ce,,0,semantickitti (sequences 00),") })
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("kinds.csv").path))
        for chart in ["gain.png", "miou-curves.png", "loss-curves.png"] where chart != "gain.png" {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(chart).path), "\(chart)")
        }
        // Run again: both runs are found finished and only evaluated.
        result = try RangeSegTool.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("2 finished, 0 to resume, 0 to start"))
        #expect(try String(contentsOf: out.appendingPathComponent("comparison.md"), encoding: .utf8) == table)
        // One more loss: the runs bar counts the one run trained, not the two only evaluated.
        var more = arguments
        more[more.firstIndex(of: "ce,lovasz+wce")!] = "ce,lovasz+wce,wce"
        result = try RangeSegTool.run(more)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("3 runs (3 losses x 1 seed) in \(out.path): 2 finished, 0 to resume, 1 to start"))
        let bar = result.stderr.split(separator: "\n").filter { $0.hasPrefix("runs ") }
        #expect(bar.count == 1 && bar[0].contains(" 1/1 ") && bar[0].contains("wce-seed0 done"), "\(bar)")
    }

    @Test func aMissingCheckpointOrItsConfigurationIsNamed() throws {
        let dir = SampleData.temporaryDirectory("cli-checkpoint")
        let missing = dir.appendingPathComponent("runs/typo/best.safetensors").path
        for arguments in [["infer", "--checkpoint", missing, "--out", dir.appendingPathComponent("pred").path, "scan.bin"],
                          ["export", "--checkpoint", missing, "--onnx", dir.appendingPathComponent("m.onnx").path],
                          ["bench", "infer", "--checkpoint", missing, "--steps", "1"]] {
            let result = try RangeSegTool.run(arguments)
            #expect(result.status != 0 && result.stderr.contains("\(missing): no such checkpoint"), "\(arguments[0]): \(result.stderr)")
        }
        // A checkpoint without the run's config.yaml beside it: that file is named, with the way out.
        let lone = dir.appendingPathComponent("lone/best.safetensors")
        try FileManager.default.createDirectory(at: lone.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: lone)
        let beside = dir.appendingPathComponent("lone/config.yaml").path
        var result = try RangeSegTool.run(["infer", "--checkpoint", lone.path, "--out", dir.appendingPathComponent("pred").path, "scan.bin"])
        #expect(result.stderr.contains("\(beside): no such file: the checkpoint's training configuration"), "\(result.stderr)")
        #expect(result.stderr.contains("pass --train-config"))
        result = try RangeSegTool.run(["bench", "infer", "--checkpoint", lone.path, "--steps", "1"])
        #expect(result.stderr.contains("\(beside): no such file") && !result.stderr.contains("--train-config"), "\(result.stderr)")
    }

    @Test func benchTitlesTheArithmeticThatRan() throws {
        let result = try RangeSegTool.run(["bench", "infer", "--precision", "bf16", "--steps", "1", "--warmup", "0", "--width", "256"])
        #expect(result.status == 0, "\(result.stderr)")
        var title = result.stdout.split(separator: "\n").first { $0.hasPrefix("infer: ") }.map(String.init) ?? ""
        // Inference runs F(4, 3) along the width by default in either precision, and says so last.
        let winograd = ", Winograd F(4,3) along the width"
        #expect(title.hasSuffix(winograd), "\(title)")
        title = String(title.dropLast(title.hasSuffix(winograd) ? winograd.count : 0))
        // Where the CPU has no bf16 kernels the run says so on standard error and runs fp32: the
        // figures' title must say fp32 then, and bf16 where bf16 ran.
        if result.stderr.contains("so this runs in fp32") {
            #expect(title.hasSuffix(", fp32 (bf16 asked; no bf16 kernels on this CPU)"), "\(title)")
        } else {
            #expect(title.hasSuffix(", bf16"), "\(title)")
        }
    }

    /// Every key of the training file is a flag, checked by name before anything runs; auto
    /// precision says in the title what it chose and why.
    @Test func settingFlagsAreCheckedByNameAndAutoSaysWhatRan() throws {
        var result = try RangeSegTool.run(["train", "--dataset", "x", "--run", "y", "--epoch", "3"])
        #expect(result.status != 0 && result.stderr.contains("unknown option --epoch (did you mean --epochs?)"), "\(result.stderr)")
        result = try RangeSegTool.run(["train", "--dataset", "x", "--run", "y", "--focal-gamma", "much"])
        #expect(result.stderr.contains("--focal-gamma: 'much' is not a valid value (number)"), "\(result.stderr)")
        result = try RangeSegTool.run(["compare", "--dataset", "x", "--out", "y", "--loss", "ce"])
        #expect(result.stderr.contains("--loss sets the one loss of train"), "\(result.stderr)")
        result = try RangeSegTool.run(["compare", "--dataset", "x", "--out", "y", "--remedies", "none,glue"])
        #expect(result.status != 0 && result.stderr.contains("'glue' is not a remedy (none, paste, mix, paste+mix)"), "\(result.stderr)")
        result = try RangeSegTool.run(["compare", "--dataset", "x", "--out", "y", "--remedies", "none,paste", "--remedy-of-interest", "mix"])
        #expect(result.stderr.contains("--remedy-of-interest mix is not among --remedies"), "\(result.stderr)")
        result = try RangeSegTool.run(["train", "--dataset", "x", "--run", "y", "--mix", "2"])
        #expect(result.stderr.contains("augmentation.mix must be in [0, 1]"), "\(result.stderr)")
        result = try RangeSegTool.run(["loss", "--logits", "l.npy", "--labels", "y.npy", "--epochs", "3"])
        #expect(result.stderr.contains("unknown option --epochs"), "loss takes the loss block's keys only: \(result.stderr)")
        result = try RangeSegTool.run(["bench", "infer", "--steps", "1", "--warmup", "0", "--width", "256"])
        #expect(result.status == 0, "\(result.stderr)")
        let title = result.stdout.split(separator: "\n").first { $0.hasPrefix("infer: ") }.map(String.init) ?? ""
        #expect(title.contains(", fp32 (") || title.contains(", bf16 ("), "auto says what it ran and why: \(title)")
    }

    @Test func evaluateReproducesAHandMadeConfusion() throws {
        // Sequence 00 with one scan of 6 points; predictions get car right twice, road once.
        let dir = SampleData.temporaryDirectory("cli-evaluate")
        let seq = dir.appendingPathComponent("sequences/00")
        try Scan(values: [Float](repeating: 1, count: 24)).write(bin: seq.appendingPathComponent("velodyne/000000.bin"))
        try ScanLabels(semantic: [10, 252, 40, 40, 0, 44]).write(label: seq.appendingPathComponent("labels/000000.label"))
        try ScanLabels(semantic: [10, 10, 40, 44, 40, 44]).write(label: seq.appendingPathComponent("predictions/000000.label"))
        let result = try RangeSegTool.run(["evaluate", "--dataset", dir.path, "--sequences", "0", "--label-config", config])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("car ") && $0.hasSuffix("100.0%") })
        #expect(lines.contains { $0.hasPrefix("road ") && $0.hasSuffix("50.0%") })
        #expect(lines.contains { $0.hasPrefix("parking ") && $0.hasSuffix("50.0%") })
        #expect(lines.contains { $0.hasPrefix("accuracy") && $0.hasSuffix("80.0%") })
        // (1 + 0.5 + 0.5) / 19 classes, as the official script averages.
        #expect(lines.contains { $0.hasPrefix("mIoU ") && $0.hasSuffix("10.5%") })
    }

    @Test func lossCommandWritesWeightsAndGradients() throws {
        let dir = SampleData.temporaryDirectory("cli-loss")
        var logits: [Float] = []
        for i in 0 ..< 2 * 3 * 8 * 32 { logits.append(Float((i * 7919) % 13) / 4 - 1.5) }
        let labels = (0 ..< 2 * 8 * 32).map { Int32($0 % 3) }
        try NumPyArray(logits, shape: [2, 3, 8, 32]).write(npy: dir.appendingPathComponent("l.npy"))
        try NumPyArray(labels, shape: [2, 8, 32]).write(npy: dir.appendingPathComponent("y.npy"))
        let result = try RangeSegTool.run(["loss", "--logits", dir.appendingPathComponent("l.npy").path,
                                           "--labels", dir.appendingPathComponent("y.npy").path, "--loss", "subclassified",
                                           "--weights-out", dir.appendingPathComponent("w.npy").path,
                                           "--grad-out", dir.appendingPathComponent("g.npy").path,
                                           "--weights-png", dir.appendingPathComponent("w.png").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("loss subclassified: "))
        #expect(try NumPyArray(npy: dir.appendingPathComponent("w.npy")).shape == [2, 8, 32])
        #expect(try NumPyArray(npy: dir.appendingPathComponent("g.npy")).shape == [2, 3, 8, 32])
        let bad = try RangeSegTool.run(["loss", "--logits", dir.appendingPathComponent("l.npy").path,
                                        "--labels", dir.appendingPathComponent("y.npy").path, "--loss", "subclassified",
                                        "--query-factor", "3"])
        #expect(bad.stderr.contains("the query grid factor 3x3 does not divide the 8x32 image"))
    }
}

/// The program of docs/library.md: built with the tests, run on the real sample, and shown on
/// that page unchanged.
@Suite(.serialized) struct LibraryTourTests {
    @Test func thePageShowsTheExampleUnchanged() throws {
        let source = try String(contentsOf: SampleData.packageRoot.appendingPathComponent("Examples/LibraryTour/main.swift"), encoding: .utf8)
        let page = try String(contentsOf: SampleData.packageRoot.appendingPathComponent("docs/library.md"), encoding: .utf8)
        #expect(page.contains("```swift\n" + source + "```\n"))
    }

    @Test(.enabled(if: SampleData.shouldRun, Comment(rawValue: SampleData.skipReason)))
    func theExampleRunsOnTheSample() throws {
        try SampleData.require()
        let dir = SampleData.temporaryDirectory("library-tour")
        let run = dir.appendingPathComponent("run")
        var result = try RangeSegTool.run(["train", "--dataset", SampleData.root.path, "--train-sequences", "00", "--valid-sequences", "00",
                                           "--run", run.path, "--epochs", "1", "--max-steps-per-epoch", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let tour = try #require(RangeSegTool.url).deletingLastPathComponent().appendingPathComponent("LibraryTour")
        result = try RangeSegTool.run([SampleData.scan(0).path, SampleData.labels(0).path, run.appendingPathComponent("best.safetensors").path],
                                      binary: tour)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("projected 124668 points"))
        #expect(result.stdout.contains("labelled 124668 points"))
        #expect(result.stdout.contains("subclassified loss "))
    }
}
