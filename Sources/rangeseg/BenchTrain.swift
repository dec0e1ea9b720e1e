import ArgumentParser
import CommandOptions
import Engine
import Formats
import Foundation
import Losses
import RangeSegKit
import SemanticKITTI
import Training

/// `rangeseg bench train`: times the training step that `rangeseg train` runs.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training steps (forward, the configured loss, backward, optimiser) as rangeseg train runs them.",
        discussion: """
        Builds the step from the training configuration (--train-config, default the built-in \
        data/train.yaml; --loss overrides its loss) and times it on data held in memory: random \
        inputs and labels, or with --dataset the labelled scans of --sequences, prepared as \
        training prepares them. Prints each step's time, the median split into forward, loss, \
        backward and optimiser update, the convolutions' GFLOP/s and the peak memory. Threads \
        follow OMP_NUM_THREADS. FLOPs count convolutions only: 2 x MACs forward, twice that backward.

        Examples:
          rangeseg bench train --loss ce --precision bf16 --profile
          rangeseg bench train --network salsanext --loss ce --steps 3
          rangeseg bench train --loss subclassified --dataset \\
            ../shared/data/semantickitti --sequences 00
        """
    )

    @Option(help: "Images per step (default: the configuration's batch size).")
    var batch: Int?
    @Option(help: "Untimed warm-up steps.")
    var warmup = 2
    @Option(help: "Timed steps.")
    var steps = 5
    @Option(help: "Dataset root: time on its labelled scans instead of random data.", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL?
    @Option(help: ArgumentHelp("With --dataset: the sequences whose labelled scans to use.", valueName: "list"))
    var sequences: NameList = NameList(argument: "00")!
    @Flag(help: "Also print oneDNN's time per primitive kind (convolution forward, backward data, ..., batch norm, eltwise, binary, reorder) per step.")
    var profile = false

    @OptionGroup var training: TrainingOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        guard steps > 0, warmup >= 0 else { throw ValidationError("--steps must be positive and --warmup not negative") }
    }

    func run() throws {
        var config = try training.resolvedConfig()
        if let batch { config.batchSize = batch }
        let labels = try labelConfig.load()
        let (h, w) = (config.sensor.height, config.sensor.width)
        let batches = try dataset.map {
            try Benchmarks.datasetBatches(dataset: try DatasetLayouts.open(root: $0), sequences: sequences.names, config: config,
                                          labels: labels, batch: config.batchSize)
        } ?? Benchmarks.randomBatches(count: 2, batch: config.batchSize, channels: config.architecture.inputChannels, classes: labels.classCount, height: h, width: w, seed: config.seed)
        guard !batches.isEmpty else { throw InputError("fewer labelled scans than --batch") }
        let report = try Benchmarks.train(config: config, labels: labels, batches: batches, warmup: warmup, steps: steps,
                                          profile: profile)
        let data = dataset == nil ? "random data" : "\(batches.count) batches of real scans"
        report.figures(title: "train: \(config.architecture.name), batch \(config.batchSize), \(config.architecture.inputChannels) x \(h) x \(w), \(labels.classCount) classes, loss \(config.loss.terms), \(config.optimizer.kind.rawValue), \(config.precision.choiceOnThisCPU.description)\(config.winogradNote), \(data)").forEach { print($0) }
    }
}
