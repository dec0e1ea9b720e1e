import ArgumentParser
import Cluster
import Foundation
import Losses
import RangeSegKit
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a network (RangeNet-lite, DarkNet-21/53, SalsaNext) on SemanticKITTI-layout sequences.",
        discussion: """
        Reads a training file (--train-config; default the built-in data/train.yaml: sensor, \
        network, loss, optimiser, schedule, augmentation), applies the flags, and trains, \
        validating after every epoch on every point of the validation scans (official mIoU). \
        The run directory gets config.yaml (the resolved configuration), last.safetensors and \
        best.safetensors (PyTorch state_dict names), resume.safetensors (model, optimiser state, \
        the loss's state and progress in one file), steps.csv, epochs.csv, and the plots \
        loss.png and miou.png with SVG twins (loss.svg, miou.svg). --resume continues a run \
        where its last finished epoch left it, exactly.

        Under mpirun every process (rank) trains the same model on its share of each step, \
        with --batch-size scans per forward pass and --accumulate passes per step; the \
        gradients are averaged over the ranks. Rank 0 writes the run directory and prints; \
        an error on any rank stops them all and names the rank. --resume keeps the run's \
        global batch (ranks x accumulate x batch size) on any number of ranks that can make \
        it. Every machine needs the dataset and the training file at the same paths.

        Examples:
          rangeseg train --dataset out/synthetic --train-sequences 00,01 \\
            --valid-sequences 08 --run out/runs/sub --epochs 5
          rangeseg train --dataset /data/kitti --run out/runs/salsa --network salsanext \\
            --loss subclassified
          rangeseg train --dataset out/synthetic --run out/runs/mix --loss \\
            subclassified:0.2+ce:0.5+dice:0.3 --tau 0.95
          rangeseg train --dataset out/synthetic --run out/runs/sub --train-config \\
            my-run.yaml --resume
          rangeseg train --dataset /data/kitti --run out/runs/tuned --init \\
            out/salsanext/last.safetensors --loss subclassified --epochs 5
          mpirun -np 8 --hostfile hosts rangeseg train --dataset /data/kitti \\
            --run /runs/big --batch-size 2
        """
    )

    @Option(help: "Dataset root: SemanticKITTI's layout (sequences/NN/velodyne, labels) or a folder of point-cloud sequences (NAME/*.pcd or *.ply with a label field).",
            transform: { URL(fileURLWithPath: $0) })
    var dataset: URL

    @Option(name: .customLong("run"), help: "Run directory for checkpoints, logs and plots.", transform: { URL(fileURLWithPath: $0) })
    var runDirectory: URL

    @Option(help: "The loss (overrides the file): a name or a weighted sum such as subclassified:0.2+ce:0.5+dice:0.3.",
            transform: parseLoss)
    var loss: LossSpec?

    @Flag(help: "Continue the run in --run from its last finished epoch.")
    var resume = false

    @Option(name: .customLong("init"),
            help: ArgumentHelp("Start the new run from these weights, e.g. RUN/last.safetensors of rangeseg import (fine-tuning); the network and sensor come from the config.yaml beside them.",
                               valueName: "safetensors"),
            transform: { URL(fileURLWithPath: $0) })
    var initialWeights: URL?

    @OptionGroup var training: TrainingOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if resume, initialWeights != nil {
            throw ValidationError("--init starts a new run from given weights and --resume continues a run: give one of them")
        }
    }

    func run() throws {
        // MPI starts here when mpirun launched this process; otherwise this is a job of one.
        let cluster = Cluster.world
        do {
            try train(on: cluster)
        } catch where cluster.size > 1 {
            stop(cluster, after: error)
        }
        cluster.finish()
    }

    func train(on cluster: any Communicator) throws {
        if cluster.isLeader { try RunDirectory(runDirectory).check(resume: resume) }
        var config = try training.resolvedConfig(initialWeights: initialWeights)
        if let loss { config.loss.terms = loss }
        let labels = try labelConfig.load()
        let trainer = try Trainer(config: config, labels: labels, dataset: try DatasetLayouts.open(root: dataset), run: runDirectory, communicator: cluster)
        trainer.maxStepsPerEpoch = training.maxStepsPerEpoch
        trainer.initialWeights = initialWeights
        if let initialWeights, cluster.isLeader { print("Starting from the weights of \(initialWeights.path).") }
        guard cluster.isLeader else { return try trainer.train(resume: resume) }
        try TrainingProgressView(trainer: trainer).train(resume: resume)
        print("Run directory: \(runDirectory.path) (best.safetensors, last.safetensors, epochs.csv, loss.png/.svg, miou.png/.svg)")
    }

    /// Ends a job of several ranks after an error on this one. A non-finite loss is found by
    /// all ranks at the same step (the loss is summed over them): rank 0 reports it and all
    /// end. Anything else may have happened here alone: this rank reports it with its number
    /// and stops the whole job.
    private func stop(_ cluster: any Communicator, after error: any Error) -> Never {
        if case TrainingError.nonFiniteLoss = error {
            if cluster.isLeader { FileHandle.standardError.write(Data("Error: \(Self.message(for: error))\n".utf8)) }
            cluster.finish()
            Foundation.exit(1)
        }
        FileHandle.standardError.write(Data("rank \(cluster.rank): \(Self.message(for: error))\n".utf8))
        cluster.abort(code: 1)
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
                    print("Training \(config.architecture.name) (\(parameters) parameters) on \(trainScans) scans, validating on \(validScans); "
                        + "\(steps) steps per epoch, loss \(config.loss.terms)\(firstEpoch > 0 ? ", resuming at epoch \(firstEpoch + 1)" : "").")
                    let plan = trainer.plan
                    if plan.ranks > 1 || plan.accumulate > 1 {
                        print("\(plan.ranks) rank\(plan.ranks == 1 ? "" : "s") x \(plan.accumulate) micro-batch\(plan.accumulate == 1 ? "" : "es") "
                            + "x \(plan.batchSize) scan\(plan.batchSize == 1 ? "" : "s"): \(plan.globalBatch) scans per step"
                            + (plan.accumulate != config.accumulate ? " (accumulating \(plan.accumulate), not \(config.accumulate), to keep the run's global batch)" : "")
                            + ".")
                    }
                }
            case let .epochStarted(epoch, steps):
                bar = ProgressBar("epoch \(epoch + 1)/\(config.epochs)", total: steps, unit: "steps",
                                  secondary: (Double(trainer.plan.globalBatch), "scans"))
            case let .step(_, _, _, loss, rate):
                bar?.advance(status: String(format: "loss %.4f  lr %.2e", loss, rate))
            case let .epochFinished(epoch, trainLoss, validation, isBest, seconds):
                bar?.finish()
                var line = String(format: "epoch %d: train loss %.4f, %.0f s", epoch + 1, trainLoss, seconds)
                if let timings = trainer.lastEpochTimings {
                    line += String(format: " (%.2f s per step", timings.medianStepSeconds)
                    if let allReduce = timings.medianAllReduceMilliseconds { line += String(format: ", all-reduce %.1f ms", allReduce) }
                    line += ")"
                }
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
                if !quiet, let usage = trainer.centroidSubclassesInUse?.filter({ $0.inUse < $0.of }), !usage.isEmpty {
                    print("  centroid subclasses in use: "
                        + usage.map { "\(trainer.labels.className(learning: $0.classID)) \($0.inUse) of \($0.of)" }.joined(separator: ", ")
                        + " (the others hold under 0.1% of their class's pixels)")
                }
            }
        }
    }
}
