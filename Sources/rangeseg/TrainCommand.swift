import ArgumentParser
import Evaluation
import Foundation
import SemanticKITTI
import Training

/// Training flags shared by `train` and `compare`: the training file and what overrides it.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Dataset root in the SemanticKITTI layout (sequences/NN/velodyne, labels).")
    var dataset: String

    @Option(help: "Training configuration (YAML; default: the project's data/train.yaml).")
    var trainConfig: String?

    @Option(help: "Epochs to train (overrides the file).")
    var epochs: Int?

    @Option(help: "Scans per step (overrides the file).")
    var batchSize: Int?

    @Option(help: "Peak learning rate (overrides the file).")
    var learningRate: Float?

    @Option(help: "Training sequences, comma-separated, e.g. 00,01 (default: the file's, else the label config's split).")
    var trainSequences: String?

    @Option(help: "Validation sequences, comma-separated (default: the file's, else the label config's split).")
    var validSequences: String?

    @Option(help: "Range-image width (overrides the file; divisible by 32 for RangeNet-lite).")
    var width: Int?

    @Option(help: "Seed of initialisation, shuffling and augmentation (overrides the file).")
    var seed: UInt64?

    @Flag(help: "Turn augmentation off.")
    var noAugmentation = false

    @Option(help: "Stop every epoch after this many steps (for quick trials).")
    var maxStepsPerEpoch: Int?

    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let maxStepsPerEpoch, maxStepsPerEpoch < 1 { throw ValidationError("--max-steps-per-epoch must be at least 1") }
    }

    /// The training file with the flags applied, checked.
    func resolvedConfig(loss: String? = nil) throws -> TrainingConfig {
        let url: URL
        if let trainConfig { url = URL(fileURLWithPath: trainConfig) } else if let found = ProjectFiles.find("data/train.yaml") {
            url = found
        } else {
            throw ValidationError("no training configuration found beside the executable; pass --train-config FILE")
        }
        var config = try TrainingConfig(yaml: url)
        if let epochs { config.epochs = epochs }
        if let batchSize { config.batchSize = batchSize }
        if let learningRate { config.optimizer.learningRate = learningRate }
        if let trainSequences { config.trainSequences = trainSequences.split(separator: ",").map { DatasetLayout.normalise(String($0)) } }
        if let validSequences { config.validSequences = validSequences.split(separator: ",").map { DatasetLayout.normalise(String($0)) } }
        if let width { config.sensor.width = width }
        if let seed { config.seed = seed }
        if noAugmentation { config.augmentation = .none }
        if let loss { config.loss.terms = loss }
        let problems = config.problems
        guard problems.isEmpty else {
            throw ValidationError("\(url.path): " + problems.joined(separator: "; "))
        }
        return config
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train RangeNet-lite on SemanticKITTI-layout sequences.",
        discussion: """
        Reads data/train.yaml (sensor, network, loss, optimiser, schedule, augmentation), applies the \
        flags, and trains, validating after every epoch on every point of the validation scans \
        (official mIoU). The run directory gets config.yaml (the resolved configuration), \
        last.safetensors and best.safetensors (PyTorch state_dict names; optimiser state and \
        progress in last.optimizer.safetensors), steps.csv, epochs.csv, loss.png and miou.png. \
        --resume continues a run where its last finished epoch left it, exactly.

        Examples:
          rangeseg train --dataset out/synthetic --run out/runs/sub --epochs 5
          rangeseg train --dataset out/synthetic --run out/runs/mix --loss subclassified:0.2,ce:0.5,dice:0.3
          rangeseg train --dataset out/synthetic --run out/runs/sub --epochs 10 --resume
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(name: .customLong("run"), help: "Run directory for checkpoints, logs and plots.")
    var runDirectory: String

    @Option(help: "The loss (overrides the file): a name or a weighted sum such as subclassified:0.2,ce:0.5,dice:0.3.")
    var loss: String?

    @Flag(help: "Continue the run in --run from its last finished epoch.")
    var resume = false

    func run() throws {
        let config = try training.resolvedConfig(loss: loss)
        let labels = try training.labelConfig.load()
        let runURL = URL(fileURLWithPath: runDirectory)
        if !resume, FileManager.default.fileExists(atPath: RunDirectory(runURL).last.path) {
            throw ValidationError("\(runDirectory) already holds a run; pass --resume to continue it or choose another --run")
        }
        if resume, !FileManager.default.fileExists(atPath: RunDirectory(runURL).last.path) {
            throw ValidationError("\(runDirectory) holds no run to resume (no last.safetensors)")
        }
        let trainer = try Trainer(config: config, labels: labels, dataset: URL(fileURLWithPath: training.dataset), run: runURL)
        trainer.maxStepsPerEpoch = training.maxStepsPerEpoch
        try Self.train(trainer, resume: resume, labels: labels)
        print("Run directory: \(runDirectory) (best.safetensors, last.safetensors, epochs.csv, loss.png, miou.png)")
    }

    /// Trains with a progress bar per epoch and a table after each validation.
    static func train(_ trainer: Trainer, resume: Bool, labels: LabelConfig, quiet: Bool = false) throws {
        var bar: ProgressBar?
        var stepStarted = Date()
        var scansPerSecond = 0.0
        let batchSize = trainer.config.batchSize
        try trainer.train(resume: resume) { event in
            switch event {
            case let .started(trainScans, validScans, steps, parameters, firstEpoch):
                if !quiet {
                    print("Training RangeNet-lite (\(parameters) parameters) on \(trainScans) scans, validating on \(validScans); "
                        + "\(steps) steps per epoch, loss \(trainer.config.loss.terms)\(firstEpoch > 0 ? ", resuming at epoch \(firstEpoch + 1)" : "").")
                }
            case let .step(epoch, step, total, loss, rate):
                if step == 1 {
                    bar = ProgressBar("epoch \(epoch + 1)/\(trainer.config.epochs)", total: total, unit: "steps")
                    stepStarted = Date()
                }
                let elapsed = Date().timeIntervalSince(stepStarted)
                scansPerSecond = Double(step * batchSize) / max(elapsed, 1e-9)
                bar?.advance(status: String(format: "loss %.4f  lr %.2e  %.2f scans/s", loss, rate, scansPerSecond))
            case let .epochFinished(epoch, trainLoss, validation, isBest, seconds):
                bar?.finish()
                var line = String(format: "epoch %d: train loss %.4f, %.0f s", epoch + 1, trainLoss, seconds)
                if let validation {
                    line += String(format: ", valid mIoU %.1f%% (present classes %.1f%%), accuracy %.1f%%%@",
                                   validation.meanIoU * 100, validation.meanIoUOfPresentClasses * 100, validation.accuracy * 100,
                                   isBest ? " - best so far" : "")
                }
                print(line)
                if let validation, !quiet {
                    let present = validation.classes.filter { $0.support > 0 }
                    print("  " + present.map { "\($0.name) \(String(format: "%.1f", $0.iou * 100))" }.joined(separator: ", "))
                }
            }
        }
    }
}
