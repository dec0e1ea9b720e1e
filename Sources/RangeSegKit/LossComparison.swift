import Evaluation
import Formats
import Foundation
import Losses
import SemanticKITTI
import Training

/// `rangeseg compare` as a library call: trains the same network with each loss and seed,
/// evaluates each run's best checkpoint on the validation scans, and reports mean and spread
/// per loss and class.
///
/// Runs go to `<out>/<loss>-seed<k>`; a run directory that already holds a run is resumed (a
/// finished one is only evaluated), so an interrupted comparison continues where it stopped.
public struct LossComparison {
    public var base: TrainingConfig
    public var labels: LabelConfig
    public var dataset: URL
    /// The losses compared (names or weighted sums, e.g. `lovasz,wce`).
    public var losses: [LossSpec]
    public var seeds: Int
    /// Stop every epoch after this many steps (quick looks); nil: whole epochs.
    public var maxStepsPerEpoch: Int?

    public init(base: TrainingConfig, labels: LabelConfig, dataset: URL, losses: [LossSpec], seeds: Int) {
        self.base = base
        self.labels = labels
        self.dataset = dataset
        self.losses = losses
        self.seeds = seeds
    }

    /// What the comparison reports as it goes.
    public enum Event {
        /// A (loss, seed) run begins in `directory`.
        case runStarted(loss: LossSpec, seed: Int, directory: URL)
        /// An event of that run's training.
        case training(TrainingEvent)
    }

    /// The run directory of a (loss, seed) pair: `<out>/<loss>-seed<k>` (`,` and `:` of weighted
    /// sums become `+` and `x`).
    public static func runDirectory(out: URL, loss: LossSpec, seed: Int) -> URL {
        let name = loss.description.replacingOccurrences(of: ",", with: "+").replacingOccurrences(of: ":", with: "x")
        return out.appendingPathComponent("\(name)-seed\(seed)")
    }

    /// Trains and evaluates every (loss, seed) pair in turn.
    public func run(out: URL, events: (Event) -> Void = { _ in }) throws -> ComparisonReport {
        var results: [[EvaluationReport]] = []
        for loss in losses {
            var reports: [EvaluationReport] = []
            for seed in 0 ..< seeds {
                var config = base
                config.loss.terms = loss
                config.seed = UInt64(seed)
                let directory = Self.runDirectory(out: out, loss: loss, seed: seed)
                events(.runStarted(loss: loss, seed: seed, directory: directory))
                let trainer = try Trainer(config: config, labels: labels, dataset: dataset, run: directory)
                trainer.maxStepsPerEpoch = maxStepsPerEpoch
                let resume = FileManager.default.fileExists(atPath: trainer.run.last.path)
                try trainer.train(resume: resume) { events(.training($0)) }
                guard let report = try trainer.evaluate(checkpoint: trainer.run.best) else { throw TrainingError.noValidationScans }
                reports.append(report)
            }
            results.append(reports)
        }
        return ComparisonReport(losses: losses, reports: results, labels: labels)
    }
}

/// The outcome of a loss comparison: each loss's validation reports, one per seed.
public struct ComparisonReport: Sendable {
    public var losses: [LossSpec]
    /// `reports[l][s]`: loss `l`, seed `s`.
    public var reports: [[EvaluationReport]]
    public var labels: LabelConfig

    public init(losses: [LossSpec], reports: [[EvaluationReport]], labels: LabelConfig) {
        self.losses = losses
        self.reports = reports
        self.labels = labels
    }

    /// Included learning classes, most common first (the label config's `content`).
    public var classesByPrevalence: [Int] {
        let content = labels.learningContent()
        let ignored = Set(labels.learningIgnore.filter(\.value).map(\.key))
        return (0 ..< labels.classCount).filter { !ignored.contains($0) }.sorted { content[$0] > content[$1] }
    }

    /// Mean and sample standard deviation (0 for one value).
    public static func meanAndSpread(_ values: [Double]) -> (mean: Double, spread: Double) {
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        guard values.count > 1 else { return (mean, 0) }
        return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot())
    }

    /// The table: one row per loss, mIoU then each class's IoU in %, mean ± standard deviation
    /// over the seeds; classes ordered by prevalence.
    public func markdown() -> String {
        let seeds = reports.first?.count ?? 0
        func cell(_ v: [Double]) -> String {
            let (mean, spread) = Self.meanAndSpread(v)
            return seeds > 1 ? String(format: "%.1f ± %.1f", mean * 100, spread * 100) : String(format: "%.1f", mean * 100)
        }
        let order = classesByPrevalence
        var lines = ["| loss | mIoU | " + order.map { labels.className(learning: $0) }.joined(separator: " | ") + " |"]
        lines.append("|" + String(repeating: " --- |", count: order.count + 2))
        for (loss, runs) in zip(losses, reports) {
            let row = [loss.description, cell(runs.map(\.meanIoU))] + order.map { c in cell(runs.map { $0.confusion.iou()[c] }) }
            lines.append("| " + row.joined(separator: " | ") + " |")
        }
        let note = seeds > 1 ? "mean ± standard deviation over \(seeds) seeds" : "one seed"
        return "Validation IoU in % (\(note)); classes ordered by prevalence.\n\n" + lines.joined(separator: "\n") + "\n"
    }

    /// The mean IoU gain (in points) of `loss` over `baseline` per class, by prevalence.
    public func gains(of loss: LossSpec, over baseline: LossSpec) -> [(className: String, points: Double)]? {
        guard let a = losses.firstIndex(of: loss), let b = losses.firstIndex(of: baseline) else { return nil }
        return classesByPrevalence.map { c in
            let gain = Self.meanAndSpread(reports[a].map { $0.confusion.iou()[c] }).mean
                - Self.meanAndSpread(reports[b].map { $0.confusion.iou()[c] }).mean
            return (labels.className(learning: c), gain * 100)
        }
    }

    /// The per-class gain of `loss` over `baseline` as a bar chart, like the paper's figure:
    /// IoU gain in points per class, classes by prevalence (most frequent first).
    public func gainChart(of loss: LossSpec, over baseline: LossSpec) -> Chart.Figure? {
        guard let gains = gains(of: loss, over: baseline) else { return nil }
        let seeds = reports.first?.count ?? 0
        return Chart.bars(categories: gains.map(\.className),
                          series: [Chart.Series(name: "\(loss) minus \(baseline)", points: gains.enumerated().map { (Double($0), $1.points) },
                                                color: Chart.palette[0])],
                          title: "IoU gain of \(loss) over \(baseline) (\(seeds == 1 ? "one seed" : "mean of \(seeds) seeds"))",
                          yTitle: "IoU gain (points)", xTitle: "class, most frequent first")
    }
}
