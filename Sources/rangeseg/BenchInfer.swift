import ArgumentParser
import CommandOptions
import Engine
import Formats
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
    @Option(help: ArgumentHelp("Also label these scans as rangeseg infer does (a folder of .bin/.pcd/.ply files or a sequence folder), overlapping only the writing or all the work with the network, with and without the range k-NN, and compare the scans per second with the network's.",
                               valueName: "folder"),
            transform: { URL(fileURLWithPath: $0) })
    var pipeline: URL?
    @Option(help: "Rounds of the --pipeline timing (each times the network again).")
    var rounds = 3

    @OptionGroup var network: NetworkOptions
    @OptionGroup var settings: SettingFlags<InferenceSettings>
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0, rounds > 0 else {
            throw ValidationError("--batch, --steps and --rounds must be positive, --warmup not negative")
        }
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
        report.figures(title: "infer: \(architecture.name), batch \(batch), \(architecture.inputChannels) x \(h) x \(w), \(architecture.classes) classes, \(segmenter.config.precision.choiceOnThisCPU.description)\(segmenter.config.inferenceWinogradNote)").forEach { print($0) }
        if let pipeline { try timePipeline(pipeline, segmenter: segmenter, labels: labels, input: input) }
    }

    /// `rangeseg infer`'s labelling of the scans in `folder`, with either overlap, with and
    /// without the range k-NN: scans per second against the network's (`LabellingTimings`).
    func timePipeline(_ folder: URL, segmenter: Segmenter, labels: LabelConfig, input: Tensor) throws {
        let items = try ScanSource.items([folder])
        let group = 3
        print("labelling \(items.count) scans of \(folder.path), \(rounds) rounds (in groups of \(group) scans, the network alone and the labelling in turn):")
        let image = Tensor(shape: [1] + Array(input.shape.dropFirst()), scalars: Array(input.scalars.prefix(input.scalarCount / input.shape[0])))
        let timings = try LabellingTimings.measure(items, segmenter: segmenter, labels: labels, input: image, rounds: rounds, group: group)
        func name(_ run: LabellingTimings.Run) -> String {
            String(format: "--cleanup %-5@ overlapping %@", run.cleanup.rawValue, run.overlap == .all ? "all    " : "writing")
        }
        for (number, round) in timings.rounds.enumerated() {
            print("  round \(number + 1):")
            for run in round {
                print(String(format: "    %@: %.1f ms per scan (%.2f scans/s), the network alone %.1f ms: %.2f of the network's rate",
                             name(run), run.labellingMilliseconds, 1000 / run.labellingMilliseconds, run.networkMilliseconds, run.ratio))
            }
        }
        let note = " (rangeseg infer overlaps \(Labelling.overlapPays ? "all" : "the writing only") here)"
        print("the labelling's rate over the network's, median (range) of \(rounds) rounds\(note):")
        for (i, run) in timings.rounds[0].enumerated() {
            let values = timings.rounds.map { $0[i].ratio }
            print(String(format: "  %@: %.2f (%.2f-%.2f)", name(run), values.median()!, values.min()!, values.max()!))
        }
    }
}
