import Engine
import Foundation

/// Focal loss (Lin et al.): per pixel `-alpha_y (1 - p_y)^gamma log p_y`, zero at ignored
/// pixels. `gamma = 0` is cross-entropy.
///
/// Gradient: with `p = softmax(z)` and `pt = p_y`,
/// `dL/dz_k = alpha_y [gamma (1 - pt)^(gamma - 1) pt log pt - (1 - pt)^gamma] (delta_yk - p_k)`.
///
/// - Parameters: as `crossEntropy(logits:labels:...)`; `gamma` the focusing exponent.
/// - Returns: the loss, a tensor of shape `[]`.
public func focalLoss(logits: Tensor, labels: [Int32], gamma: Float = 2, classWeights: [Float]? = nil,
                      ignoreIndex: Int32 = 0, reduction: Reduction = .validMean) throws(LossError) -> Tensor {
    try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try focalLoss(batch, gamma: gamma, classWeights: classWeights, ignoreIndex: ignoreIndex, reduction: reduction,
                      gradient: gradient, scale: 1)
    }
}

/// The kernel of `focalLoss`: returns the loss and writes `scale · ∂loss/∂logits` to `gradient`.
func focalLoss(_ batch: SegmentationBatch, gamma: Float, classWeights: [Float]?, ignoreIndex: Int32, reduction: Reduction,
               gradient: UnsafeMutableBufferPointer<Float>, scale outer: Float) throws(LossError) -> Float {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    guard gamma >= 0, gamma.isFinite else { throw LossError("focal gamma must be 0 or more, found \(gamma)") }
    if let classWeights, classWeights.count != batch.classes {
        throw LossError("\(classWeights.count) class weights for \(batch.classes) classes")
    }
    let softmax = PixelSoftmax(batch)
    let hw = batch.pixelsPerImage, c = batch.classes
    var denominator: Float = 0
    for y in batch.labels where y != ignoreIndex { denominator += classWeights?[Int(y)] ?? 1 }
    let scale = reduction.scale(pixels: batch.pixelCount, validWeight: denominator)
    let gradientScale = scale * outer
    var total: Double = 0
    for b in 0 ..< batch.batch {
        for p in 0 ..< hw {
            let i = b * hw + p
            let y = batch.labels[i]
            guard y != ignoreIndex else { continue }
            let alpha = classWeights?[Int(y)] ?? 1
            let logPt = batch.logits[(b * c + Int(y)) * hw + p] - softmax.logSumExp[i]
            let pt = expf(logPt)
            let oneMinus = max(1 - pt, 0)
            let modulating = powf(oneMinus, gamma)
            total += Double(-alpha * modulating * logPt)
            let dPt: Float = gamma == 0 ? -1 : gamma * powf(oneMinus, gamma - 1) * pt * logPt - modulating
            let g = alpha * dPt * gradientScale
            for k in 0 ..< c {
                let index = (b * c + k) * hw + p
                let pk = expf(batch.logits[index] - softmax.logSumExp[i])
                gradient[index] = g * ((k == Int(y) ? 1 : 0) - pk)
            }
        }
    }
    return Float(total) * scale
}
