import Foundation

/// A learning rate as a function of the (0-based) optimisation step.
public protocol LearningRateSchedule: Sendable {
    func learningRate(atStep step: Int) -> Float
}

/// RangeNet++'s recipe: a linear warm-up from 0 to `peak` over `warmupSteps`, then an
/// exponential decay by `decayPerEpoch` each epoch, applied smoothly per step:
///
/// `lr(t) = peak · t / warmup` for `t < warmup`,
/// `lr(t) = peak · decayPerEpoch^((t − warmup) / stepsPerEpoch)` after.
public struct WarmupExponentialDecay: LearningRateSchedule, Codable, Equatable {
    public var peak: Float
    public var warmupSteps: Int
    public var stepsPerEpoch: Int
    public var decayPerEpoch: Float

    public init(peak: Float, warmupSteps: Int, stepsPerEpoch: Int, decayPerEpoch: Float) {
        precondition(stepsPerEpoch > 0 && warmupSteps >= 0, "schedule needs positive steps per epoch")
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.stepsPerEpoch = stepsPerEpoch
        self.decayPerEpoch = decayPerEpoch
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(warmupSteps) }
        return peak * pow(decayPerEpoch, Float(step - warmupSteps) / Float(stepsPerEpoch))
    }
}

/// Cosine annealing from `peak` to `minimum` over `totalSteps`, after an optional linear
/// warm-up: `lr(t) = min + ½ (peak − min) (1 + cos(π (t − warmup) / (total − warmup)))`.
public struct CosineDecay: LearningRateSchedule, Codable, Equatable {
    public var peak: Float
    public var minimum: Float
    public var totalSteps: Int
    public var warmupSteps: Int

    public init(peak: Float, totalSteps: Int, minimum: Float = 0, warmupSteps: Int = 0) {
        precondition(totalSteps > warmupSteps, "cosine schedule needs more total steps than warm-up steps")
        self.peak = peak
        self.minimum = minimum
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(warmupSteps) }
        let t = min(Float(step - warmupSteps) / Float(totalSteps - warmupSteps), 1)
        return minimum + 0.5 * (peak - minimum) * (1 + cos(.pi * t))
    }
}
