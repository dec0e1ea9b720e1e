import ArgumentParser
import Foundation
import Losses
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train RangeNet-lite on SemanticKITTI-layout sequences.",
        discussion: """
        Reads a training file (--train-config; default the built-in data/train.yaml: sensor, \
        network, loss, optimiser, schedule, augmentation), applies the flags, and trains, \
        validating after every epoch on every point of the validation scans (official mIoU). \
        The run directory gets config.yaml (the resolved configuration), last.safetensors and \
        best.safetensors (PyTorch state_dict names; optimiser state and progress in \
        last.optimizer.safetensors), steps.csv, epochs.csv, and the plots loss.png and miou.png \
        with SVG twins (loss.svg, miou.svg). --resume \
        continues a run where its last finished epoch left it, exactly.

        Examples:
          rangeseg train --dataset out/synthetic --train-sequences 00,01 \\
            --valid-sequences 08 --run out/runs/sub --epochs 5
          rangeseg train --dataset out/synthetic --run out/runs/mix --loss \\
            subclassified:0.2,ce:0.5,dice:0.3 --tau 0.95
          rangeseg train --dataset out/synthetic --run out/runs/sub --train-config \\
            my-run.yaml --resume
        """
    )

    @Option(help: "Dataset root in the SemanticKITTI layout (sequences/NN/velodyne, labels).",
            transform: { URL(fileURLWithPath: $0) })
    var dataset: URL

    @Option(name: .customLong("run"), help: "Run directory for checkpoints, logs and plots.", transform: { URL(fileURLWithPath: $0) })
    var runDirectory: URL

    @Option(help: "The loss (overrides the file): a name or a weighted sum such as subclassified:0.2,ce:0.5,dice:0.3.",
            transform: parseLoss)
    var loss: LossSpec?

    @Flag(help: "Continue the run in --run from its last finished epoch.")
    var resume = false

    @OptionGroup var training: TrainingOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func run() throws {
        try RunDirectory(runDirectory).check(resume: resume)
        var config = try training.resolvedConfig()
        if let loss { config.loss.terms = loss }
        let labels = try labelConfig.load()
        let trainer = try Trainer(config: config, labels: labels, dataset: dataset, run: runDirectory)
        trainer.maxStepsPerEpoch = training.maxStepsPerEpoch
        try TrainingProgressView(trainer: trainer).train(resume: resume)
        print("Run directory: \(runDirectory.path) (best.safetensors, last.safetensors, epochs.csv, loss.png/.svg, miou.png/.svg)")
    }
}

/// Prints a training run: a line when it starts, a progress bar per epoch, a line and the
/// per-class IoU after each validation.
struct TrainingProgressView {
    let trainer: Trainer
    var quiet = false

    func train(resume: Bool) throws {
        var bar: ProgressBar?
        let config = trainer.config
        try trainer.train(resume: resume) { event in
            switch event {
            case let .started(trainScans, validScans, steps, parameters, firstEpoch):
                if !quiet {
                    print("Training RangeNet-lite (\(parameters) parameters) on \(trainScans) scans, validating on \(validScans); "
                        + "\(steps) steps per epoch, loss \(config.loss.terms)\(firstEpoch > 0 ? ", resuming at epoch \(firstEpoch + 1)" : "").")
                }
            case let .epochStarted(epoch, steps):
                bar = ProgressBar("epoch \(epoch + 1)/\(config.epochs)", total: steps, unit: "steps",
                                  secondary: (Double(config.batchSize), "scans"))
            case let .step(_, _, _, loss, rate):
                bar?.advance(status: String(format: "loss %.4f  lr %.2e", loss, rate))
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
