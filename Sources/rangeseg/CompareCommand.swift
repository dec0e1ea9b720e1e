import ArgumentParser
import CommandOptions
import Formats
import Foundation
import Inference
import Losses
import RangeSegKit
import SemanticKITTI

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the same network with several losses (and data-side remedies) and seeds, and compare them.",
        discussion: """
        For every loss and seed: a training run in OUT/<loss>-seed<k>, then the best checkpoint's \
        validation IoU. With --remedies every loss also trains with each remedy (rare-instance \
        paste, PolarMix-style mix), in OUT/<loss>-<remedy>-seed<k>, every arm on the same seeds. \
        Writes OUT/comparison.md (mean and spread of mIoU and of each class's IoU \
        per arm; where the validation scans have kinds of appearance, as rangeseg synth writes \
        them, also each kind's recall, the rare kinds' mean, and its gain over --baseline seed \
        by seed) and OUT/gain.png with OUT/gain.svg: the per-class IoU gain (points) of \
        --loss-of-interest (with --remedy-of-interest) over --baseline (with --baseline-remedy), \
        classes ordered from the most to the least common (content of the label config), like the \
        paper's figure. Runs already in OUT are resumed, finished ones only evaluated, so an \
        interrupted comparison continues where it stopped.

        Example:
          rangeseg compare --dataset out/synthetic --train-sequences 00,01 \\
            --valid-sequences 08 --losses ce,wce,focal,lovasz+wce,subclassified \\
            --seeds 3 --epochs 5 --out out/compare
          rangeseg compare --dataset out/synthetic --train-sequences 00,01 \\
            --valid-sequences 08 --losses ce,subclassified --remedies none,paste,mix \\
            --seeds 3 --epochs 5 --out out/remedies
        """
    )

    @Option(help: "Dataset root: SemanticKITTI's layout, or a folder of point-cloud sequences (NAME/*.pcd or *.ply with a label field).", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL

    @Option(help: ArgumentHelp("Losses to compare, comma-separated: names (ce, wce, focal, dice, lovasz, subclassified, centroid) or sums with + such as lovasz+wce or subclassified:0.5+ce:0.5.", valueName: "list"),
            transform: { text in try text.split(separator: ",").map { try parseLoss(String($0)) } })
    var losses: [LossSpec] = [LossSpec(.ce), LossSpec(.wce), LossSpec(.subclassified)]

    @Option(help: ArgumentHelp("Data-side remedies to compare beside the losses, comma-separated: none, paste (rare-class instances from other training scans; --paste instances, default \(DataRemedy.standardPaste)), mix (PolarMix-style mixing; probability --mix, default \(DataRemedy.standardMix)) or paste+mix. Without it every run's augmentation is as configured.", valueName: "list"),
            transform: { text in
                try text.split(separator: ",").map { name in
                    guard let remedy = DataRemedy(name: String(name)) else {
                        throw ValidationError("'\(name)' is not a remedy (\(DataRemedy.allCases.map(\.description).joined(separator: ", ")))")
                    }
                    return remedy
                }
            })
    var remedies: [DataRemedy]?

    @Option(help: "Seeds per arm (0, 1, ...).")
    var seeds: Int = 1

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "The loss whose gain the bar chart shows (default: subclassified if compared, else the last).",
            transform: { try parseLoss($0) })
    var lossOfInterest: LossSpec?

    @Option(help: "The loss it is compared with (default: ce if compared, else the first).",
            transform: { try parseLoss($0) })
    var baseline: LossSpec?

    @Option(help: "With --remedies: the remedy of the arm whose gain the bar chart shows (default: the last of --remedies).")
    var remedyOfInterest: DataRemedy?

    @Option(help: "With --remedies: the remedy of the arm it is compared with (default: the first of --remedies).")
    var baselineRemedy: DataRemedy?

    @Option(help: "Trainings at once, each a process of its own with an equal share of the cores (default 1: one after the other, in this process).")
    var jobs: Int = 1

    @Option(help: "Also score every best checkpoint on the labelled scans of this dataset (e.g. real scans for models trained on synthetic ones).",
            transform: { URL(fileURLWithPath: $0) })
    var alsoEvaluate: URL?

    @Option(help: ArgumentHelp("With --also-evaluate: its sequences (default 00).", valueName: "list"))
    var alsoEvaluateSequences: NameList = NameList(argument: "00")!

    @OptionGroup var training: TrainingOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if losses.isEmpty { throw ValidationError("--losses names no loss") }
        if Set(losses.map(\.description)).count != losses.count { throw ValidationError("--losses names a loss twice") }
        if let remedies {
            if remedies.isEmpty { throw ValidationError("--remedies names no remedy") }
            if Set(remedies).count != remedies.count { throw ValidationError("--remedies names a remedy twice") }
            for (flag, remedy) in [("--remedy-of-interest", remedyOfInterest), ("--baseline-remedy", baselineRemedy)] {
                if let remedy, !remedies.contains(remedy) { throw ValidationError("\(flag) \(remedy) is not among --remedies") }
            }
        } else if remedyOfInterest != nil || baselineRemedy != nil {
            throw ValidationError("--remedy-of-interest and --baseline-remedy choose among --remedies, which is not given")
        }
        if training.settings.contains("loss") { throw ValidationError("compare trains every loss of --losses (a list); --loss sets the one loss of train") }
    }

    func run() throws {
        let labels = try labelConfig.load()
        var comparison = LossComparison(base: try training.resolvedConfig(), labels: labels, dataset: dataset,
                                        losses: losses, seeds: seeds)
        comparison.remedies = remedies
        comparison.maxStepsPerEpoch = training.maxStepsPerEpoch
        if let alsoEvaluate {
            let sequences = alsoEvaluateSequences.names
            comparison.extraEvaluation = .init(name: "\(alsoEvaluate.lastPathComponent) (sequences \(sequences.joined(separator: ", ")))",
                                               dataset: alsoEvaluate, sequences: sequences)
        }
        let runs = comparison.plan(out: out)
        let pending = runs.filter { !$0.isFinished }
        let remedyCount = remedies.map { " x \($0.count) remed\($0.count == 1 ? "y" : "ies")" } ?? ""
        print("\(runs.count) run\(runs.count == 1 ? "" : "s") (\(losses.count) loss\(losses.count == 1 ? "" : "es")\(remedyCount) x \(seeds) seed\(seeds == 1 ? "" : "s")) in \(out.path): \(runs.count - pending.count) finished, "
              + "\(pending.filter { $0.finishedEpochs > 0 }.count) to resume, \(pending.filter { $0.finishedEpochs == 0 }.count) to start"
              + (jobs > 1 ? ", \(jobs) at a time" : "") + ".")
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let launcher = try comparison.launcher(jobs: jobs, out: out, executable: executable)
        let view = ComparisonProgress(epochs: comparison.base.epochs, runs: pending.count, parallel: jobs > 1)
        let report = try comparison.run(out: out, jobs: jobs, launcher: launcher) { view.show($0) }
        view.finish()
        let written = try report.write(to: out, interest: lossOfInterest, baseline: baseline,
                                       interestRemedy: remedyOfInterest, baselineRemedy: baselineRemedy)
        print(written.markdown)
        if let chart = written.gainChart { print("Gain chart: \(chart.path) (and gain.svg)") }
        print("Table: \(out.appendingPathComponent("comparison.md").path); curves: miou-curves.png, loss-curves.png (and .svg)")
    }
}

/// Prints a comparison's progress: a line per run, and in-process runs' epochs.
final class ComparisonProgress: @unchecked Sendable {
    private let epochs: Int
    private let lock = NSLock()
    private var bar: ProgressBar?
    private var overall: ProgressBar?
    private let parallel: Bool

    init(epochs: Int, runs: Int, parallel: Bool) {
        self.epochs = epochs
        self.parallel = parallel
        if parallel, runs > 0 { overall = ProgressBar("runs", total: runs, unit: "runs") }
    }

    func show(_ event: LossComparison.Event) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case let .runStarted(run):
            if !parallel {
                print("== \(run.arm), seed \(run.seed) -> \(run.directory.path)\(run.finishedEpochs > 0 ? " (resuming after epoch \(run.finishedEpochs))" : "")")
            }
        case let .training(.epochStarted(epoch, steps)):
            bar = ProgressBar("epoch \(epoch + 1)/\(epochs)", total: steps, unit: "steps")
        case let .training(.step(_, _, _, loss, _)):
            bar?.advance(status: String(format: "loss %.4f", loss))
        case let .training(.epochFinished(epoch, trainLoss, validation, _, seconds)):
            bar?.finish()
            print(String(format: "epoch %d: train loss %.4f, valid mIoU %.1f%%, %.0f s", epoch + 1, trainLoss,
                         (validation?.meanIoU ?? 0) * 100, seconds))
        case .training(.started):
            break
        case let .runFinished(run):
            // `run` is as planned: a run already finished then is not one the bar counts.
            if parallel, !run.isFinished { overall?.advance(status: "\(run.directory.lastPathComponent) done") }
        }
    }

    func finish() { overall?.finish() }
}
