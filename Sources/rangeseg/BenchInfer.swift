import ArgumentParser
import Engine
import Foundation
import Inference
import Pretrained
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

    @OptionGroup var network: NetworkOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        guard batch > 0, steps > 0, warmup >= 0 else { throw ValidationError("--batch and --steps must be positive, --warmup not negative") }
    }

    func run() throws {
        let labels = try labelConfig.load()
        let segmenter: Segmenter
        if let checkpoint, OfficialModel.isFolder(checkpoint) {
            printPrecisionNotice(network.precision ?? .fp32)
            segmenter = try OfficialModel(folder: checkpoint).segmenter(precision: network.precision ?? .fp32)
        } else if let checkpoint {
            var config = try checkpointConfig(checkpoint, flag: nil)
            if let precision = network.precision { config.precision = precision }
            printPrecisionNotice(config.precision)
            segmenter = try Segmenter(checkpoint: checkpoint, config: config, labels: labels)
        } else {
            let config = try network.resolvedConfig()
            segmenter = Segmenter(model: try TrainingStep(config: config, labels: labels).model, config: config,
                                  builder: SampleBuilder(config: config, lookup: labels.lookup()))
            segmenter.model.eval()
        }
        let (h, w) = (segmenter.config.sensor.height, segmenter.config.sensor.width)
        var generator = RandomGenerator(seed: segmenter.config.seed)
        let architecture = segmenter.config.architecture
        let input = Tensor(uniformShape: [batch, architecture.inputChannels, h, w], low: -1, high: 1, generator: &generator)
        let report = Benchmarks.infer(segmenter, input: input, warmup: warmup, steps: steps, profile: profile)
        report.printFigures(title: "infer: \(architecture.name), batch \(batch), \(architecture.inputChannels) x \(h) x \(w), \(architecture.classes) classes, \(precisionTitle(segmenter.config.precision))")
    }
}
