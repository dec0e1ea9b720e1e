import ArgumentParser
import Evaluation
import Formats
import Foundation
import Losses
import SemanticKITTI
import Training

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the same network with several losses and seeds, and compare them.",
        discussion: """
        For every loss and seed: a training run in OUT/<loss>-seed<k>, then the best checkpoint's \
        validation IoU. Writes OUT/comparison.md (mean and spread of mIoU and of each class's IoU \
        per loss) and OUT/gain.png: the per-class IoU gain of --loss-of-interest over --baseline, \
        classes ordered from the most to the least common (content of the label config), like the \
        paper's figure.

        Example:
          rangeseg compare --dataset out/synthetic --losses ce,wce,focal,subclassified --seeds 3 --epochs 5 --out out/compare
        """
    )

    @OptionGroup var training: TrainingOptions

    @Option(help: "Losses to compare, comma-separated names (ce, wce, focal, dice, lovasz, subclassified, centroid).")
    var losses: String = "ce,wce,subclassified"

    @Option(help: "Seeds per loss (0, 1, ...).")
    var seeds: Int = 1

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "The loss whose gain the bar chart shows (default: subclassified if compared, else the last).")
    var lossOfInterest: String?

    @Option(help: "The loss it is compared with (default: ce if compared, else the first).")
    var baseline: String?

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
    }

    func run() throws {
        let names = losses.split(separator: ",").map(String.init)
        for name in names { _ = try LossSpec(parsing: name) }
        guard Set(names).count == names.count else { throw ValidationError("--losses names a loss twice") }
        let labels = try training.labelConfig.load()
        let outURL = URL(fileURLWithPath: out)
        var results: [String: [EvaluationReport]] = [:]
        for name in names {
            for seed in 0 ..< seeds {
                var config = try training.resolvedConfig(loss: name)
                config.seed = UInt64(seed)
                let run = outURL.appendingPathComponent("\(name)-seed\(seed)")
                print("== \(name), seed \(seed) -> \(run.path)")
                let trainer = try Trainer(config: config, labels: labels, dataset: URL(fileURLWithPath: training.dataset), run: run)
                trainer.maxStepsPerEpoch = training.maxStepsPerEpoch
                let resume = FileManager.default.fileExists(atPath: RunDirectory(run).last.path)
                try TrainCommand.train(trainer, resume: resume, labels: labels, quiet: true)
                guard let report = try trainer.evaluate(checkpoint: RunDirectory(run).best) else {
                    throw ValidationError("no validation scans: pass --valid-sequences")
                }
                results[name, default: []].append(report)
            }
        }
        let interest = lossOfInterest ?? (names.contains("subclassified") ? "subclassified" : names.last!)
        let base = baseline ?? (names.contains("ce") ? "ce" : names.first!)
        let order = Self.prevalenceOrder(labels)
        let markdown = Self.markdown(results: results, names: names, labels: labels, order: order, seeds: seeds)
        try AtomicFile.write(Data(markdown.utf8), to: outURL.appendingPathComponent("comparison.md"))
        print(markdown)
        if let a = results[interest], let b = results[base], interest != base {
            let gains = order.map { c in Self.mean(a.map { $0.confusion.iou()[c] }) - Self.mean(b.map { $0.confusion.iou()[c] }) }
            let chart = Chart.bars(categories: order.map { labels.className(learning: $0) },
                                   series: [Chart.Series(name: "\(interest) - \(base)", points: gains.enumerated().map { (Double($0), $1 * 100) }, color: Chart.palette[0])],
                                   title: "IoU gain (points) of \(interest) over \(base), classes by prevalence")
            try chart.write(png: outURL.appendingPathComponent("gain.png"))
            print("Gain chart: \(outURL.appendingPathComponent("gain.png").path)")
        }
        print("Table: \(outURL.appendingPathComponent("comparison.md").path)")
    }

    /// Included learning classes, most common first.
    static func prevalenceOrder(_ labels: LabelConfig) -> [Int] {
        let content = labels.learningContent()
        let ignored = Set(labels.learningIgnore.filter(\.value).map(\.key))
        return (0 ..< labels.classCount).filter { !ignored.contains($0) }.sorted { content[$0] > content[$1] }
    }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }

    static func spread(_ v: [Double]) -> Double {
        guard v.count > 1 else { return 0 }
        let m = mean(v)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    }

    static func markdown(results: [String: [EvaluationReport]], names: [String], labels: LabelConfig, order: [Int], seeds: Int) -> String {
        func cell(_ v: [Double]) -> String {
            seeds > 1 ? String(format: "%.1f ± %.1f", mean(v) * 100, spread(v) * 100) : String(format: "%.1f", mean(v) * 100)
        }
        var lines = ["| loss | mIoU | " + order.map { labels.className(learning: $0) }.joined(separator: " | ") + " |"]
        lines.append("|" + String(repeating: " --- |", count: order.count + 2))
        for name in names {
            let reports = results[name] ?? []
            let row = [name, cell(reports.map(\.meanIoU))] + order.map { c in cell(reports.map { $0.confusion.iou()[c] }) }
            lines.append("| " + row.joined(separator: " | ") + " |")
        }
        let note = seeds > 1 ? "mean ± standard deviation over \(seeds) seeds" : "one seed"
        return "Validation IoU in % (\(note)); classes ordered by prevalence.\n\n" + lines.joined(separator: "\n") + "\n"
    }
}
