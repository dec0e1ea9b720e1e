import ArgumentParser
import CommandOptions
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
        let labels = try labelConfig.load()
        let trainer = try Trainer(config: config, labels: labels, dataset: try DatasetLayouts.open(root: dataset), run: runDirectory, communicator: cluster)
        trainer.maxStepsPerEpoch = training.maxStepsPerEpoch
        trainer.initialWeights = initialWeights
        if let initialWeights, cluster.isLeader { print("Starting from the weights of \(initialWeights.path).") }
        guard cluster.isLeader else { return try trainer.train(resume: resume) }
        if let remedies = trainer.remedies { print("Augmentation: \(remedies.summary(labels: labels)).") }
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
/// per-class IoU after each validation (`Trainer.report(_:verbose:)` writes the lines).
struct TrainingProgressView {
    let trainer: Trainer
    var quiet = false

    func train(resume: Bool) throws {
        var bar: ProgressBar?
        try trainer.train(resume: resume) { event in
            switch event {
            case let .epochStarted(epoch, steps):
                bar = ProgressBar("epoch \(epoch + 1)/\(trainer.config.epochs)", total: steps, unit: "steps",
                                  secondary: (Double(trainer.plan.globalBatch), "scans"))
            case let .step(_, _, _, loss, rate):
                bar?.advance(status: String(format: "loss %.4f  lr %.2e", loss, rate))
            case .epochFinished:
                bar?.finish()
            case .started:
                break
            }
            trainer.report(event, verbose: !quiet).forEach { print($0) }
        }
    }
}
