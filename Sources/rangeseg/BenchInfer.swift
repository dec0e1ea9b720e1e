import ArgumentParser
import CommandOptions
import Engine
import Foundation
import Inference
import Pretrained
import RangeSegKit
import Random
import SemanticKITTI
import Training

/// `rangeseg bench infer`: times the network pass that `rangeseg infer` runs.
struct BenchInfer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Time inference as rangeseg infer runs it (evaluation mode, fused, no gradients) on random data.",
        discussion: """
        The network comes from the training configuration and --network (random weights), or \
        from --checkpoint: a checkpoint with config.yaml beside it, or an official RangeNet++ or \
        SalsaNext folder. \
        Threads follow OMP_NUM_THREADS. FLOPs count convolutions only (2 x MACs).

        Examples:
          rangeseg bench infer --batch 1 --steps 20 --precision bf16 --profile
          rangeseg bench infer --network darknet53 --steps 5
          rangeseg bench infer --checkpoint ~/models/SalsaNext --precision bf16
          rangeseg bench infer --pipeline ../shared/data/semantickitti/sequences/00
        """
    )

    @Option(help: "Images per forward pass.")
    var batch = 1
    @Option(help: "Untimed warm-up passes.")
    var warmup = 2
    @Option(help: "Timed passes.")
    var steps = 10
    @Option(help: ArgumentHelp("A trained checkpoint (with config.yaml beside it) or an official model folder instead of random weights.",
                               valueName: "file|folder"),
            transform: { URL(fileURLWithPath: $0) })
    var checkpoint: URL?
    @Flag(help: "Also print oneDNN's time per primitive kind per pass.")
    var profile = false
    @Option(help: ArgumentHelp("Also label these scans as rangeseg infer does (a folder of .bin/.pcd/.ply files or a sequence folder), one after another and pipelined, with and without the range k-NN, and compare the scans per second with the network's.",
                               valueName: "folder"),
            transform: { URL(fileURLWithPath: $0) })
    var pipeline: URL?

    @OptionGroup var network: NetworkOptions
    @OptionGroup var settings: SettingFlags<InferenceSettings>
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive, --warmup not negative") }
    }

    func run() throws {
        let labels = try labelConfig.load()
        let segmenter: Segmenter
        if let checkpoint, OfficialModel.isFolder(checkpoint) {
            var flagged = TrainingConfig()
            try settings.apply(to: &flagged)
            printPrecisionNotice(flagged.precision)
            segmenter = try OfficialModel(folder: checkpoint).segmenter(precision: flagged.precision)
        } else if let checkpoint {
            var config = try TrainingConfig(checkpoint: checkpoint, flag: nil)
            try settings.apply(to: &config)
            segmenter = try Segmenter(checkpoint: checkpoint, config: network.check(config), labels: labels)
        } else {
            var config = try network.config()
            try settings.apply(to: &config)
            config = try network.check(config)
            segmenter = Segmenter(model: try TrainingStep(config: config, labels: labels).model, config: config,
                                  builder: SampleBuilder(config: config, lookup: labels.lookup()))
            segmenter.model.eval()
        }
        let (h, w) = (segmenter.config.sensor.height, segmenter.config.sensor.width)
        var generator = RandomGenerator(seed: segmenter.config.seed)
        let architecture = segmenter.config.architecture
        let input = Tensor(uniformShape: [batch, architecture.inputChannels, h, w], low: -1, high: 1, generator: &generator)
        let report = Benchmarks.infer(segmenter, input: input, warmup: warmup, steps: steps, profile: profile)
        report.figures(title: "infer: \(architecture.name), batch \(batch), \(architecture.inputChannels) x \(h) x \(w), \(architecture.classes) classes, \(segmenter.config.precision.choiceOnThisCPU.description)").forEach { print($0) }
        if let pipeline { try timePipeline(pipeline, segmenter: segmenter, labels: labels, networkMilliseconds: report.medianMilliseconds / Double(batch)) }
    }

    /// `rangeseg infer`'s labelling of the scans in `folder`, one after another and pipelined,
    /// with and without the range k-NN: scans per second against the network's.
    func timePipeline(_ folder: URL, segmenter: Segmenter, labels: LabelConfig, networkMilliseconds: Double) throws {
        let items = try ScanSource.items([folder])
        let networkRate = 1000 / networkMilliseconds
        print(String(format: "labelling %d scans of %@ (the network alone: %.1f ms per scan, %.2f scans/s):", items.count, folder.path,
                     networkMilliseconds, networkRate))
        for run in try Labelling.timings(of: items, segmenter: segmenter, labels: labels) {
            print(String(format: "  --cleanup %-5@ %@: %.2f scans/s, %.1f ms per scan, %.2f of the network's rate",
                         run.cleanup.rawValue, run.pipelined ? "pipelined        " : "one after another", run.summary.scansPerSecond,
                         1000 / run.summary.scansPerSecond, run.summary.scansPerSecond / networkRate))
        }
    }
}
