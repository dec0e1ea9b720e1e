import Engine
import Foundation
import Random
@testable import Losses

/// Logits `[B, C, H, W]` and labels `[B, H, W]` as flat arrays, for tests: the losses are called
/// through their public tensor API and the gradient is read back from autograd.
@dynamicMemberLookup
struct LossInput {
    var logits: [Float]
    var labels: [Int32]
    let shape: SegmentationShape

    init(logits: [Float], labels: [Int32], batch: Int, classes: Int, height: Int, width: Int) {
        self.logits = logits
        self.labels = labels
        shape = SegmentationShape(batch: batch, classes: classes, height: height, width: width)
    }

    subscript<T>(dynamicMember size: KeyPath<SegmentationShape, T>) -> T { shape[keyPath: size] }

    /// The logits as a tensor that collects gradients.
    func tensor() -> Tensor { Tensor(shape: [shape.batch, shape.classes, shape.height, shape.width], scalars: logits, requiresGrad: true) }

    /// Runs `loss` on the logits and back-propagates: the value and `∂loss/∂logits`.
    func run(_ loss: (Tensor, [Int32]) throws -> Tensor) rethrows -> LossResult {
        let x = tensor()
        let value = try loss(x, labels)
        value.backward()
        return LossResult(value: value.scalar, gradient: x.grad!.scalars)
    }

    /// The internal batch view of these arrays, for the kernels.
    func withBatch<R>(_ body: (SegmentationBatch) throws -> R) rethrows -> R {
        try logits.withUnsafeBufferPointer {
            try body(SegmentationBatch(logits: $0, labels: labels, shape: shape))
        }
    }
}

struct LossResult {
    var value: Float
    var gradient: [Float]
    var pixelWeights: [Float]?
}

// The losses on `LossInput`, through the public API.

func crossEntropy(_ b: LossInput, classWeights: [Float]? = nil, pixelWeights: [Float]? = nil, ignoreIndex: Int32 = 0,
                  reduction: Reduction = .validMean) throws -> LossResult {
    try b.run { try crossEntropy(logits: $0, labels: $1, classWeights: classWeights, pixelWeights: pixelWeights,
                                 ignoreIndex: ignoreIndex, reduction: reduction) }
}

func focalLoss(_ b: LossInput, gamma: Float = 2, classWeights: [Float]? = nil, ignoreIndex: Int32 = 0) throws -> LossResult {
    try b.run { try focalLoss(logits: $0, labels: $1, gamma: gamma, classWeights: classWeights, ignoreIndex: ignoreIndex) }
}

func diceLoss(_ b: LossInput, smooth: Float = 1, ignoreIndex: Int32 = 0) throws -> LossResult {
    try b.run { try diceLoss(logits: $0, labels: $1, smooth: smooth, ignoreIndex: ignoreIndex) }
}

func lovaszSoftmax(_ b: LossInput, ignoreIndex: Int32 = 0) throws -> LossResult {
    try b.run { try lovaszSoftmax(logits: $0, labels: $1, ignoreIndex: ignoreIndex) }
}

func subclassifiedLoss(_ b: LossInput, options: SubclassifiedOptions = .init()) throws -> LossResult {
    var result = try b.run { try subclassifiedLoss(logits: $0, labels: $1, options: options) }
    result.pixelWeights = try subclassWeights(b, options: options)
    return result
}

func subclassWeights(_ b: LossInput, options: SubclassifiedOptions = .init()) throws -> [Float] {
    try subclassWeights(logits: b.tensor(), labels: b.labels, options: options)
}

/// The centroid loss through its public API, and the weights the step used (from the kernel,
/// on a copy of the weighting's state before the step).
func centroidSubclassLoss(_ b: LossInput, weighting: inout CentroidSubclassWeighting, classWeights: [Float]? = nil,
                          ignoreIndex: Int32 = 0) throws -> LossResult {
    var before = weighting
    var gradient = [Float](repeating: 0, count: b.logits.count)
    let weights = try b.withBatch { batch in
        try gradient.withUnsafeMutableBufferPointer {
            try centroidSubclassLoss(batch, weighting: &before, features: nil, classWeights: classWeights, ignoreIndex: ignoreIndex,
                                     gradient: $0, scale: 1).weights
        }
    }
    var result = try b.run { try centroidSubclassLoss(logits: $0, labels: $1, weighting: &weighting, classWeights: classWeights,
                                                      ignoreIndex: ignoreIndex) }
    result.pixelWeights = weights
    return result
}

extension RandomGenerator {
    /// Standard normal as Float, for test inputs.
    mutating func normalFloat() -> Float { Float(gaussian()) }
}

/// Random logits and labels; with `prototypes`, labels are constant over 8 x 8 blocks and each
/// block's logits are one of a few prototypes of its class plus noise, so that pixels of a
/// class resemble each other as in a trained network.
func randomBatch(batch: Int = 2, classes: Int = 4, height: Int = 8, width: Int = 32, seed: UInt64 = 1,
                 ignoreFraction: Double = 0.1, ignoreIndex: Int32 = 0, prototypes: Int? = nil, noise: Float = 0.05) -> LossInput {
    var random = RandomGenerator(seed: seed)
    let hw = height * width
    var labels = [Int32](repeating: 0, count: batch * hw)
    for i in labels.indices {
        labels[i] = random.chance(ignoreFraction) ? ignoreIndex : Int32(1 + random.int(0 ..< classes - 1))
    }
    var blockPrototype = [Int](repeating: 0, count: batch * hw)
    if let prototypes {
        for b in 0 ..< batch {
            for by in stride(from: 0, to: height, by: 8) {
                for bx in stride(from: 0, to: width, by: 8) {
                    let label: Int32 = random.chance(ignoreFraction) ? ignoreIndex : Int32(1 + random.int(0 ..< classes - 1))
                    let proto = random.int(0 ..< prototypes)
                    for y in by ..< min(by + 8, height) {
                        for x in bx ..< min(bx + 8, width) {
                            labels[b * hw + y * width + x] = label
                            blockPrototype[b * hw + y * width + x] = proto
                        }
                    }
                }
            }
        }
    }
    var logits = [Float](repeating: 0, count: batch * classes * hw)
    let protos = (0 ..< (prototypes ?? 0) * classes).map { _ in (0 ..< classes).map { _ in random.normalFloat() * 2 } }
    for b in 0 ..< batch {
        for p in 0 ..< hw {
            let proto: [Float]? = prototypes.map { protos[Int(labels[b * hw + p]) * $0 + blockPrototype[b * hw + p]] }
            for k in 0 ..< classes {
                logits[(b * classes + k) * hw + p] = (proto?[k] ?? random.normalFloat() * 2) + (proto == nil ? 0 : noise * random.normalFloat())
            }
        }
    }
    return LossInput(logits: logits, labels: labels, batch: batch, classes: classes, height: height, width: width)
}

/// Central finite differences of `loss` at a few logits, against `analytic`.
func maxGradientError(_ batch: LossInput, analytic: [Float], indices: [Int], step: Float = 1e-2,
                      _ loss: (LossInput) throws -> Float) rethrows -> Float {
    var worst: Float = 0
    for i in indices {
        var plus = batch, minus = batch
        plus.logits[i] += step
        minus.logits[i] -= step
        let numeric = (try loss(plus) - loss(minus)) / (2 * step)
        worst = max(worst, abs(numeric - analytic[i]) / max(1, abs(numeric)))
    }
    return worst
}
