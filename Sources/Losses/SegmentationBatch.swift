/// Logits [B, C, H, W] and labels [B, H, W] of a batch, as flat row-major arrays.
///
/// The losses are functions of this pair. Labels are learning ids (0 ..< C); pixels whose
/// label is `ignoreIndex` contribute no loss.
public struct SegmentationBatch: Sendable {
    public var logits: [Float]
    public var labels: [Int32]
    public let batch: Int
    public let classes: Int
    public let height: Int
    public let width: Int

    public var pixelsPerImage: Int { height * width }
    public var pixelCount: Int { batch * height * width }

    public init(logits: [Float], labels: [Int32], batch: Int, classes: Int, height: Int, width: Int) throws(LossError) {
        guard batch > 0, classes > 0, height > 0, width > 0 else {
            throw LossError("shape [\(batch), \(classes), \(height), \(width)] has an empty dimension")
        }
        guard logits.count == batch * classes * height * width else {
            throw LossError("\(logits.count) logits do not fill [\(batch), \(classes), \(height), \(width)]")
        }
        guard labels.count == batch * height * width else {
            throw LossError("\(labels.count) labels do not fill [\(batch), \(height), \(width)]")
        }
        self.logits = logits
        self.labels = labels
        self.batch = batch
        self.classes = classes
        self.height = height
        self.width = width
    }

    /// Checks that every label is a class or the ignore id.
    public func validateLabels(ignoreIndex: Int32) throws(LossError) {
        if let bad = labels.firstIndex(where: { ($0 < 0 || $0 >= Int32(classes)) && $0 != ignoreIndex }) {
            throw LossError("label \(labels[bad]) at pixel \(bad) is neither a class (0-\(classes - 1)) nor the ignore id \(ignoreIndex)")
        }
    }
}

/// A loss's value, its gradient with respect to the logits, and the per-pixel weights it used.
public struct LossValue: Sendable {
    public var value: Float
    /// dLoss/dLogits, [B, C, H, W].
    public var gradient: [Float]
    /// The weight of each pixel [B, H, W], for losses that weight pixels (nil otherwise).
    public var pixelWeights: [Float]?

    public init(value: Float, gradient: [Float], pixelWeights: [Float]? = nil) {
        self.value = value
        self.gradient = gradient
        self.pixelWeights = pixelWeights
    }
}

/// How per-pixel losses become one number.
public enum Reduction: String, Sendable, CaseIterable, Codable {
    /// Sum over pixels divided by all B*H*W pixels, ignored ones included (the paper's choice,
    /// and PyTorch's `reduction="none"` followed by `.mean()`).
    case mean
    /// Sum over pixels divided by the number of pixels that are not ignored (PyTorch's
    /// `cross_entropy(..., reduction="mean")` without class weights).
    case validMean = "valid-mean"
    /// Sum over pixels.
    case sum
}

extension Reduction {
    /// The factor that turns a sum over pixels into this reduction.
    func scale(pixels: Int, validWeight: Float) -> Float {
        switch self {
        case .mean: 1 / Float(pixels)
        case .validMean: validWeight > 0 ? 1 / validWeight : 0
        case .sum: 1
        }
    }
}

/// An invalid loss parameter or input; the message says which and why.
public struct LossError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
