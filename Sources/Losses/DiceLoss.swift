import Engine
import Foundation

/// Multi-class soft Dice loss: `1 - mean_c (2 I_c + s) / (P_c + G_c + s)` with, over the pixels
/// that are not ignored, `I_c = sum p_c g_c`, `P_c = sum p_c`, `G_c = sum g_c` (p the softmax,
/// g the one-hot labels) and smoothing `s`. The mean runs over every class but the ignore id.
///
/// - Parameters: logits `[B, C, H, W]`, labels `[B, H, W]` (learning ids).
/// - Returns: the loss, a tensor of shape `[]`.
public func diceLoss(logits: Tensor, labels: [Int32], smooth: Float = 1, ignoreIndex: Int32 = 0) throws(LossError) -> Tensor {
    try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try diceLoss(batch, smooth: smooth, ignoreIndex: ignoreIndex, gradient: gradient, scale: 1)
    }
}

/// The kernel of `diceLoss`: returns the loss and writes `scale · ∂loss/∂logits` to `gradient`.
func diceLoss(_ batch: SegmentationBatch, smooth: Float, ignoreIndex: Int32,
              gradient: UnsafeMutableBufferPointer<Float>, scale: Float) throws(LossError) -> Float {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    guard smooth >= 0 else { throw LossError("Dice smoothing must be 0 or more") }
    let softmax = PixelSoftmax(batch)
    let hw = batch.pixelsPerImage, c = batch.classes
    let counted = (0 ..< c).filter { Int32($0) != ignoreIndex }
    guard !counted.isEmpty else { throw LossError("Dice needs at least one class besides the ignore id") }
    var probabilities = [Float](repeating: 0, count: batch.logits.count)
    var intersection = [Double](repeating: 0, count: c), predicted = [Double](repeating: 0, count: c), truth = [Double](repeating: 0, count: c)
    for b in 0 ..< batch.batch {
        for p in 0 ..< hw {
            let i = b * hw + p
            let y = batch.labels[i]
            guard y != ignoreIndex else { continue }
            for k in 0 ..< c {
                let index = (b * c + k) * hw + p
                let pk = expf(batch.logits[index] - softmax.logSumExp[i])
                probabilities[index] = pk
                predicted[k] += Double(pk)
            }
            intersection[Int(y)] += Double(probabilities[(b * c + Int(y)) * hw + p])
            truth[Int(y)] += 1
        }
    }
    var value: Double = 0
    // dL/dp_k at a pixel with label y: -(1/N) [2 g_k (P_k+G_k+s) - (2 I_k + s)] / (P_k+G_k+s)^2
    var dTrue = [Float](repeating: 0, count: c), dFalse = [Float](repeating: 0, count: c)
    let n = Double(counted.count)
    for k in counted {
        let denominator = predicted[k] + truth[k] + Double(smooth)
        let numerator = 2 * intersection[k] + Double(smooth)
        guard denominator > 0 else { continue } // class absent everywhere with s = 0: no term
        value += numerator / denominator
        dFalse[k] = Float(-(-numerator) / (denominator * denominator) / n)
        dTrue[k] = Float(-(2 * denominator - numerator) / (denominator * denominator) / n)
    }
    value = 1 - value / n
    for b in 0 ..< batch.batch {
        for p in 0 ..< hw {
            let y = batch.labels[b * hw + p]
            guard y != ignoreIndex else { continue }
            // Softmax chain rule: dL/dz_k = p_k (dL/dp_k - sum_j p_j dL/dp_j).
            var dot: Float = 0
            for k in 0 ..< c {
                let dp = k == Int(y) ? dTrue[k] : dFalse[k]
                dot += probabilities[(b * c + k) * hw + p] * dp
            }
            for k in 0 ..< c {
                let index = (b * c + k) * hw + p
                let dp = k == Int(y) ? dTrue[k] : dFalse[k]
                gradient[index] = scale * probabilities[index] * (dp - dot)
            }
        }
    }
    return Float(value)
}
