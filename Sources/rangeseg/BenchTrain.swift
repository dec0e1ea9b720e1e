import ArgumentParser
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
    @Option(help: "The loss (overrides the configuration's), e.g. ce or subclassified.", transform: parseLoss)
    var loss: LossSpec?
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
        if let loss { config.loss.terms = loss }
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
        report.printFigures(title: "train: \(config.architecture.name), batch \(config.batchSize), \(config.architecture.inputChannels) x \(h) x \(w), \(labels.classCount) classes, loss \(config.loss.terms), \(config.optimizer.kind.rawValue), \(precisionTitle(config.precision)), \(data)")
    }
}

extension BenchmarkReport {
    /// Prints the figures of a network benchmark (shared by `bench train` and `bench infer`).
    func printFigures(title: String) {
        print(title)
        print("  parameters      \(parameterCount)")
        print("  threads         \(ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "OpenMP default") (OMP_NUM_THREADS)")
        print("  steps (ms)      " + stepMilliseconds.map { String(format: "%.1f", $0) }.joined(separator: " "))
        print(String(format: "  median          %.1f ms per step (mean %.1f, best %.1f)", medianMilliseconds, meanMilliseconds,
                     stepMilliseconds.min() ?? 0))
        if !cpuMilliseconds.isEmpty {
            print(String(format: "  CPU time        %.1f ms per step (median; all threads, OpenMP spinning included)", medianCPUMilliseconds))
        }
        if !phases.isEmpty {
            func median(_ values: [Double]) -> Double { values.median() ?? 0 }
            print(String(format: "  phases (median) forward %.1f, loss %.1f, backward %.1f, update %.1f ms",
                         median(phases.map(\.forward)), median(phases.map(\.loss)), median(phases.map(\.backward)),
                         median(phases.map(\.update))))
        }
        print(String(format: "  work            %.1f GFLOP per step (convolutions)", flopsPerStep / 1e9))
        print(String(format: "  achieved        %.1f GFLOP/s at the median", gigaflopsPerSecond))
        print(String(format: "  peak memory     %.2f GB (VmHWM)", Double(peakResidentBytes) / 1e9))
        if let profile { printProfile(profile) }
    }

    /// oneDNN's time per primitive kind per step, and what the step spent outside oneDNN.
    private func printProfile(_ profile: EngineProfile) {
        print("  profile (ms per step; oneDNN primitives by kind, then the rest)")
        let step = meanMilliseconds
        for (kind, entry) in profile.byTime {
            print("    " + padded(kind) + String(format: " %7.1f  %4.1f%%  %5d calls", entry.milliseconds,
                                                 100 * entry.milliseconds / step, entry.count))
        }
        let engine = profile.totalMilliseconds
        print("    " + padded("all oneDNN") + String(format: " %7.1f  %4.1f%%", engine, 100 * engine / step))
        if !phases.isEmpty {
            let n = Double(phases.count)
            let loss = phases.map(\.loss).reduce(0, +) / n, update = phases.map(\.update).reduce(0, +) / n
            print("    " + padded("loss phase") + String(format: " %7.1f  (Swift kernels; its oneDNN calls are counted above)", loss))
            print("    " + padded("optimiser update (Swift)") + String(format: " %7.1f", update))
        }
        print("    " + padded("not in oneDNN") + String(format: " %7.1f  (mean step %.1f ms)", step - engine, step))
    }

    private func padded(_ text: String) -> String { text.padding(toLength: 32, withPad: " ", startingAt: 0) }
}
