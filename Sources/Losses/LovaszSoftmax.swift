import Engine
import Foundation

/// Lovász-softmax (Berman et al., 2018), the mIoU surrogate used beside weighted cross-entropy
/// in LiDAR segmentation (e.g. SalsaNext): for each class c, the errors `|g_c - p_c|` of the
/// non-ignored pixels of the whole batch, sorted in decreasing order, dotted with the gradient
/// of the Lovász extension of the Jaccard loss; averaged over the classes present in the labels
/// (the ignore id excluded).
///
/// - Parameters: logits `[B, C, H, W]`, labels `[B, H, W]` (learning ids).
/// - Returns: the loss, a tensor of shape `[]`.
public func lovaszSoftmax(logits: Tensor, labels: [Int32], ignoreIndex: Int32 = 0) throws(LossError) -> Tensor {
    try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try lovaszSoftmax(batch, ignoreIndex: ignoreIndex, gradient: gradient, scale: 1)
    }
}

/// The kernel of `lovaszSoftmax`: returns the loss and writes `scale · ∂loss/∂logits` to `gradient`.
func lovaszSoftmax(_ batch: SegmentationBatch, ignoreIndex: Int32,
                   gradient: UnsafeMutableBufferPointer<Float>, scale: Float) throws(LossError) -> Float {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    let softmax = PixelSoftmax(batch)
    let hw = batch.pixelsPerImage, c = batch.classes
    // The valid pixels as (image, pixel) flat indices.
    let valid = (0 ..< batch.pixelCount).filter { batch.labels[$0] != ignoreIndex }
    var present = Set<Int32>()
    for i in valid { present.insert(batch.labels[i]) }
    let classes = (0 ..< c).filter { present.contains(Int32($0)) }
    guard !valid.isEmpty, !classes.isEmpty else {
        for i in gradient.indices { gradient[i] = 0 }
        return 0
    }
    var probabilityGradient = [Float](repeating: 0, count: batch.logits.count) // dL/dp
    var value: Double = 0
    var errors = [Float](repeating: 0, count: valid.count)
    var order = Array(0 ..< valid.count)
    for k in classes {
        var foregroundTotal = 0
        for (n, i) in valid.enumerated() {
            let b = i / hw, p = i % hw
            let pk = softmax.probability(batch, b, k, p)
            let foreground = batch.labels[i] == Int32(k)
            if foreground { foregroundTotal += 1 }
            errors[n] = foreground ? 1 - pk : pk
        }
        for n in order.indices { order[n] = n }
        order.sort { errors[$0] > errors[$1] }
        // Lovász gradient: J_m = 1 - (G - cumFg_m) / (G + cumBg_m), then differences.
        var cumulativeForeground = 0, cumulativeBackground = 0
        var previous: Double = 0
        for (m, n) in order.enumerated() {
            let i = valid[n]
            if batch.labels[i] == Int32(k) { cumulativeForeground += 1 } else { cumulativeBackground += 1 }
            let g = Double(foregroundTotal)
            let jaccard = 1 - (g - Double(cumulativeForeground)) / (g + Double(cumulativeBackground))
            let weight = m == 0 ? jaccard : jaccard - previous
            previous = jaccard
            value += Double(errors[n]) * weight / Double(classes.count)
            let b = i / hw, p = i % hw
            // d error / d p_k is -1 on the class's own pixels, +1 elsewhere.
            let sign: Float = batch.labels[i] == Int32(k) ? -1 : 1
            probabilityGradient[(b * c + k) * hw + p] = sign * Float(weight) / Float(classes.count)
        }
    }
    for i in gradient.indices { gradient[i] = 0 }
    for i in valid {
        let b = i / hw, p = i % hw
        var dot: Float = 0
        for k in 0 ..< c { dot += softmax.probability(batch, b, k, p) * probabilityGradient[(b * c + k) * hw + p] }
        for k in 0 ..< c {
            let index = (b * c + k) * hw + p
            gradient[index] = scale * softmax.probability(batch, b, k, p) * (probabilityGradient[index] - dot)
        }
    }
    return Float(value)
}
