import Formats

/// Where the time of an epoch's training steps went.
public struct EpochTimings: Sendable, Equatable {
    /// Wall-clock seconds of each step: waiting for its data, forward, loss and backward of
    /// each micro-batch, the all-reduce, the optimiser update.
    public var stepSeconds: [Double] = []
    /// Milliseconds of each step's all-reduce of the gradients (empty in a single process).
    public var allReduceMilliseconds: [Double] = []

    public init() {}

    /// 0 before the first step.
    public var medianStepSeconds: Double { stepSeconds.median() ?? 0 }
    /// nil in a single process.
    public var medianAllReduceMilliseconds: Double? { allReduceMilliseconds.median() }
}
