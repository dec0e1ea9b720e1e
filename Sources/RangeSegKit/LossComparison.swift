import Engine
import Evaluation
import Formats
import Foundation
import Inference
import Losses
import Parallel
import SemanticKITTI
import Training

/// `rangeseg compare` as a library call: trains the same network with each loss and seed (and,
/// with `remedies`, each data-side remedy: arms are loss x remedy), evaluates each run's best
/// checkpoint on the validation scans (and optionally on a second, out-of-domain set), and
/// reports mean and spread per arm and class. Every arm trains with the same seeds, so gains
/// between arms are seed-paired.
///
/// Runs go to `<out>/<loss>-seed<k>`, or `<out>/<loss>-<remedy>-seed<k>` with remedies. A run that already finished is only evaluated and a
/// half-finished one is resumed, so an interrupted comparison continues where it stopped.
/// Trainings run in this process one after the other, or as `jobs` separate processes at once
/// (`ProcessLauncher`), each with its share of the cores.
public struct LossComparison {
    public var base: TrainingConfig
    public var labels: LabelConfig
    public var dataset: URL
    /// The losses compared (names or weighted sums, e.g. `lovasz+wce`).
    public var losses: [LossSpec]
    /// The data-side remedies compared beside the losses (`none`, `paste`, `mix`, `paste+mix`);
    /// nil: no remedy axis, every run's augmentation as `base` gives it.
    public var remedies: [DataRemedy]?
    public var seeds: Int
    /// Stop every epoch after this many steps (quick looks); nil: whole epochs.
    public var maxStepsPerEpoch: Int?
    /// A second evaluation of every best checkpoint, e.g. real scans for models trained on
    /// synthetic ones.
    public var extraEvaluation: ExtraEvaluation?

    public struct ExtraEvaluation: Sendable {
        public var name: String
        public var dataset: URL
        public var sequences: [String]
        public init(name: String, dataset: URL, sequences: [String]) {
            self.name = name
            self.dataset = dataset
            self.sequences = sequences
        }
    }

    public init(base: TrainingConfig, labels: LabelConfig, dataset: URL, losses: [LossSpec], seeds: Int) {
        self.base = base
        self.labels = labels
        self.dataset = dataset
        self.losses = losses
        self.seeds = seeds
    }

    /// The arms compared, losses outer and remedies inner: each loss with each remedy.
    public var arms: [ComparisonArm] {
        losses.flatMap { loss in (remedies.map { $0.map(Optional.some) } ?? [nil]).map { ComparisonArm(loss: loss, remedy: $0) } }
    }

    /// One (arm, seed) training of the comparison.
    public struct Run: Sendable {
        public var loss: LossSpec { arm.loss }
        public var arm: ComparisonArm
        public var seed: Int
        public var directory: URL
        public var config: TrainingConfig
        /// Epochs already finished in `directory` (0 for a new run).
        public var finishedEpochs: Int
        public var isFinished: Bool { finishedEpochs >= config.epochs }
    }

    /// What the comparison reports as it goes.
    public enum Event {
        /// A run begins (or resumes) in `run.directory`.
        case runStarted(Run)
        /// An event of an in-process run's training.
        case training(TrainingEvent)
        /// A run's training finished (or had finished before).
        case runFinished(Run)
    }

    /// A loss as `--losses` writes it, the name tables, charts and messages use: the terms of a
    /// sum joined by `+` (`lovasz+wce`, `subclassified:0.5+ce:0.5`).
    public static func name(of loss: LossSpec) -> String {
        loss.description
    }

    /// The run directory of a (loss, remedy, seed): `<out>/<loss>-seed<k>`, or
    /// `<out>/<loss>-<remedy>-seed<k>` with a remedy (with the `:` of weights as `x`:
    /// `subclassifiedx0.5+cex0.5-seed0`, `ce-paste+mix-seed1`).
    public static func runDirectory(out: URL, loss: LossSpec, remedy: DataRemedy? = nil, seed: Int) -> URL {
        let arm = name(of: loss).replacingOccurrences(of: ":", with: "x") + (remedy.map { "-\($0)" } ?? "")
        return out.appendingPathComponent("\(arm)-seed\(seed)")
    }

    /// Every (arm, seed) run with what is already done in `out`.
    public func plan(out: URL) -> [Run] {
        arms.flatMap { arm in
            (0 ..< seeds).map { seed in
                var config = base
                config.loss.terms = arm.loss
                if let remedy = arm.remedy { config.augmentation = remedy.applied(to: base.augmentation) }
                config.seed = UInt64(seed)
                let directory = Self.runDirectory(out: out, loss: arm.loss, remedy: arm.remedy, seed: seed)
                let state = RunDirectory(directory).resumeState
                let finished = (try? SafeTensors.read(from: state))?.metadata["epoch"].flatMap(Int.init) ?? 0
                return Run(arm: arm, seed: seed, directory: directory, config: config, finishedEpochs: finished)
            }
        }
    }

    /// Trains what is not finished (`jobs` at a time through `launcher`), then evaluates every
    /// run's best checkpoint.
    public func run(out: URL, jobs: Int = 1, launcher: (any RunLauncher)? = nil,
                    events: @escaping @Sendable (Event) -> Void = { _ in }) throws -> ComparisonReport {
        let runs = plan(out: out)
        let launcher = launcher ?? InProcessLauncher(labels: labels, dataset: dataset, maxStepsPerEpoch: maxStepsPerEpoch)
        _ = try parallelMap(runs.count, workers: max(1, jobs)) { i in
            let run = runs[i]
            if !run.isFinished {
                events(.runStarted(run))
                try launcher.train(run, resume: run.finishedEpochs > 0) { events(.training($0)) }
            }
            events(.runFinished(run))
        }
        let arms = self.arms
        var validation: [[EvaluationReport]] = Array(repeating: [], count: arms.count)
        var kinds: [[KindRecall]] = Array(repeating: [], count: arms.count)
        var extra: [[EvaluationReport]] = Array(repeating: [], count: arms.count)
        var curves: [[[EpochRow]]] = Array(repeating: [], count: arms.count)
        let dataset = try DatasetLayouts.open(root: self.dataset)
        let extraSet = try extraEvaluation.map { extra in
            let dataset = try DatasetLayouts.open(root: extra.dataset)
            return (dataset: dataset, frames: try dataset.labelledFrames(sequences: extra.sequences))
        }
        // A kind is rare by its share of its class in the training scans (what the networks
        // learn from), not in the validation scans, which are staged to hold every kind.
        let trainingKinds = try runs.first.flatMap { run in
            try SubclassCatalog.pooled(over: dataset.labelledFrames(sequences: run.config.sequences(in: dataset, labels: labels).train))
        }
        for (i, run) in runs.enumerated() {
            let l = i / seeds
            let segmenter = try Segmenter(checkpoint: RunDirectory(run.directory).best, config: run.config, labels: labels)
            let frames = try dataset.labelledFrames(sequences: run.config.sequences(in: dataset, labels: labels).valid)
            guard !frames.isEmpty else { throw TrainingError.noValidationScans }
            let validationKinds = try SubclassCatalog.common(of: frames)
            let scored = try segmenter.evaluate(frames, of: dataset, labels: labels,
                                                kinds: trainingKinds.flatMap { training in validationKinds?.sharing(training) } ?? validationKinds)
            validation[l].append(scored.report)
            if let recall = scored.kinds { kinds[l].append(recall) }
            if let extraSet { extra[l].append(try segmenter.evaluate(extraSet.frames, of: extraSet.dataset, labels: labels)) }
            curves[l].append(try EpochRow.read(RunDirectory(run.directory)))
        }
        var report = ComparisonReport(arms: arms, reports: validation, labels: labels,
                                      extra: extraEvaluation.map { ($0.name, extra) }, curves: curves,
                                      kinds: kinds.allSatisfy { $0.count == seeds } ? kinds : [])
        report.kindSharesOf = trainingKinds == nil ? "validation" : "training"
        return report
    }
}

extension LossComparison {
    /// What trains the runs, `jobs` at a time: this process for one; else child processes of
    /// `executable` (`rangeseg train`) with an equal share of the cores, reading the label
    /// config this writes to `out/label-config.yaml`.
    public func launcher(jobs: Int, out: URL, executable: URL) throws -> any RunLauncher {
        guard jobs > 1 else { return InProcessLauncher(labels: labels, dataset: dataset, maxStepsPerEpoch: maxStepsPerEpoch) }
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let labelFile = out.appendingPathComponent("label-config.yaml")
        try labels.write(yaml: labelFile)
        return ProcessLauncher(executable: executable, dataset: dataset, labelConfig: labelFile,
                               threads: max(1, ProcessInfo.processInfo.activeProcessorCount / jobs), maxStepsPerEpoch: maxStepsPerEpoch)
    }
}

extension ComparisonReport {
    /// Writes `comparison.md`, `scores.csv` and `kinds.csv` (seed by seed, see `scoresCSV` and
    /// `kindsCSV`), the gain chart `gain.png`/`.svg` of the arm of interest over the
    /// baseline arm and the curves `miou-curves` and `loss-curves` (.png and .svg) to `out`.
    /// The arm of interest is `interest` (default: subclassified if compared, else the last
    /// loss) with `interestRemedy` (default: the last remedy compared); the baseline is
    /// `baseline` (default: ce if compared, else the first loss) with `baselineRemedy`
    /// (default: the first remedy compared).
    public func write(to out: URL, interest: LossSpec? = nil, baseline: LossSpec? = nil,
                      interestRemedy: DataRemedy? = nil, baselineRemedy: DataRemedy? = nil) throws -> (markdown: String, gainChart: URL?) {
        let losses = self.losses
        let interestLoss = interest ?? (losses.contains(LossSpec(.subclassified)) ? LossSpec(.subclassified) : losses.last!)
        let baseLoss = baseline ?? (losses.contains(LossSpec(.ce)) ? LossSpec(.ce) : losses.first!)
        let interest = ComparisonArm(loss: interestLoss, remedy: interestRemedy ?? remedies.last)
        let base = ComparisonArm(loss: baseLoss, remedy: baselineRemedy ?? remedies.first)
        let markdown = fullMarkdown(baseline: base)
        try AtomicFile.write(Data(markdown.utf8), to: out.appendingPathComponent("comparison.md"))
        try AtomicFile.write(Data(scoresCSV().utf8), to: out.appendingPathComponent("scores.csv"))
        if let kinds = kindsCSV() { try AtomicFile.write(Data(kinds.utf8), to: out.appendingPathComponent("kinds.csv")) }
        var gain: URL?
        if interest != base, let chart = gainChart(of: interest, over: base) {
            gain = out.appendingPathComponent("gain.png")
            try chart.write(png: gain!, svg: out.appendingPathComponent("gain.svg"))
        }
        try mIoUCurves().write(png: out.appendingPathComponent("miou-curves.png"), svg: out.appendingPathComponent("miou-curves.svg"))
        try lossCurves().write(png: out.appendingPathComponent("loss-curves.png"), svg: out.appendingPathComponent("loss-curves.svg"))
        return (markdown, gain)
    }
}

/// Trains one run of a comparison.
public protocol RunLauncher: Sendable {
    /// Trains `run.config` in `run.directory` (resuming it when `resume`); `events` gets the
    /// training's events when the launcher can see them.
    func train(_ run: LossComparison.Run, resume: Bool, events: @escaping (TrainingEvent) -> Void) throws
}

/// Trains in this process.
public struct InProcessLauncher: RunLauncher {
    public var labels: LabelConfig
    public var dataset: URL
    public var maxStepsPerEpoch: Int?

    public init(labels: LabelConfig, dataset: URL, maxStepsPerEpoch: Int? = nil) {
        self.labels = labels
        self.dataset = dataset
        self.maxStepsPerEpoch = maxStepsPerEpoch
    }

    public func train(_ run: LossComparison.Run, resume: Bool, events: @escaping (TrainingEvent) -> Void) throws {
        let trainer = try Trainer(config: run.config, labels: labels, dataset: try DatasetLayouts.open(root: dataset), run: run.directory)
        trainer.maxStepsPerEpoch = maxStepsPerEpoch
        try trainer.train(resume: resume, events: events)
    }
}

/// Trains each run as a `rangeseg train` process of its own, with `threads` OpenMP threads,
/// writing its output to `<run>/train.log`. Its configuration file is `<run>.yaml` beside the
/// run directory.
public struct ProcessLauncher: RunLauncher {
    /// The `rangeseg` executable.
    public var executable: URL
    public var dataset: URL
    public var labelConfig: URL
    public var threads: Int
    public var maxStepsPerEpoch: Int?

    public init(executable: URL, dataset: URL, labelConfig: URL, threads: Int, maxStepsPerEpoch: Int? = nil) {
        self.executable = executable
        self.dataset = dataset
        self.labelConfig = labelConfig
        self.threads = threads
        self.maxStepsPerEpoch = maxStepsPerEpoch
    }

    public func train(_ run: LossComparison.Run, resume: Bool, events: @escaping (TrainingEvent) -> Void) throws {
        let configFile = run.directory.deletingLastPathComponent().appendingPathComponent(run.directory.lastPathComponent + ".yaml")
        try AtomicFile.write(Data(run.config.yamlText().utf8), to: configFile)
        try FileManager.default.createDirectory(at: run.directory, withIntermediateDirectories: true)
        var arguments = ["train", "--train-config", configFile.path, "--dataset", dataset.path, "--run", run.directory.path,
                         "--label-config", labelConfig.path]
        if resume { arguments.append("--resume") }
        if let maxStepsPerEpoch { arguments += ["--max-steps-per-epoch", String(maxStepsPerEpoch)] }
        let log = run.directory.appendingPathComponent("train.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = String(threads)
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(3).joined(separator: "\n") ?? ""
            throw InputError("training \(run.directory.lastPathComponent) failed (exit \(process.terminationStatus)); \(log.path) ends:\n\(tail)")
        }
    }
}

/// The outcome of a loss comparison: each arm's (loss, remedy) validation reports, one per seed.
public struct ComparisonReport: Sendable {
    public var arms: [ComparisonArm]
    /// `reports[a][s]`: arm `a`, seed `s`, on the validation scans.
    public var reports: [[EvaluationReport]]
    public var labels: LabelConfig
    /// The same checkpoints on a second set of scans, with its name.
    public var extra: (name: String, reports: [[EvaluationReport]])?
    /// `curves[a][s]`: the epochs of arm `a`, seed `s`.
    public var curves: [[[EpochRow]]]
    /// `kinds[a][s]`: the recall of each kind of appearance of arm `a`, seed `s`, on the
    /// validation scans; empty when they have no subclass labels (or sequences with different
    /// kinds).
    public var kinds: [[KindRecall]]
    /// The scans whose shares make a kind rare (`training` where the training scans have
    /// subclass labels, as `LossComparison.run` judges them; else `validation`).
    public var kindSharesOf = "validation"

    public init(arms: [ComparisonArm], reports: [[EvaluationReport]], labels: LabelConfig,
                extra: (name: String, reports: [[EvaluationReport]])? = nil, curves: [[[EpochRow]]] = [],
                kinds: [[KindRecall]] = []) {
        self.arms = arms
        self.reports = reports
        self.labels = labels
        self.extra = extra
        self.curves = curves
        self.kinds = kinds
    }

    /// The losses of the arms, each once, in order.
    public var losses: [LossSpec] {
        arms.map(\.loss).reduce(into: []) { out, loss in if !out.contains(loss) { out.append(loss) } }
    }

    /// The remedies of the arms, each once, in order (empty without a remedy axis).
    public var remedies: [DataRemedy] {
        arms.compactMap(\.remedy).reduce(into: []) { out, remedy in if !out.contains(remedy) { out.append(remedy) } }
    }

    /// Included learning classes, most common first (the label config's `content`).
    public var classesByPrevalence: [Int] {
        let content = labels.learningContent()
        let ignored = labels.ignoredClasses
        return (0 ..< labels.classCount).filter { !ignored.contains($0) }.sorted { content[$0] > content[$1] }
    }

    /// Mean and sample standard deviation (0 for one value).
    public static func meanAndSpread(_ values: [Double]) -> (mean: Double, spread: Double) {
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        guard values.count > 1 else { return (mean, 0) }
        return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot())
    }

    /// The table of the validation reports (or of `reports` given): one row per arm (its loss,
    /// and its remedy in a column of its own when remedies are compared), mIoU then each class's
    /// IoU in %, mean ± standard deviation over the seeds; classes ordered by prevalence.
    public func markdown(_ table: [[EvaluationReport]]? = nil, title: String = "Validation") -> String {
        let table = table ?? reports
        let seeds = table.first?.count ?? 0
        func cell(_ v: [Double]) -> String {
            let (mean, spread) = Self.meanAndSpread(v)
            return seeds > 1 ? String(format: "%.1f ± %.1f", mean * 100, spread * 100) : String(format: "%.1f", mean * 100)
        }
        let order = classesByPrevalence
        let remedyColumn = !remedies.isEmpty
        var lines = ["| loss | " + (remedyColumn ? "remedy | " : "") + "mIoU | " + order.map { labels.className(learning: $0) }.joined(separator: " | ") + " |"]
        lines.append("|" + String(repeating: " --- |", count: order.count + (remedyColumn ? 3 : 2)))
        for (arm, runs) in zip(arms, table) {
            let row = [LossComparison.name(of: arm.loss)] + (remedyColumn ? [arm.remedy?.description ?? ""] : [])
                + [cell(runs.map(\.meanIoU))] + order.map { c in cell(runs.map { $0.confusion.iou()[c] }) }
            lines.append("| " + row.joined(separator: " | ") + " |")
        }
        let note = seeds > 1 ? "mean ± standard deviation over \(seeds) seeds" : "one seed"
        return "\(title) IoU in % (\(note)); classes ordered by prevalence.\n\n" + lines.joined(separator: "\n") + "\n"
    }

    /// The validation table, the kinds' table when there are kinds (gains over `baseline`, by
    /// default the first arm), and the extra evaluation's table.
    public func fullMarkdown(baseline: ComparisonArm? = nil) -> String {
        var text = markdown()
        if let kindTable = kindMarkdown(baseline: baseline) { text += "\n" + kindTable }
        if let extra { text += "\n" + markdown(extra.reports, title: extra.name) }
        return text
    }

    /// The recall of each kind of appearance on the validation scans: one row per arm, the mean
    /// recall of the rare kinds, then each kind (rare ones marked), in %, mean ± standard
    /// deviation over the seeds; then each other arm's rare-kind gain over `baseline` (default:
    /// the first arm), seed by seed. Nil without kinds.
    public func kindMarkdown(baseline: ComparisonArm? = nil) -> String? {
        guard let rows = kinds.first?.first?.rows, kinds.count == arms.count else { return nil }
        let seeds = kinds[0].count
        func cell(_ v: [Double]) -> String {
            let (mean, spread) = Self.meanAndSpread(v)
            return seeds > 1 ? String(format: "%.1f ± %.1f", mean * 100, spread * 100) : String(format: "%.1f", mean * 100)
        }
        let remedyColumn = !remedies.isEmpty
        let names = rows.map { "\($0.kind) (\($0.className)\($0.isRare ? ", rare" : ""))" }
        var lines = ["| loss | " + (remedyColumn ? "remedy | " : "") + "rare kinds | " + names.joined(separator: " | ") + " |"]
        lines.append("|" + String(repeating: " --- |", count: rows.count + (remedyColumn ? 3 : 2)))
        for (arm, recalls) in zip(arms, kinds) {
            let row = [LossComparison.name(of: arm.loss)] + (remedyColumn ? [arm.remedy?.description ?? ""] : [])
                + [cell(recalls.map { $0.rareMeanRecall ?? 0 })] + rows.indices.map { k in cell(recalls.map { $0.rows[k].recall }) }
            lines.append("| " + row.joined(separator: " | ") + " |")
        }
        let note = seeds > 1 ? "mean ± standard deviation over \(seeds) seeds" : "one seed"
        var text = "Recall of each kind of appearance on the validation scans, in % (\(note)); rare kinds: under "
            + String(format: "%.0f", SubclassCatalog.rareShare * 100) + "% of their class's points in the \(kindSharesOf) scans.\n\n" + lines.joined(separator: "\n") + "\n"
        if arms.count > 1, let b = baseline.map({ arms.firstIndex(of: $0) }) ?? 0 {
            text += "\nMean recall of the rare kinds, gain over \(arms[b].description) seed by seed (points):\n\n"
            for a in arms.indices where a != b {
                let gains = zip(kinds[a], kinds[b]).map { (($0.rareMeanRecall ?? 0) - ($1.rareMeanRecall ?? 0)) * 100 }
                let (mean, spread) = Self.meanAndSpread(gains)
                text += "- \(arms[a].description): " + gains.map { String(format: "%+.1f", $0) }.joined(separator: ", ")
                    + (seeds > 1 ? String(format: "; mean %+.1f ± %.1f", mean, spread) : "") + "\n"
            }
        }
        return text
    }

    /// Every score seed by seed, for analyses the tables cannot hold (seed-paired gains between
    /// any two arms): one row per arm, seed and set of scans (`validation`, then the extra
    /// evaluation's name), with mIoU, accuracy and each class's IoU as fractions.
    public func scoresCSV() -> String {
        let classes = classesByPrevalence
        var lines = ["loss,remedy,seed,scans,miou,accuracy," + classes.map { "iou_" + Self.csvField(labels.className(learning: $0)) }.joined(separator: ",")]
        let sets = [("validation", reports)] + (extra.map { [($0.name, $0.reports)] } ?? [])
        for (name, table) in sets {
            for (arm, runs) in zip(arms, table) {
                for (seed, report) in runs.enumerated() {
                    let iou = report.confusion.iou()
                    lines.append((Self.csvFields(arm, seed: seed) + [Self.csvField(name), String(report.meanIoU), String(report.accuracy)]
                                  + classes.map { String(iou[$0]) }).joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The recall of every kind of appearance seed by seed on the validation scans: one row per
    /// arm, seed and kind, with the kind's class, its share of the class's points in the
    /// catalog, whether that makes it rare, its points and the points predicted as its class.
    /// The share is the one rarity is judged by (`kindSharesOf`). Nil without kinds.
    public func kindsCSV() -> String? {
        guard kinds.count == arms.count, kinds.first?.first != nil else { return nil }
        var lines = ["loss,remedy,seed,kind,class,share,rare,points,hits,recall"]
        for (arm, recalls) in zip(arms, kinds) {
            for (seed, recall) in recalls.enumerated() {
                for row in recall.rows {
                    lines.append((Self.csvFields(arm, seed: seed) + [Self.csvField(row.kind), Self.csvField(row.className), String(row.share),
                                                                     row.isRare ? "1" : "0", String(row.points), String(row.hits), String(row.recall)])
                        .joined(separator: ","))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The first three fields of a CSV row: the arm's loss and remedy (empty without one), and the seed.
    static func csvFields(_ arm: ComparisonArm, seed: Int) -> [String] {
        [csvField(LossComparison.name(of: arm.loss)), arm.remedy?.description ?? "", String(seed)]
    }

    /// A CSV field: quoted (inner quotes doubled) when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The mean IoU gain (in points) of arm `loss` over arm `baseline` per class, by
    /// prevalence, with the standard deviation of the difference of seed means.
    public func gains(of loss: ComparisonArm, over baseline: ComparisonArm) -> [(className: String, points: Double, spread: Double)]? {
        guard let a = arms.firstIndex(of: loss), let b = arms.firstIndex(of: baseline) else { return nil }
        return classesByPrevalence.map { c in
            let x = Self.meanAndSpread(reports[a].map { $0.confusion.iou()[c] * 100 })
            let y = Self.meanAndSpread(reports[b].map { $0.confusion.iou()[c] * 100 })
            let n = Double(max(1, min(reports[a].count, reports[b].count)))
            return (labels.className(learning: c), x.mean - y.mean, ((x.spread * x.spread + y.spread * y.spread) / n).squareRoot())
        }
    }

    /// `gains(of:over:)` of two losses without a remedy axis.
    public func gains(of loss: LossSpec, over baseline: LossSpec) -> [(className: String, points: Double, spread: Double)]? {
        gains(of: ComparisonArm(loss: loss), over: ComparisonArm(loss: baseline))
    }

    /// The per-class gain of arm `loss` over arm `baseline` as a bar chart, like the paper's
    /// figure: IoU gain in points per class, classes by prevalence (most frequent first).
    public func gainChart(of loss: ComparisonArm, over baseline: ComparisonArm) -> Chart.Figure? {
        guard let gains = gains(of: loss, over: baseline) else { return nil }
        let seeds = reports.first?.count ?? 0
        return Chart.bars(categories: gains.map(\.className),
                          series: [Chart.Series(name: "\(loss) minus \(baseline)", points: gains.enumerated().map { (Double($0), $1.points) },
                                                spreads: seeds > 1 ? gains.map(\.spread) : nil, color: Chart.palette[0])],
                          title: "IoU gain of \(loss) over \(baseline) (\(seeds == 1 ? "one seed" : "mean of \(seeds) seeds"))",
                          yTitle: "IoU gain (points)", xTitle: "class, most frequent first",
                          spreadName: "± 1 standard error of the difference")
    }

    /// `gainChart(of:over:)` of two losses without a remedy axis.
    public func gainChart(of loss: LossSpec, over baseline: LossSpec) -> Chart.Figure? {
        gainChart(of: ComparisonArm(loss: loss), over: ComparisonArm(loss: baseline))
    }

    /// Validation mIoU (%) per epoch, the mean over seeds, one line per arm.
    public func mIoUCurves() -> Chart.Figure {
        Chart.lines(curveSeries { $0.mIoU.map { $0 * 100 } }, title: "Validation mIoU per epoch (mean over seeds)",
                    xTitle: "epoch", yTitle: "mIoU (%)", integerX: true)
    }

    /// Training loss per epoch, the mean over seeds, one line per arm. Losses differ in scale,
    /// so compare each curve's shape (when it flattens), not the heights of different losses.
    public func lossCurves() -> Chart.Figure {
        Chart.lines(curveSeries { Double($0.trainLoss) }, title: "Training loss per epoch (mean over seeds; each loss on its own scale)",
                    xTitle: "epoch", yTitle: "loss", integerX: true)
    }

    private func curveSeries(_ value: (EpochRow) -> Double?) -> [Chart.Series] {
        zip(arms, curves).enumerated().map { index, pair in
            let (arm, runs) = pair
            let epochs = runs.map(\.count).min() ?? 0
            let points = (0 ..< epochs).compactMap { e -> (x: Double, y: Double)? in
                let values = runs.compactMap { value($0[e]) }
                guard !values.isEmpty else { return nil }
                return (Double(e + 1), values.reduce(0, +) / Double(values.count))
            }
            return Chart.Series(name: arm.description, points: points, color: curveColor(of: arm, index: index))
        }
    }

    /// An arm's colour in the curves: with remedies, one palette colour per loss, lighter for
    /// each later remedy (`ce, none` dark, `ce, paste` light), so that twelve arms stay told
    /// apart; without, one palette colour per arm.
    public func curveColor(of arm: ComparisonArm, index: Int) -> (UInt8, UInt8, UInt8) {
        let remedies = self.remedies
        guard remedies.count > 1, let l = losses.firstIndex(of: arm.loss), let r = arm.remedy.flatMap({ remedies.firstIndex(of: $0) }) else {
            return Chart.palette[index % Chart.palette.count]
        }
        let base = Chart.palette[l % Chart.palette.count]
        let toWhite = 0.55 * Double(r) / Double(remedies.count - 1)
        func lighten(_ c: UInt8) -> UInt8 { UInt8((Double(c) + (255 - Double(c)) * toWhite).rounded()) }
        return (lighten(base.0), lighten(base.1), lighten(base.2))
    }
}
