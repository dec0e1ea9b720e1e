import Cluster
import Engine
import Evaluation
import Formats
import Foundation
import Inference
import Losses
import Projection
import Random
import SemanticKITTI

/// What a training run reports as it goes; the command turns these into progress bars and tables.
public enum TrainingEvent: Sendable {
    case started(trainScans: Int, validScans: Int, stepsPerEpoch: Int, parameters: Int, firstEpoch: Int)
    case epochStarted(epoch: Int, steps: Int)
    case step(epoch: Int, step: Int, of: Int, loss: Float, learningRate: Float)
    case epochFinished(epoch: Int, trainLoss: Float, validation: EvaluationReport?, isBest: Bool, seconds: Double)
}

/// A run stopped for a reason the user must see.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(epoch: Int, step: Int, value: Float, keptCheckpoint: URL?)
    case noTrainingScans(sequences: [String])
    case classCountMismatch(network: Int, labels: Int)
    case runExists(URL)
    case nothingToResume(URL)
    case noValidationScans
    /// `--resume` on a number of ranks and a batch size that cannot make the run's global batch.
    case globalBatchUnreachable(run: TrainingConfig.Launch, ranks: Int, batchSize: Int)
    /// The centroid loss's state changes with every batch and is not shared between ranks.
    case centroidLossOnSeveralRanks
    /// This rank was started with another configuration or list of scans than rank 0.
    case differsFromRankZero(what: String)
    /// No training sequences were given for a dataset whose layout has no standard split.
    case noSplit(dataset: URL, layout: String, sequences: [String])

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, step, value, kept):
            "the loss became \(value) at epoch \(epoch), step \(step); stopped. "
                + (kept.map { "The last good checkpoint is \($0.path) (resume with --resume after lowering the learning rate)." } ?? "No epoch had finished, so no checkpoint was written.")
        case let .noSplit(dataset, layout, sequences):
            "\(dataset.path) is a dataset of \(layout), which has no standard split: name its training sequences "
                + "(train_sequences, --train-sequences) and validation sequences (valid_sequences, --valid-sequences) "
                + "among its sequences: \(sequences.joined(separator: ", "))"
        case let .noTrainingScans(sequences):
            "no labelled scans in training sequences \(sequences.joined(separator: ", "))"
        case let .classCountMismatch(network, labels):
            "the network has \(network) classes but the label config \(labels) learning classes"
        case let .runExists(url):
            "\(url.path) already holds a run; pass --resume to continue it or choose another run directory"
        case let .nothingToResume(url):
            "\(url.path) holds no run to resume (no resume.safetensors)"
        case .noValidationScans:
            "no labelled validation scans: give validation sequences (--valid-sequences)"
        case let .globalBatchUnreachable(run, ranks, batchSize):
            "the run trains with \(run.globalBatch) scans per step (\(run.ranks) ranks x \(run.accumulate) accumulated x "
                + "\(run.batchPerRank) per rank), which --resume keeps; \(ranks) ranks of \(batchSize) scans cannot make it. "
                + "Use a number of ranks and a batch size whose product divides \(run.globalBatch)"
        case .centroidLossOnSeveralRanks:
            "the centroid loss updates its centroids and statistics with every batch, and ranks do not share them: "
                + "train it in one process (accumulate works there) or choose another loss"
        case let .differsFromRankZero(what):
            "this rank's \(what) differs from rank 0's: every machine needs the same files at the same paths"
        }
    }
}

/// Where a run keeps its files.
public struct RunDirectory: Sendable {
    public let url: URL
    public init(_ url: URL) { self.url = url }
    public var config: URL { url.appendingPathComponent("config.yaml") }
    /// The model after the last finished epoch (a PyTorch state dict).
    public var last: URL { url.appendingPathComponent("last.safetensors") }
    /// Everything `--resume` needs (model, optimiser, loss state, progress), in one file.
    public var resumeState: URL { url.appendingPathComponent("resume.safetensors") }
    public var best: URL { url.appendingPathComponent("best.safetensors") }
    public var steps: URL { url.appendingPathComponent("steps.csv") }
    public var epochs: URL { url.appendingPathComponent("epochs.csv") }
    public var lossPlot: URL { url.appendingPathComponent("loss.png") }
    public var mIoUPlot: URL { url.appendingPathComponent("miou.png") }
    /// The plots as SVG, beside the PNG files.
    public var lossPlotSVG: URL { url.appendingPathComponent("loss.svg") }
    public var mIoUPlotSVG: URL { url.appendingPathComponent("miou.svg") }

    /// Whether a run can start here: a new run needs a directory without one, `resume` one with one.
    public func check(resume: Bool) throws(TrainingError) {
        let fileManager = FileManager.default
        let exists = fileManager.fileExists(atPath: last.path) || fileManager.fileExists(atPath: resumeState.path)
        if resume, !fileManager.fileExists(atPath: resumeState.path), !fileManager.fileExists(atPath: Checkpoint.optimizerURL(besides: last).path) {
            throw TrainingError.nothingToResume(url)
        }
        if !resume, exists { throw TrainingError.runExists(url) }
    }
}

/// Trains a network (any of `Networks.all`) on range images of SemanticKITTI-layout data.
///
/// Each epoch: shuffle the training scans (seeded by the run's seed and the epoch), load and
/// augment the next batch on another thread while the current one trains, forward, evaluate
/// the loss and its gradient on the logits (the `Losses` library), back-propagate that gradient
/// through the engine, step the optimiser with the learning rate of the schedule. After each
/// epoch: validation mIoU on every point (official semantics), `last.safetensors` (with the
/// optimiser state and progress beside it) and `best.safetensors`, CSV logs and plots.
/// Everything random is derived from the seed, the epoch and the scan (paste and mix too: see
/// `DataRemedies`), so a resumed run continues exactly as an uninterrupted one.
///
/// With `accumulate: K` a step accumulates the gradients of K micro-batches of `batch_size`
/// scans. On the ranks of a job (`communicator`, from `mpirun`) training is data-parallel:
/// every rank holds the whole model and runs its share of each step (`StepPlan`), the
/// gradients are summed over the ranks in one all-reduce per step, and every rank takes the
/// same optimiser step. Batch norm normalises with each rank's own batches; before validation
/// rank 0's running statistics go to all ranks; validation is split over the ranks and their
/// confusion matrices summed. Rank 0 alone writes the run directory and reads it on `--resume`,
/// then sends the training state to the others.
public final class Trainer {
    public let config: TrainingConfig
    public let labels: LabelConfig
    public let run: RunDirectory
    /// Where the scans come from.
    public let dataset: any Dataset
    let trainFrames: [DatasetFrame]
    let validFrames: [DatasetFrame]
    let builder: SampleBuilder
    /// Paste and mix over the training scans, when the augmentation asks for either.
    public let remedies: DataRemedies?
    /// The network, optimiser and loss, and the step that drives them.
    public let step: TrainingStep
    public var model: any SegmentationNetwork { step.model }
    /// Weights a new run starts from (`rangeseg train --init`), loaded strictly on rank 0 and
    /// shared with the others; a resumed run ignores them (it continues from its own).
    public var initialWeights: URL?
    /// The ranks that train together (a single process without `mpirun`).
    public let communicator: any Communicator
    /// How each epoch becomes steps on this rank. `--resume` may raise `accumulate` to keep the
    /// run's global batch on fewer ranks.
    public internal(set) var plan: StepPlan
    /// Where the time of the last epoch's steps went.
    public private(set) var lastEpochTimings: EpochTimings?
    /// With a centroid loss: per class with several subclasses, how many are in use (see
    /// `CentroidSubclassWeighting.subclassesInUse`); nil for other losses.
    public var centroidSubclassesInUse: [(classID: Int, inUse: Int, of: Int)]? {
        step.loss.centroidWeighting?.subclassesInUse()
    }
    /// Stop each epoch after this many steps (tests and quick looks); nil: the whole epoch.
    public var maxStepsPerEpoch: Int?
    /// Called after an epoch's training state is saved and before the other files: a test seam
    /// to stop a run between the writes of one epoch.
    var afterSavingTrainingState: (Int) throws -> Void = { _ in }

    /// - Parameters:
    ///   - dataset: the dataset whose labelled scans of `config.trainSequences` and
    ///     `config.validSequences` it trains and validates on; with no sequences given, the
    ///     label config's split, in a layout where it applies (SemanticKITTI's).
    ///   - communicator: the ranks that train this model together; by default this process alone.
    public init(config: TrainingConfig, labels: LabelConfig, dataset: any Dataset, run: URL,
                communicator: any Communicator = SingleProcess()) throws {
        var config = config
        if communicator.size > 1, config.precision == .auto {
            // Every rank runs rank 0's choice (a probe on each could differ).
            let chosen = communicator.broadcast(Data((communicator.isLeader ? Precision.auto.onThisCPU : .fp32).rawValue.utf8), from: 0)
            config.precision = Precision(rawValue: String(decoding: chosen, as: UTF8.self)) ?? .fp32
        }
        self.config = config
        self.communicator = communicator
        plan = StepPlan(batchSize: config.batchSize, accumulate: config.accumulate, ranks: communicator.size, rank: communicator.rank)
        if communicator.size > 1, config.loss.terms.contains(.centroid) { throw TrainingError.centroidLossOnSeveralRanks }
        self.labels = labels
        self.run = RunDirectory(run)
        if !dataset.usesLabelConfigSplit, config.trainSequences.isEmpty {
            throw TrainingError.noSplit(dataset: dataset.root, layout: type(of: dataset).layoutName,
                                        sequences: (try? dataset.sequences()) ?? [])
        }
        let (trainNames, validNames) = config.sequences(in: dataset, labels: labels)
        self.dataset = dataset
        trainFrames = try dataset.labelledFrames(sequences: trainNames)
        validFrames = try dataset.labelledFrames(sequences: validNames)
        guard !trainFrames.isEmpty else { throw TrainingError.noTrainingScans(sequences: trainNames) }
        builder = SampleBuilder(config: config, lookup: labels.lookup())
        remedies = config.augmentation.usesOtherScans
            ? try DataRemedies(augmentation: config.augmentation, frames: trainFrames, dataset: dataset, labels: labels,
                               sensor: config.sensor, seed: config.seed)
            : nil
        step = try TrainingStep(config: config, labels: labels)
    }

    public var stepsPerEpoch: Int {
        let full = plan.steps(scans: trainFrames.count)
        return min(full, maxStepsPerEpoch ?? full)
    }

    /// The learning-rate schedule over global steps.
    var schedule: any LearningRateSchedule {
        let warmup = Int((config.schedule.warmupEpochs * Float(stepsPerEpoch)).rounded())
        switch config.schedule.kind {
        case .warmupExponential:
            return WarmupExponentialDecay(peak: config.optimizer.learningRate, warmupSteps: warmup,
                                          stepsPerEpoch: stepsPerEpoch, decayPerEpoch: config.schedule.decayPerEpoch)
        case .cosine:
            return CosineDecay(peak: config.optimizer.learningRate, totalSteps: stepsPerEpoch * config.epochs,
                               minimum: config.schedule.minimumLearningRate, warmupSteps: warmup)
        }
    }

    /// Runs the remaining epochs; with `resume`, continues from `last.safetensors`.
    ///
    /// On several ranks every rank calls this; rank 0 writes the run directory and the others
    /// touch no file of it.
    public func train(resume: Bool = false, events: (TrainingEvent) -> Void = { _ in }) throws {
        let leader = communicator.isLeader
        var progress = TrainingProgress()
        var log = TrainingLog()
        try checkSameJob()
        if leader {
            try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
            try run.check(resume: resume)
            if resume {
                if FileManager.default.fileExists(atPath: run.resumeState.path) {
                    let file = try SafeTensors.read(from: run.resumeState)
                    let restored = try Checkpoint.restore(trainingState: file, model: model, optimizer: step.optimizer,
                                                          source: run.resumeState.path)
                    try step.loss.restore(checkpointEntries: restored.extra, source: run.resumeState.path)
                    progress = restored.progress
                } else {
                    // A run of an earlier release: the model and the optimiser in two files.
                    progress = try Checkpoint.resume(model, optimizer: step.optimizer, from: run.last)
                }
                log = try TrainingLog(reading: run, throughEpoch: progress.epoch)
                try completeEpochFiles(progress)
                try keepGlobalBatch(of: progress)
            } else {
                // Weights that do not fit fail the run before anything is written.
                if let initialWeights { try Checkpoint.load(into: model, from: initialWeights) }
                var written = config
                written.distributed = launch
                try AtomicFile.write(Data(written.yamlText().utf8), to: run.config)
            }
        }
        if communicator.size > 1 { try shareTrainingState(&progress) }
        let firstEpoch = progress.epoch
        var globalStep = progress.step
        var bestMIoU = progress.extra["best_miou"].flatMap(Double.init) ?? -1
        var bestEpoch = progress.extra["best_epoch"]
        events(.started(trainScans: trainFrames.count, validScans: validFrames.count, stepsPerEpoch: stepsPerEpoch,
                        parameters: model.parameterCount, firstEpoch: firstEpoch))
        let schedule = self.schedule
        let h = config.sensor.height, w = config.sensor.width, classes = config.architecture.classes
        let allReduce = communicator.size > 1 ? GradientAllReduce(model: model, communicator: communicator) : nil
        var counters = BatchCounters(model: model)

        for epoch in firstEpoch ..< config.epochs {
            let started = Date()
            model.train()
            var order = Array(trainFrames.indices)
            var shuffler = RandomGenerator(seed: RandomGenerator.derive(config.seed, 1, UInt64(epoch)))
            order.shuffle(using: &shuffler)
            let steps = (0 ..< stepsPerEpoch).map { plan.share(ofStep: $0, order: order) }
            // This rank's micro-batches of the epoch, in order, loaded one ahead.
            let mine = steps.flatMap(\.mine)
            events(.epochStarted(epoch: epoch, steps: steps.count))
            let loader = BatchLoader(builder: builder, dataset: dataset, frames: trainFrames, augmentation: config.augmentation,
                                     remedies: remedies, seed: config.seed, epoch: epoch)
            var next = 0
            var pending = mine.isEmpty ? nil : loader.start(mine[0])
            var lossSum: Double = 0
            var timings = EpochTimings()
            for (index, share) in steps.enumerated() {
                let stepStarted = DispatchTime.now().uptimeNanoseconds
                let learningRate = schedule.learningRate(atStep: globalStep)
                // Each micro-batch's gradient is scaled by 1 / (micro-batches of the step on all
                // ranks), so the sum over micro-batches and ranks is their mean.
                var loss: Float = 0
                for (micro, _) in share.mine.enumerated() {
                    let samples = try pending!.wait()
                    next += 1
                    pending = next < mine.count ? loader.start(mine[next]) : nil
                    // Dropout masks follow from the step, so a resumed run draws the same ones.
                    step.seedDropout(RandomGenerator.derive(config.seed, 2, UInt64(globalStep), UInt64(communicator.rank), UInt64(micro)))
                    let value = try step.accumulate(TrainingBatch(samples, height: h, width: w), scale: 1 / Float(share.count))
                    loss += value
                    if !value.isFinite { break }
                }
                if let allReduce {
                    loss = allReduce(loss: loss)
                    timings.allReduceMilliseconds.append(allReduce.lastMilliseconds)
                }
                let value = loss / Float(share.count)
                guard value.isFinite else {
                    model.zeroGradients()
                    throw TrainingError.nonFiniteLoss(epoch: epoch, step: index, value: value,
                                                      keptCheckpoint: FileManager.default.fileExists(atPath: run.last.path) ? run.last : nil)
                }
                step.update(learningRate: learningRate)
                timings.stepSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - stepStarted) / 1e9)
                globalStep += 1
                lossSum += Double(value)
                log.steps.append(.init(epoch: epoch, step: globalStep, loss: value, learningRate: learningRate))
                events(.step(epoch: epoch, step: index + 1, of: steps.count, loss: value, learningRate: learningRate))
            }
            lastEpochTimings = timings
            let trainLoss = Float(lossSum / Double(steps.count))
            try prepareBatchNormForEvaluation(&counters)
            let report = try validate()
            // Without validation the latest epoch is the best.
            let mIoU = report?.meanIoU ?? Double(epoch)
            let isBest = report == nil || mIoU > bestMIoU
            if isBest { bestMIoU = mIoU }
            log.epochs.append(.init(epoch: epoch, trainLoss: trainLoss, validation: report))
            var extra = ["best_miou": String(bestMIoU)].merging(launch.progressEntries) { a, _ in a }
            if isBest { extra["best_epoch"] = String(epoch + 1) } else if let previous = bestEpoch { extra["best_epoch"] = previous }
            bestEpoch = extra["best_epoch"]
            progress = TrainingProgress(epoch: epoch + 1, step: globalStep, extra: extra)
            if leader {
                // The order makes a run stopped at any moment consistent: the logs (a resume reads
                // only their rows of finished epochs), then the training state in one atomic write
                // (from here on --resume continues after this epoch), then the files derived from it.
                let classNames = (0 ..< classes).map { labels.className(learning: $0) }
                try log.writeTables(to: run, classNames: classNames)
                try Checkpoint.trainingState(model: model, optimizer: step.optimizer, progress: progress,
                                             extra: step.loss.checkpointEntries()).write(to: run.resumeState)
                try afterSavingTrainingState(epoch)
                try completeEpochFiles(progress, mIoU: isBest ? mIoU : nil)
                try log.writePlots(to: run)
            }
            events(.epochFinished(epoch: epoch, trainLoss: trainLoss, validation: report, isBest: isBest,
                                  seconds: Date().timeIntervalSince(started)))
        }
    }

    /// Writes `last.safetensors`, and `best.safetensors` when this epoch is the best, from the
    /// model as the training state has it, unless they already hold that epoch (they are
    /// written after the state, so a run stopped in between gets them on resume).
    func completeEpochFiles(_ progress: TrainingProgress, mIoU: Double? = nil) throws {
        let epoch = String(progress.epoch)
        func holds(_ url: URL) -> Bool {
            FileManager.default.fileExists(atPath: url.path) && (try? SafeTensors.read(from: url).metadata["epoch"]) == epoch
        }
        if !holds(run.last) {
            try Checkpoint.save(model, to: run.last, metadata: ["epoch": epoch, "step": String(progress.step)])
        }
        if progress.extra["best_epoch"] == epoch, !holds(run.best) {
            try Checkpoint.save(model, to: run.best, metadata: ["epoch": epoch, "miou": String(mIoU ?? progress.extra["best_miou"].flatMap(Double.init) ?? 0)])
        }
    }

    /// Recomputes batch norm's running statistics as exact averages over the first
    /// `preciseBatchNormScans` training scans (no augmentation), the weights unchanged.
    ///
    /// With the reference's momentum of 0.01 the running statistics trail the weights by about a
    /// hundred steps, so in short runs evaluation-mode outputs lag what training has learnt.
    func refreshBatchNormStatistics() throws {
        let scans = min(config.preciseBatchNormScans, trainFrames.count)
        guard scans > 0 else { return }
        let norms = model.modules().compactMap { $0 as? BatchNorm2d }
        let saved = norms.map { ($0.momentum, $0.batchesTracked.value) }
        defer {
            for (norm, (momentum, count)) in zip(norms, saved) {
                norm.momentum = momentum
                norm.batchesTracked.value = count
            }
        }
        let h = config.sensor.height, w = config.sensor.width
        model.train()
        for (k, start) in stride(from: 0, to: scans, by: config.batchSize).enumerated() {
            let samples = try (start ..< min(scans, start + config.batchSize)).map { i in
                var generator = RandomGenerator(seed: 0)
                return try builder.load(trainFrames[i], from: dataset, augmentation: .none, generator: &generator)
            }
            for norm in norms { norm.momentum = 1 / Float(k + 1) }
            _ = withPrecision(config.precision) { withoutGradient { model(TrainingBatch(samples, height: h, width: w).input) } }
        }
    }

    /// mIoU and per-class IoU on every point of the validation scans. On several ranks, rank r
    /// labels scans r, r + N, r + 2N, ... and the confusion matrices are summed, so that every
    /// rank returns the report of all the scans.
    func validate() throws -> EvaluationReport? {
        guard !validFrames.isEmpty else { return nil }
        model.eval()
        defer { model.train() }
        let segmenter = Segmenter(model: model, config: config, builder: builder)
        let mine = validFrames.enumerated().filter { $0.offset % communicator.size == communicator.rank }.map(\.element)
        var matrix = try segmenter.evaluate(mine, of: dataset, labels: labels).confusion
        if communicator.size > 1 {
            var counts = matrix.counts.map { Int64($0) }
            communicator.allReduceSum(&counts)
            matrix = ConfusionMatrix(classCount: matrix.classCount, ignored: matrix.ignored, counts: counts.map { Int($0) })
        }
        return EvaluationReport(confusion: matrix, config: labels, scans: validFrames.count)
    }
}

/// Loads the samples of a batch on a background thread.
struct BatchLoader: Sendable {
    let builder: SampleBuilder
    let dataset: any Dataset
    let frames: [DatasetFrame]
    let augmentation: TrainingConfig.Augmentation
    /// Paste and mix, which draw on the other training scans; nil when off.
    let remedies: DataRemedies?
    let seed: UInt64
    let epoch: Int

    final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var result: Result<[RangeSample], any Error> = .success([])
        func wait() throws -> [RangeSample] {
            done.wait()
            return try result.get()
        }
    }

    func start(_ indices: [Int]) -> Pending {
        let pending = Pending()
        let loader = self
        DispatchQueue.global().async {
            pending.result = Result {
                try indices.map { i in
                    var generator = RandomGenerator(seed: RandomGenerator.derive(loader.seed, 2, UInt64(loader.epoch), UInt64(i)))
                    if let remedies = loader.remedies { return try remedies.load(i, builder: loader.builder, generator: &generator) }
                    return try loader.builder.load(loader.frames[i], from: loader.dataset, augmentation: loader.augmentation, generator: &generator)
                }
            }
            pending.done.signal()
        }
        return pending
    }
}

extension Trainer {
    /// Validation report of a saved checkpoint of this run's network (nil without validation scans).
    public func evaluate(checkpoint: URL) throws -> EvaluationReport? {
        try Checkpoint.load(into: model, from: checkpoint)
        return try validate()
    }
}
