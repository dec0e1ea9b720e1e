/// Where the time of an epoch's training steps went.
public struct EpochTimings: Sendable, Equatable {
    /// Wall-clock seconds of each step: waiting for its data, forward, loss and backward of
    /// each micro-batch, the all-reduce, the optimiser update.
    public var stepSeconds: [Double] = []
    /// Milliseconds of each step's all-reduce of the gradients (empty in a single process).
    public var allReduceMilliseconds: [Double] = []

    public init() {}

    public var medianStepSeconds: Double { Self.median(stepSeconds) }
    /// nil in a single process.
    public var medianAllReduceMilliseconds: Double? { allReduceMilliseconds.isEmpty ? nil : Self.median(allReduceMilliseconds) }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
