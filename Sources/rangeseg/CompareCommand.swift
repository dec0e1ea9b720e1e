import ArgumentParser
import Formats
import Foundation
import Losses
import RangeSegKit
import Training

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the same network with several losses and seeds, and compare them.",
        discussion: """
        For every loss and seed: a training run in OUT/<loss>-seed<k>, then the best checkpoint's \
        validation IoU. Writes OUT/comparison.md (mean and spread of mIoU and of each class's IoU \
        per loss) and OUT/gain.png with OUT/gain.svg: the per-class IoU gain (points) of \
        --loss-of-interest over --baseline, \
        classes ordered from the most to the least common (content of the label config), like the \
        paper's figure. Runs already in OUT are resumed, finished ones only evaluated, so an \
        interrupted comparison continues where it stopped.

        Example:
          rangeseg compare --dataset out/synthetic --train-sequences 00,01 \\
            --valid-sequences 08 --losses ce,wce,focal,lovasz+wce,subclassified \\
            --seeds 3 --epochs 5 --out out/compare
        """
    )

    @Option(help: "Dataset root in the SemanticKITTI layout.", transform: { URL(fileURLWithPath: $0) })
    var dataset: URL

    @Option(help: ArgumentHelp("Losses to compare, comma-separated: names (ce, wce, focal, dice, lovasz, subclassified, centroid) or sums with + such as lovasz+wce or subclassified:0.5+ce:0.5.", valueName: "list"),
            transform: { text in try text.split(separator: ",").map { try parseLoss($0.replacingOccurrences(of: "+", with: ",")) } })
    var losses: [LossSpec] = [LossSpec(.ce), LossSpec(.wce), LossSpec(.subclassified)]

    @Option(help: "Seeds per loss (0, 1, ...).")
    var seeds: Int = 1

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "The loss whose gain the bar chart shows (default: subclassified if compared, else the last).",
            transform: { try parseLoss($0.replacingOccurrences(of: "+", with: ",")) })
    var lossOfInterest: LossSpec?

    @Option(help: "The loss it is compared with (default: ce if compared, else the first).",
            transform: { try parseLoss($0.replacingOccurrences(of: "+", with: ",")) })
    var baseline: LossSpec?

    @OptionGroup var training: TrainingOptions
    @OptionGroup var labelConfig: LabelConfigOption

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if losses.isEmpty { throw ValidationError("--losses names no loss") }
        if Set(losses.map(\.description)).count != losses.count { throw ValidationError("--losses names a loss twice") }
    }

    func run() throws {
        let labels = try labelConfig.load()
        var comparison = LossComparison(base: try training.resolvedConfig(), labels: labels, dataset: dataset,
                                        losses: losses, seeds: seeds)
        comparison.maxStepsPerEpoch = training.maxStepsPerEpoch
        var bar: ProgressBar?
        let report = try comparison.run(out: out) { event in
            switch event {
            case let .runStarted(loss, seed, directory):
                print("== \(loss), seed \(seed) -> \(directory.path)")
            case let .training(.epochStarted(epoch, steps)):
                bar = ProgressBar("epoch \(epoch + 1)/\(comparison.base.epochs)", total: steps, unit: "steps")
            case let .training(.step(_, _, _, loss, _)):
                bar?.advance(status: String(format: "loss %.4f", loss))
            case let .training(.epochFinished(epoch, trainLoss, validation, _, seconds)):
                bar?.finish()
                print(String(format: "epoch %d: train loss %.4f, valid mIoU %.1f%%, %.0f s", epoch + 1, trainLoss,
                             (validation?.meanIoU ?? 0) * 100, seconds))
            case .training(.started):
                break
            }
        }
        let markdown = report.markdown()
        try AtomicFile.write(Data(markdown.utf8), to: out.appendingPathComponent("comparison.md"))
        print(markdown)
        let interest = lossOfInterest ?? (losses.contains(LossSpec(.subclassified)) ? LossSpec(.subclassified) : losses.last!)
        let base = baseline ?? (losses.contains(LossSpec(.ce)) ? LossSpec(.ce) : losses.first!)
        if interest != base, let chart = report.gainChart(of: interest, over: base) {
            try chart.write(png: out.appendingPathComponent("gain.png"), svg: out.appendingPathComponent("gain.svg"))
            print("Gain chart: \(out.appendingPathComponent("gain.png").path) (and gain.svg)")
        }
        print("Table: \(out.appendingPathComponent("comparison.md").path)")
    }
}
