/// How an epoch's shuffled order of scans becomes optimiser steps, on one process or on the
/// ranks of a data-parallel job.
///
/// The order is cut into micro-batches of `batchSize` scans (the last may be shorter). Each
/// step takes the next `ranks x accumulate` of them, and micro-batch k goes to rank k mod
/// `ranks`, which accumulates its share; the ranks' gradients are then summed. So N ranks with
/// batch b see, step by step, exactly the micro-batches that one process with batch b and
/// `accumulate: N` sees, and both scale each micro-batch's gradient by 1 / (micro-batches in
/// the step).
///
/// No scan is dropped: the last step of an epoch takes the micro-batches that are left, which
/// may be fewer than `ranks x accumulate` (a rank may then have none), and it averages over
/// those it has, as the last, short batch of a single process always did.
///
/// ```swift
/// let plan = StepPlan(batchSize: 1, accumulate: 1, ranks: 2, rank: 1)
/// plan.share(ofStep: 0, order: [4, 0, 2, 1, 3])   // mine: [[0]], count: 2 (rank 0 has [[4]])
/// plan.share(ofStep: 2, order: [4, 0, 2, 1, 3])   // mine: [], count: 1 (rank 0 has [[3]])
/// ```
public struct StepPlan: Sendable, Equatable {
    /// Scans per micro-batch: one forward pass on one rank (`batch_size`).
    public var batchSize: Int
    /// Micro-batches each rank accumulates per step (`accumulate`).
    public var accumulate: Int
    /// Processes of the job.
    public var ranks: Int
    /// This process's rank, `0 ..< ranks`.
    public var rank: Int

    public init(batchSize: Int, accumulate: Int = 1, ranks: Int = 1, rank: Int = 0) {
        precondition(batchSize >= 1 && accumulate >= 1 && ranks >= 1 && (0 ..< ranks).contains(rank),
                     "a plan needs positive sizes and a rank below the number of ranks")
        self.batchSize = batchSize
        self.accumulate = accumulate
        self.ranks = ranks
        self.rank = rank
    }

    /// Micro-batches per full step, over all ranks.
    public var microBatchesPerStep: Int { ranks * accumulate }

    /// Scans per full optimiser step: ranks x accumulate x batch size.
    public var globalBatch: Int { microBatchesPerStep * batchSize }

    /// Micro-batches of an epoch of `scans` scans.
    public func microBatches(scans: Int) -> Int { (scans + batchSize - 1) / batchSize }

    /// Optimiser steps of an epoch of `scans` scans (the last one possibly short).
    public func steps(scans: Int) -> Int { (microBatches(scans: scans) + microBatchesPerStep - 1) / microBatchesPerStep }

    /// Step `step` of the epoch whose shuffled order is `order`: the micro-batches (indices
    /// into the scans) this rank runs, in order, and how many the step has on all ranks
    /// together (what each micro-batch's gradient is divided by).
    public func share(ofStep step: Int, order: [Int]) -> (mine: [[Int]], count: Int) {
        let total = microBatches(scans: order.count)
        let first = step * microBatchesPerStep
        let end = min(total, first + microBatchesPerStep)
        guard first < end else { return ([], 0) }
        let mine = stride(from: first + rank, to: end, by: ranks).map { k in
            Array(order[(k * batchSize) ..< min(order.count, (k + 1) * batchSize)])
        }
        return (mine, end - first)
    }

    /// This plan with as many micro-batches accumulated as make `globalBatch` scans per step
    /// on its ranks; nil when no whole number does.
    public func accumulating(toGlobalBatch globalBatch: Int) -> StepPlan? {
        let perRound = ranks * batchSize
        guard globalBatch >= perRound, globalBatch % perRound == 0 else { return nil }
        return StepPlan(batchSize: batchSize, accumulate: globalBatch / perRound, ranks: ranks, rank: rank)
    }
}
