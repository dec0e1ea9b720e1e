import Foundation
import Testing
import TestSupport
import Evaluation
import Formats
import Training

/// `mpirun` from the PATH (tools/setup.sh installs Open MPI's openmpi-bin).
enum MPIRun {
    static let url: URL? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    /// Whether the tests that need it run: when it is there, and always under CI.
    static var shouldRun: Bool { (url != nil && SampleData.isPresent) || SampleData.isCI }
    static let skipReason = "mpirun (openmpi-bin) or the SemanticKITTI sample is missing; skipped outside CI"

    /// Runs `rangeseg arguments` on `ranks` ranks of this machine, each with one OpenMP thread,
    /// as CI does: `mpirun --allow-run-as-root --oversubscribe -np N`.
    static func rangeseg(ranks: Int, _ arguments: [String]) throws -> ProcessOutput {
        try SampleData.require()
        let mpirun = try #require(url, "CI=true but mpirun is not on the PATH (tools/setup.sh installs openmpi-bin)")
        let binary = try #require(RangeSegTool.url, "rangeseg was not built beside the tests")
        return try run(mpirun, ["--allow-run-as-root", "--oversubscribe", "-np", String(ranks), "-x", "OMP_NUM_THREADS",
                                binary.path] + arguments)
    }

    /// Runs `rangeseg arguments` as one process with one OpenMP thread, without mpirun.
    static func rangeseg(_ arguments: [String]) throws -> ProcessOutput {
        try run(try #require(RangeSegTool.url, "rangeseg was not built beside the tests"), arguments)
    }

    /// One OpenMP thread everywhere: oneDNN then sums in the same order in every process, so
    /// the ranks' arithmetic is the single process's, and differences show the design, not
    /// the thread count.
    private static func run(_ executable: URL, _ arguments: [String]) throws -> ProcessOutput {
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        return try ChildProcess.run(executable, arguments, environment: environment)
    }
}

/// Data-parallel training across ranks started by `mpirun`, against one process accumulating
/// gradients: equivalence of the steps, the run directory, validation, resuming on another
/// number of ranks, failures. Small: 64 x 512 images, a three-stage network of narrow layers.
@Suite(.serialized) struct DistributedTrainingTests {
    let labelConfig = SampleData.projectConfig.path

    /// A dataset of five labelled scans: the sample's three (sequence 00) and two of them again
    /// as sequence 01 (symbolic links), so that 2 ranks of batch 1 take three steps per epoch,
    /// the last with one micro-batch (rank 1 has none).
    func dataset() throws -> URL {
        let root = SampleData.temporaryDirectory("mpi-data")
        let sequences = root.appendingPathComponent("sequences")
        let manager = FileManager.default
        try manager.createDirectory(at: sequences.appendingPathComponent("00"), withIntermediateDirectories: true)
        for part in ["velodyne", "labels"] {
            try manager.createSymbolicLink(at: sequences.appendingPathComponent("00/\(part)"),
                                           withDestinationURL: SampleData.sequence00.appendingPathComponent(part))
            try manager.createDirectory(at: sequences.appendingPathComponent("01/\(part)"), withIntermediateDirectories: true)
        }
        for frame in [0, 1] {
            try manager.createSymbolicLink(at: sequences.appendingPathComponent(String(format: "01/velodyne/%06d.bin", frame)),
                                           withDestinationURL: SampleData.scan(frame))
            try manager.createSymbolicLink(at: sequences.appendingPathComponent(String(format: "01/labels/%06d.label", frame)),
                                           withDestinationURL: SampleData.labels(frame))
        }
        return root
    }

    /// The training file of these tests (flags add epochs, runs and accumulation).
    func trainingFile() throws -> URL {
        let url = SampleData.temporaryDirectory("mpi-config").appendingPathComponent("small.yaml")
        try Data("""
        sensor:
          width: 512
        architecture:
          widths: [8, 16, 32]
          blocks: [1, 1, 1]
        batch_size: 1
        optimizer:
          learning_rate: 0.02
        schedule:
          warmup_epochs: 0
        precise_batch_norm_scans: 2
        train_sequences: ["00", "01"]
        valid_sequences: ["00"]
        seed: 3

        """.utf8).write(to: url)
        return url
    }

    func arguments(data: URL, config: URL, run: URL, epochs: Int, _ more: [String] = []) -> [String] {
        // fp32: the comparisons are to 1e-5 (auto may pick bf16 where the CPU runs it faster).
        ["train", "--dataset", data.path, "--train-config", config.path, "--label-config", labelConfig, "--run", run.path,
         "--epochs", String(epochs), "--precision", "fp32"] + more
    }

    /// The largest difference between two model files relative to the largest value, per
    /// tensor (the worst tensor's); integer tensors (batch counters) must be equal.
    func relativeDifference(_ a: URL, _ b: URL) throws -> Double {
        let x = try SafeTensors.read(from: a), y = try SafeTensors.read(from: b)
        #expect(Set(x.tensors.keys) == Set(y.tensors.keys))
        var worst = 0.0
        for (name, entry) in x.tensors {
            let other = try #require(y.tensors[name])
            if entry.dtype == .int64 {
                #expect(entry.int64 == other.int64, "\(name): \(entry.int64) and \(other.int64)")
                continue
            }
            let u = entry.floats, v = other.floats
            let largest = Double(u.map(abs).max() ?? 0)
            let difference = Double(zip(u, v).map { abs($0 - $1) }.max() ?? 0)
            if largest > 0 { worst = max(worst, difference / largest) } else { #expect(difference == 0, "\(name)") }
        }
        return worst
    }

    func lines(_ url: URL) throws -> [[String]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
    }

    /// The losses of steps.csv, which must name the same steps with the same learning rates.
    func expectSameSteps(_ a: URL, _ b: URL) throws {
        let x = try lines(a.appendingPathComponent("steps.csv")), y = try lines(b.appendingPathComponent("steps.csv"))
        #expect(x.count == y.count)
        for (r, s) in zip(x, y) {
            #expect(r[0] == s[0] && r[1] == s[1] && r[3] == s[3], "\(r) and \(s)")
            let (l, m) = (try #require(Double(r[2])), try #require(Double(s[2])))
            #expect(abs(l - m) <= 1e-5 * abs(l), "step \(r[1]): loss \(l) and \(m)")
        }
    }

    func files(in run: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: run.path).sorted()
    }

    @Test(.enabled(if: MPIRun.shouldRun, Comment(rawValue: MPIRun.skipReason)))
    func twoRanksTakeTheStepsOfOneProcessAccumulatingTwo() throws {
        let data = try dataset(), config = try trainingFile()
        let dir = SampleData.temporaryDirectory("mpi-equivalence")
        let ranks = dir.appendingPathComponent("ranks"), single = dir.appendingPathComponent("single")
        let parallel = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: ranks, epochs: 1))
        #expect(parallel.status == 0, "\(parallel.stderr)")
        let accumulating = try MPIRun.rangeseg(arguments(data: data, config: config, run: single, epochs: 1, ["--accumulate", "2"]))
        #expect(accumulating.status == 0, "\(accumulating.stderr)")

        // Three steps of two scans' gradients (the last of one), the same in both.
        #expect(try lines(ranks.appendingPathComponent("steps.csv")).count == 3)
        try expectSameSteps(ranks, single)
        let difference = try relativeDifference(ranks.appendingPathComponent("last.safetensors"), single.appendingPathComponent("last.safetensors"))
        #expect(difference <= 1e-5, "parameters differ by \(difference) of their size")

        // Rank 0 alone prints: one start line, one line per epoch; rank 1 says nothing.
        #expect(parallel.stdout.components(separatedBy: "Training rangenet-lite").count == 2, "\(parallel.stdout)")
        #expect(parallel.stdout.components(separatedBy: "epoch 1: train loss").count == 2)
        #expect(parallel.stdout.contains("2 ranks x 1 micro-batch x 1 scan: 2 scans per step"))
        #expect(parallel.stdout.contains("all-reduce"))
        #expect(!parallel.stderr.contains("rank 1"))
        #expect(accumulating.stdout.contains("1 rank x 2 micro-batches x 1 scan: 2 scans per step"))

        // The same kind of run directory; config.yaml records the launch and the learning rate.
        #expect(try files(in: ranks) == files(in: single))
        #expect(try files(in: ranks) == ["best.safetensors", "config.yaml", "epochs.csv", "last.safetensors", "loss.png", "loss.svg",
                                         "miou.png", "miou.svg", "resume.safetensors", "steps.csv"])
        let recorded = try String(contentsOf: ranks.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(recorded.contains("distributed:\n  ranks: 2\n  batch_per_rank: 1\n  accumulate: 1\n  global_batch: 2\n"), "\(recorded)")
        #expect(recorded.contains("  learning_rate: 0.02\n"))
        let alone = try String(contentsOf: single.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(alone.contains("distributed:\n  ranks: 1\n  batch_per_rank: 1\n  accumulate: 2\n  global_batch: 2\n"), "\(alone)")
    }

    /// Validation split over two ranks (scans 0 and 2 on rank 0, scan 1 on rank 1) gives the
    /// confusion matrix that one process finds for the same checkpoint (`rangeseg infer`, then
    /// `rangeseg evaluate --json`, whose report holds the matrix): compared through every
    /// figure of it the run records (mIoU, accuracy, each class's IoU), as exact numbers.
    @Test(.enabled(if: MPIRun.shouldRun, Comment(rawValue: MPIRun.skipReason)))
    func validationOnTwoRanksEqualsOneProcessEvaluatingTheCheckpoint() throws {
        let data = try dataset(), config = try trainingFile()
        let dir = SampleData.temporaryDirectory("mpi-validation")
        let run = dir.appendingPathComponent("run")
        let trained = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: run, epochs: 1))
        #expect(trained.status == 0, "\(trained.stderr)")
        let predictions = dir.appendingPathComponent("predictions")
        let inferred = try MPIRun.rangeseg(["infer", "--checkpoint", run.appendingPathComponent("last.safetensors").path, "--dataset", data.path,
                                         "--sequences", "00", "--out", predictions.path, "--label-config", labelConfig])
        #expect(inferred.status == 0, "\(inferred.stderr)")
        let scores = dir.appendingPathComponent("scores.json")
        let evaluated = try MPIRun.rangeseg(["evaluate", "--dataset", data.path, "--predictions", predictions.path, "--sequences", "00",
                                          "--json", scores.path, "--label-config", labelConfig])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let reports = try JSONDecoder().decode([String: EvaluationReport].self, from: Data(contentsOf: scores))
        let confusion = try #require(reports["as written"]).confusion
        // epochs.csv: epoch, train loss, mIoU, accuracy, the IoU of every learning class.
        let row = try #require(try EpochRow.read(RunDirectory(run)).first)
        #expect(row.mIoU == confusion.meanIoU())
        #expect(row.accuracy == confusion.accuracy())
        #expect(row.classIoU == confusion.iou())
        #expect(confusion.iou().contains { $0 > 0 }, "a network that labels nothing right compares nothing")
    }

    @Test(.enabled(if: MPIRun.shouldRun, Comment(rawValue: MPIRun.skipReason)))
    func aRunResumesOnAnotherNumberOfRanks() throws {
        let data = try dataset(), config = try trainingFile()
        let dir = SampleData.temporaryDirectory("mpi-resume")

        // Started on 2 ranks, resumed in one process: it accumulates 2 to keep 2 scans per step.
        let straight = dir.appendingPathComponent("two-ranks"), resumed = dir.appendingPathComponent("two-then-one")
        var result = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: straight, epochs: 2))
        #expect(result.status == 0, "\(result.stderr)")
        result = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: resumed, epochs: 1))
        #expect(result.status == 0, "\(result.stderr)")
        result = try MPIRun.rangeseg(arguments(data: data, config: config, run: resumed, epochs: 2, ["--resume"]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("resuming at epoch 2"))
        #expect(result.stdout.contains("(accumulating 2, not 1, to keep the run's global batch)"), "\(result.stdout)")
        var difference = try relativeDifference(straight.appendingPathComponent("last.safetensors"), resumed.appendingPathComponent("last.safetensors"))
        #expect(difference <= 1e-5, "a run resumed on 1 rank differs by \(difference)")
        try expectSameSteps(straight, resumed)
        let recorded = try String(contentsOf: resumed.appendingPathComponent("config.yaml"), encoding: .utf8)
        #expect(recorded.contains("distributed:\n  ranks: 1\n  batch_per_rank: 1\n  accumulate: 2\n  global_batch: 2\n"), "\(recorded)")

        // Started in one process accumulating 2, resumed on 2 ranks.
        let alone = dir.appendingPathComponent("one"), spread = dir.appendingPathComponent("one-then-two")
        result = try MPIRun.rangeseg(arguments(data: data, config: config, run: alone, epochs: 2, ["--accumulate", "2"]))
        #expect(result.status == 0, "\(result.stderr)")
        result = try MPIRun.rangeseg(arguments(data: data, config: config, run: spread, epochs: 1, ["--accumulate", "2"]))
        #expect(result.status == 0, "\(result.stderr)")
        result = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: spread, epochs: 2, ["--resume"]))
        #expect(result.status == 0, "\(result.stderr)")
        difference = try relativeDifference(alone.appendingPathComponent("last.safetensors"), spread.appendingPathComponent("last.safetensors"))
        #expect(difference <= 1e-5, "a run resumed on 2 ranks differs by \(difference)")
        try expectSameSteps(alone, spread)
        #expect(try EpochRow.read(RunDirectory(alone)) == EpochRow.read(RunDirectory(spread)))

        // 2 ranks of 2 scans cannot make the run's 2 scans per step: rank 0 says so, nothing trains.
        result = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: spread, epochs: 3, ["--resume", "--batch-size", "2"]))
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank 0: the run trains with 2 scans per step"), "\(result.stderr)")
        #expect(try EpochRow.read(RunDirectory(spread)).count == 2)
    }

    /// A scan that only rank 1 reads (validation scan 1) is broken: rank 1 names itself and the
    /// file, and the whole job stops.
    @Test(.enabled(if: MPIRun.shouldRun, Comment(rawValue: MPIRun.skipReason)))
    func aFailureOnOneRankStopsEveryRankAndNamesIt() throws {
        let data = try dataset(), config = try trainingFile()
        let validation = data.appendingPathComponent("sequences/08")
        for part in ["velodyne", "labels"] {
            try FileManager.default.createDirectory(at: validation.appendingPathComponent(part), withIntermediateDirectories: true)
        }
        for frame in 0 ..< 3 {
            let scan = try Data(contentsOf: SampleData.scan(frame))
            // Scan 1 is cut short.
            try (frame == 1 ? scan.prefix(1000) : scan).write(to: validation.appendingPathComponent(String(format: "velodyne/%06d.bin", frame)))
            try FileManager.default.copyItem(at: SampleData.labels(frame),
                                             to: validation.appendingPathComponent(String(format: "labels/%06d.label", frame)))
        }
        let run = SampleData.temporaryDirectory("mpi-failure").appendingPathComponent("run")
        var result = try MPIRun.rangeseg(ranks: 2, arguments(data: data, config: config, run: run, epochs: 2, ["--valid-sequences", "08"]))
        #expect(result.status != 0)
        #expect(result.stderr.contains("rank 1: \(validation.path)/velodyne/000001.bin: size 1000 bytes is not a multiple of 16"), "\(result.stderr)")
        #expect(!result.stderr.contains("rank 0:"))
        #expect(!result.stdout.contains("epoch 1: train loss"), "no epoch finished")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("last.safetensors").path))

        // Only train runs on several ranks; a usage error is told once.
        result = try MPIRun.rangeseg(ranks: 2, ["evaluate", "--dataset", data.path, "--predictions", run.path, "--label-config", labelConfig])
        #expect(result.status != 0)
        #expect(result.stderr.components(separatedBy: "only rangeseg train runs on several ranks").count == 2, "\(result.stderr)")
    }
}
