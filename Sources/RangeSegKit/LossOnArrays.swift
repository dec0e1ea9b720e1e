import Engine
import Formats
import Foundation
import Inference
import Losses
import SemanticKITTI

/// `rangeseg loss` as a library call: a loss on logits and labels held in NumPy arrays, with
/// its gradient and the per-pixel weights of subclass losses, for checking RangeSeg's losses
/// against another implementation and for pictures of weight maps.
public struct LossOnArrays {
    /// Logits `[B, C, H, W]` and labels `[B, H, W]` (learning ids).
    public let logits: [Float]
    public let labels: [Int32]
    public let shape: (batch: Int, classes: Int, height: Int, width: Int)

    /// Checks the arrays' shapes and types; `logitsFile` and `labelsFile` name them in errors.
    public init(logits: NumPyArray, labels: NumPyArray, logitsFile: String, labelsFile: String) throws {
        guard logits.shape.count == 4 else {
            throw InputError("\(logitsFile): logits must be [B, C, H, W], found shape \(logits.shape)")
        }
        let (b, c, h, w) = (logits.shape[0], logits.shape[1], logits.shape[2], logits.shape[3])
        guard labels.shape == [b, h, w] else {
            throw InputError("\(labelsFile): labels must be [\(b), \(h), \(w)] to match the logits, found \(labels.shape)")
        }
        guard labels.elementType != .float32, labels.elementType != .float64 else {
            throw InputError("\(labelsFile): labels must be integers, found \(labels.elementType)")
        }
        self.logits = try logits.floats()
        self.labels = try labels.integers().map { Int32(clamping: $0) }
        shape = (b, c, h, w)
    }

    /// What the loss gives.
    public struct Result {
        public var value: Float
        /// `∂loss/∂logits`, `[B, C, H, W]`.
        public var gradient: [Float]
        /// Per-pixel weights `[B, H, W]` of a subclass term, if the loss has one.
        public var pixelWeights: [Float]?
    }

    /// Evaluates `loss` (value, gradient through the engine's autograd, weights).
    public func evaluate(_ loss: inout CombinedLoss) throws -> Result {
        let x = Tensor(shape: [shape.batch, shape.classes, shape.height, shape.width], scalars: logits, requiresGrad: true)
        let evaluation = try loss(logits: x, labels: labels)
        evaluation.loss.backward()
        return Result(value: evaluation.loss.scalar, gradient: x.grad!.scalars, pixelWeights: evaluation.pixelWeights)
    }

    /// Pixels that carry a loss (label not `ignoreIndex`).
    public func labelledPixels(ignoreIndex: Int32) -> Int { labels.filter { $0 != ignoreIndex }.count }

    /// The weight maps as one picture: an image per row of the batch, turbo colours from 0 to
    /// the largest weight, ignored pixels black, rows repeated so each image is about 128 pixels tall.
    public func weightPicture(_ weights: [Float], ignoreIndex: Int32) -> RGBImage {
        let (b, h, w) = (shape.batch, shape.height, shape.width)
        let shown = labels.map { $0 != ignoreIndex }
        let top = zip(weights, shown).filter(\.1).map(\.0).max() ?? 0
        let images = (0 ..< b).map { image in
            RGBImage.heatmap(Array(weights[image * h * w ..< (image + 1) * h * w]), width: w, height: h,
                             shown: Array(shown[image * h * w ..< (image + 1) * h * w]), maximum: top)
                .stretchedVertically(by: max(1, 128 / h))
        }
        return RGBImage.stacked(images, gap: 4)
    }
}

extension LossOnArrays {
    /// The loss of `config` for these logits: for the learning classes of `labels` when the
    /// logits have as many classes (wce's weights from its content unless `classWeights` are
    /// given), else for the logits' classes, which needs `classWeights` for wce.
    public func objective(_ config: LossConfig, labels: LabelConfig, classWeights: [Float]?) throws -> CombinedLoss {
        if labels.classCount == shape.classes {
            return try CombinedLoss(config, labels: labels, classWeights: classWeights, ignoreIndex: config.ignoreIndex)
        }
        if config.terms.contains(.wce), classWeights == nil {
            throw InputError("\(labels.classCount) learning classes in the label config, \(shape.classes) in the logits")
        }
        return try CombinedLoss(config, classes: shape.classes, classWeights: classWeights)
    }

    /// Writes what was asked of `result`: the gradient `[B, C, H, W]` and the per-pixel weights
    /// `[B, H, W]` as `.npy`, the weights as a picture; weights need a loss that weights pixels.
    public func write(_ result: Result, gradient: URL?, weights: URL?, picture: URL?, ignoreIndex: Int32) throws {
        let (b, c, h, w) = shape
        if let gradient { try NumPyArray(result.gradient, shape: [b, c, h, w]).write(npy: gradient) }
        guard weights != nil || picture != nil else { return }
        guard let pixelWeights = result.pixelWeights else {
            throw InputError("--weights-out and --weights-png need a loss that weights pixels (subclassified or centroid)")
        }
        if let weights { try NumPyArray(pixelWeights, shape: [b, h, w]).write(npy: weights) }
        if let picture { try weightPicture(pixelWeights, ignoreIndex: ignoreIndex).write(png: picture) }
    }
}
