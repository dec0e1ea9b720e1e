import Cluster
import Engine
import Formats
import Foundation
import Inference

/// What the ranks of a data-parallel run exchange besides gradients: the check that they run
/// the same job, the training state at the start, batch norm's statistics before validation.
extension Trainer {
    /// How this run is launched: ranks, batch per rank, accumulate, global batch.
    public var launch: TrainingConfig.Launch {
        TrainingConfig.Launch(ranks: plan.ranks, batchPerRank: plan.batchSize, accumulate: plan.accumulate,
                              precision: config.precision.choiceOnThisCPU.description)
    }

    /// Fails on a rank whose training configuration or list of scans is not rank 0's (a
    /// machine with other files), before anything is trained.
    func checkSameJob() throws {
        guard communicator.size > 1 else { return }
        let configuration = Data(try config.yamlText().utf8)
        if communicator.broadcast(configuration, from: 0) != configuration {
            throw TrainingError.differsFromRankZero(what: "training configuration")
        }
        let names = (trainFrames + [nil] + validFrames).map { $0.map { "\($0.sequence)/\($0.scan.lastPathComponent)" } ?? "--" }
        let scans = Data(names.joined(separator: "\n").utf8)
        if communicator.broadcast(scans, from: 0) != scans {
            throw TrainingError.differsFromRankZero(what: "list of training and validation scans")
        }
    }

    /// On `--resume`: keeps the run's global batch (scans per optimiser step), and with it the
    /// steps per epoch and the learning-rate schedule, by accumulating as many micro-batches
    /// as the ranks now need; records the launch in the run's `config.yaml`. Rank 0 only.
    func keepGlobalBatch(of progress: TrainingProgress) throws {
        if let previous = TrainingConfig.Launch(progressEntries: progress.extra), previous.globalBatch != plan.globalBatch {
            guard let kept = plan.accumulating(toGlobalBatch: previous.globalBatch) else {
                throw TrainingError.globalBatchUnreachable(run: previous, ranks: plan.ranks, batchSize: plan.batchSize)
            }
            plan = kept
        }
        // A config.yaml this release cannot read (another release's keys) stays as it is.
        if var recorded = try? TrainingConfig(yaml: run.config) {
            if recorded.distributed != launch {
                recorded.distributed = launch
                try AtomicFile.write(Data(recorded.yamlText().utf8), to: run.config)
            }
        }
    }

    /// Gives every rank rank 0's training state (model, optimiser, loss state, progress and
    /// the plan's accumulation): after a resume rank 0 alone has read it, and on a new run it
    /// makes sure that all ranks start from one model.
    func shareTrainingState(_ progress: inout TrainingProgress) throws {
        let source = "rank 0's training state"
        var data = Data()
        if communicator.isLeader {
            var sent = progress
            sent.extra.merge(launch.progressEntries) { _, now in now }
            data = Checkpoint.trainingState(model: model, optimizer: step.optimizer, progress: sent,
                                            extra: step.loss.checkpointEntries()).encoded()
        }
        data = communicator.broadcast(data, from: 0)
        guard !communicator.isLeader else { return }
        let restored = try Checkpoint.restore(trainingState: SafeTensors(data: data, file: source), model: model,
                                              optimizer: step.optimizer, source: source)
        try step.loss.restore(checkpointEntries: restored.extra, source: source)
        progress = restored.progress
        if let sent = TrainingConfig.Launch(progressEntries: progress.extra) { plan.accumulate = sent.accumulate }
    }

    /// Before validation and the checkpoint: in a single process, the precise batch-norm
    /// refresh. On several ranks, whose running statistics followed their own batches: the
    /// batch counters summed over the ranks (as one process accumulating would count), the
    /// refresh on rank 0, and rank 0's running statistics sent to every rank.
    func prepareBatchNormForEvaluation(_ counters: inout BatchCounters) throws {
        guard communicator.size > 1 else { return try refreshBatchNormStatistics() }
        counters.sum(over: communicator)
        if communicator.isLeader { try refreshBatchNormStatistics() }
        let statistics = model.namedBuffers().compactMap { entry -> Tensor? in
            if case let .float(tensor) = entry.buffer { tensor } else { nil }
        }
        var flat = statistics.flatMap(\.scalars)
        communicator.broadcast(&flat, from: 0)
        var offset = 0
        for tensor in statistics {
            tensor.assign(Tensor(shape: tensor.shape, scalars: Array(flat[offset ..< offset + tensor.scalarCount])))
            offset += tensor.scalarCount
        }
    }
}

/// Batch norm's `num_batches_tracked` counters over the ranks: each rank counts its own
/// micro-batches; `sum(over:)` makes every rank's counters the total since the start, which is
/// what one process accumulating the same micro-batches counts.
struct BatchCounters {
    private let counters: [CounterBuffer]
    /// The values at the last sum (the same on every rank).
    private var base: [Int64]

    /// Call when every rank holds the same counters (after the training state is shared).
    init(model: any Module) {
        counters = model.namedBuffers().compactMap { entry -> CounterBuffer? in
            if case let .count(counter) = entry.buffer { counter } else { nil }
        }
        base = counters.map(\.value)
    }

    mutating func sum(over communicator: any Communicator) {
        var counted = zip(counters, base).map { $0.value - $1 }
        communicator.allReduceSum(&counted)
        for i in counters.indices {
            counters[i].value = base[i] + counted[i]
            base[i] = counters[i].value
        }
    }
}

extension TrainingConfig.Launch {
    /// The launch in a training state's progress (`ranks`, `accumulate`, `batch_size`).
    var progressEntries: [String: String] {
        ["ranks": String(ranks), "accumulate": String(accumulate), "batch_size": String(batchPerRank)]
    }

    /// The launch a training state's progress records; nil for states of earlier releases.
    init?(progressEntries extra: [String: String]) {
        guard let ranks = extra["ranks"].flatMap(Int.init), let accumulate = extra["accumulate"].flatMap(Int.init),
              let batch = extra["batch_size"].flatMap(Int.init), ranks >= 1, accumulate >= 1, batch >= 1,
              Self.globalBatch(ranks: ranks, accumulate: accumulate, batchPerRank: batch) != nil else { return nil }
        self.init(ranks: ranks, batchPerRank: batch, accumulate: accumulate)
    }
}
