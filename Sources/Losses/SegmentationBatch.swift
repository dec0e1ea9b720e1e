import Engine

/// The logits of a batch in plain row-major layout, [B, C, H, W], beside its labels [B, H, W]:
/// what every loss kernel reads. Made by `withBatch` inside a fused loss node, where the engine
/// lends the logits' buffer for the duration of the call.
struct SegmentationBatch {
    let logits: UnsafeBufferPointer<Float>
    let labels: [Int32]
    let shape: SegmentationShape

    // The shape's sizes as the batch's own, for the kernels' inner loops.
    var batch: Int { shape.batch }
    var classes: Int { shape.classes }
    var height: Int { shape.height }
    var width: Int { shape.width }
    var pixelsPerImage: Int { shape.pixelsPerImage }
    var pixelCount: Int { shape.pixelCount }

    /// Checks that every label is a class or the ignore id.
    func validateLabels(ignoreIndex: Int32) throws(LossError) {
        if let bad = labels.firstIndex(where: { ($0 < 0 || $0 >= Int32(classes)) && $0 != ignoreIndex }) {
            throw LossError("label \(labels[bad]) at pixel \(bad) is neither a class (0-\(classes - 1)) nor the ignore id \(ignoreIndex)")
        }
    }
}

/// A loss of `logits` as one autograd node: `body` sees the batch and a zeroed gradient buffer
/// ([B, C, H, W], owned by the engine), writes `∂loss/∂logits` there and returns the loss.
func fusedSegmentationLoss(logits: Tensor, labels: [Int32],
                           _ body: (SegmentationBatch, UnsafeMutableBufferPointer<Float>) throws(LossError) -> Float) throws(LossError) -> Tensor {
    let shape = try SegmentationShape(logits: logits, labels: labels)
    return try Tensor.fusedLoss(of: logits) { (z, gradient) throws(LossError) -> Float in
        try body(SegmentationBatch(logits: z, labels: labels, shape: shape), gradient)
    }
}

/// Runs `body` on the plain values of `logits` as a batch (no gradient), e.g. for weight maps.
func withBatch<R>(logits: Tensor, labels: [Int32], _ body: (SegmentationBatch) throws(LossError) -> R) throws(LossError) -> R {
    let shape = try SegmentationShape(logits: logits, labels: labels)
    do {
        return try logits.withUnsafeScalars { z in
            try body(SegmentationBatch(logits: z, labels: labels, shape: shape))
        }
    } catch let error as LossError {
        throw error
    } catch {
        throw LossError("\(error)")
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
