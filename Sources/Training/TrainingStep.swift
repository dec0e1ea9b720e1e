import Engine
import Foundation
import Inference
import Losses
import Random
import SemanticKITTI

/// The network's inputs and targets for one step.
public struct TrainingBatch {
    /// `[B, C, H, W]`: the normalised range images (the channels the network reads).
    public var input: Tensor
    /// `[B, H, W]` learning ids (the ignore id where a pixel carries no loss).
    public var labels: [Int32]

    public init(input: Tensor, labels: [Int32]) {
        precondition(input.rank == 4 && labels.count == input.shape[0] * input.shape[2] * input.shape[3],
                     "a batch needs input [B, C, H, W] and B*H*W labels")
        self.input = input
        self.labels = labels
    }

    /// Stacks prepared samples of one image size.
    public init(_ samples: [RangeSample], height: Int, width: Int) {
        let channels = (samples.first?.input.count ?? 0) / max(height * width, 1)
        self.init(input: Tensor(shape: [samples.count, channels, height, width], scalars: samples.flatMap(\.input)),
                  labels: samples.flatMap(\.target))
    }

    public var size: Int { input.shape[0] }
}

/// One optimisation step of the network: forward pass, the configured loss as one autograd
/// node, backward pass, optimiser update. `Trainer` runs it for every batch of a run and
/// `Benchmarks.train` times it, so the benchmark measures exactly the step that training takes.
///
/// The step has two halves so that gradients can be accumulated over several micro-batches
/// before one update:
/// ```swift
/// let step = try TrainingStep(config: config, labels: labelConfig)
/// let loss = try step(batch, learningRate: 0.01)            // accumulate, then update
/// // or: for part in parts { try step.accumulate(part, scale: 1 / Float(parts.count)) }
/// //     step.update(learningRate: 0.01)
/// ```
public final class TrainingStep {
    public let model: any SegmentationNetwork
    public let optimizer: any Optimizer
    public internal(set) var loss: CombinedLoss
    /// The feature map the centroid terms cluster (a name of `model.featureNames`), or nil for
    /// the logits (also when the loss has no centroid term).
    public let subclassFeatures: String?
    /// The arithmetic of the forward and backward passes (the optimiser and the loss are float32).
    public let precision: Precision
    /// Which passes of training's convolutions run oneDNN's Winograd kernels where it has them.
    public let winograd: Winograd
    /// Wall-clock milliseconds of the phases of the last step, for benchmarks.
    public private(set) var lastPhases = Phases()

    /// Where a step's time goes.
    public struct Phases: Sendable {
        public var forward = 0.0, loss = 0.0, backward = 0.0, update = 0.0
        public var total: Double { forward + loss + backward + update }
    }

    /// Builds the network (initialised from `config.seed`), the optimiser and the loss of a run.
    /// `wce` takes its class weights from the label config's `content` (RangeNet++'s
    /// `1 / (content + 0.001)`), and the ignored learning class (unlabelled) carries no loss.
    public init(config: TrainingConfig, labels: LabelConfig) throws {
        guard config.architecture.classes == labels.classCount else {
            throw TrainingError.classCountMismatch(network: config.architecture.classes, labels: labels.classCount)
        }
        var generator = RandomGenerator(seed: config.seed)
        model = Networks.make(config.architecture, generator: &generator)
        optimizer = Self.optimizer(config.optimizer)
        loss = try CombinedLoss(config.loss, labels: labels, seed: config.seed)
        subclassFeatures = try Self.featureName(config.loss, model: model)
        precision = config.precision
        winograd = config.winograd
    }

    /// The network feature a loss's centroid terms cluster: nil for the logits.
    static func featureName(_ loss: LossConfig, model: any SegmentationNetwork) throws(LossError) -> String? {
        guard loss.terms.contains(.centroid) else { return nil }
        switch loss.subclassFeatures {
        case "logits": return nil
        case "decoder": return model.featureNames.last
        case let name where model.featureNames.contains(name): return name
        case let name:
            throw LossError("subclass_features: '\(name)' is not logits, decoder or a feature of the network (\(model.featureNames.joined(separator: ", ")))")
        }
    }

    /// The optimiser a configuration names.
    public static func optimizer(_ settings: TrainingConfig.Optimizer) -> any Optimizer {
        switch settings.kind {
        case .sgd:
            SGD(learningRate: settings.learningRate, momentum: settings.momentum, weightDecay: settings.weightDecay,
                nesterov: settings.nesterov)
        case .adam:
            Adam(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        case .adamw:
            Adam.adamW(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        }
    }

    /// Reseeds every channel dropout of the network from `seed` (each layer its own stream), so
    /// that the masks of a step depend on the step alone: the trainer seeds each micro-batch from
    /// the run's seed, the step, the rank and the micro-batch, and a resumed run draws the masks
    /// the uninterrupted one drew.
    public func seedDropout(_ seed: UInt64) {
        for (i, dropout) in model.modules().compactMap({ $0 as? Dropout2d }).enumerated() {
            dropout.generator = RandomGenerator(seed: RandomGenerator.derive(seed, UInt64(i)))
        }
    }

    /// Forward, loss and backward on `batch`: adds `scale · ∂loss/∂θ` to every parameter's
    /// `grad` and returns the loss (unscaled). Training mode.
    @discardableResult
    public func accumulate(_ batch: TrainingBatch, scale: Float = 1) throws -> Float {
        var clock = Clock()
        model.train()
        // The backward pass runs in the precision and on the kernels the forward pass recorded.
        let (logits, kept) = withWinograd(winograd) {
            withPrecision(precision) { model.forward(batch.input, keeping: subclassFeatures.map { [$0] } ?? []) }
        }
        lastPhases.forward = clock.lap()
        let features = subclassFeatures.flatMap { kept[$0] }.map { feature in
            // A constant of the step, at the labels' size.
            withoutGradient {
                let f = feature.detached()
                return f.shape[2] == logits.shape[2] && f.shape[3] == logits.shape[3]
                    ? f : resizeBilinear(f, height: logits.shape[2], width: logits.shape[3])
            }
        }
        let value = try loss(logits: logits, labels: batch.labels, features: features).loss
        let scalar = value.scalar
        lastPhases.loss = clock.lap()
        if scalar.isFinite {
            value.backward(seed: scale == 1 ? nil : Tensor(repeating: scale, shape: []))
        }
        lastPhases.backward = clock.lap()
        return scalar
    }

    /// One optimiser step with the accumulated gradients at `learningRate`, then clears them.
    public func update(learningRate: Float) {
        var clock = Clock()
        optimizer.learningRate = learningRate
        optimizer.step(model)
        lastPhases.update = clock.lap()
    }

    /// `accumulate` then `update`: one whole step. Returns the loss; a non-finite loss leaves
    /// the parameters unchanged.
    @discardableResult
    public func callAsFunction(_ batch: TrainingBatch, learningRate: Float) throws -> Float {
        let value = try accumulate(batch)
        if value.isFinite { update(learningRate: learningRate) } else { model.zeroGradients() }
        return value
    }
}

/// Milliseconds between laps.
private struct Clock {
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e6
    }
}
