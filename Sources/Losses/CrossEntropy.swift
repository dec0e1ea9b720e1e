import CKernels
import Engine
import Foundation

/// Cross-entropy with optional class and pixel weights: per pixel
/// `w_pixel · w_class[y] · (logsumexp(z) − z_y)`, zero at ignored pixels, then reduced.
///
/// With `.validMean` and class weights, the sum is divided by the summed class weights of the
/// valid pixels, as PyTorch's weighted `cross_entropy` does. Value and gradient come from one
/// fused, vectorised softmax pass (`softmax − onehot`, never `log(softmax)`).
///
/// ```swift
/// let loss = try crossEntropy(logits: model(input), labels: targets, classWeights: weights)
/// loss.backward()
/// ```
/// - Parameters:
///   - logits: `[B, C, H, W]`.
///   - labels: `[B, H, W]` learning ids, row-major.
///   - classWeights: one weight per class (e.g. `inverseFrequencyWeights`), or nil for 1.
///   - pixelWeights: one weight per pixel `[B, H, W]` (e.g. subclass weights), or nil for 1;
///     constants of the step (no gradient flows into them).
/// - Returns: the loss, a tensor of shape `[]`.
public func crossEntropy(logits: Tensor, labels: [Int32], classWeights: [Float]? = nil, pixelWeights: [Float]? = nil,
                         ignoreIndex: Int32 = 0, reduction: Reduction = .validMean) throws(LossError) -> Tensor {
    try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try crossEntropy(batch, classWeights: classWeights, pixelWeights: pixelWeights, ignoreIndex: ignoreIndex,
                         reduction: reduction, gradient: gradient, scale: 1)
    }
}

/// The kernel of `crossEntropy`: returns the loss and writes `scale · ∂loss/∂logits` to `gradient`.
func crossEntropy(_ batch: SegmentationBatch, classWeights: [Float]?, pixelWeights: [Float]?, ignoreIndex: Int32,
                  reduction: Reduction, gradient: UnsafeMutableBufferPointer<Float>, scale outer: Float) throws(LossError) -> Float {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    if let classWeights, classWeights.count != batch.classes {
        throw LossError("\(classWeights.count) class weights for \(batch.classes) classes")
    }
    if let pixelWeights, pixelWeights.count != batch.pixelCount {
        throw LossError("\(pixelWeights.count) pixel weights for \(batch.pixelCount) pixels")
    }
    let hw = batch.pixelsPerImage, c = batch.classes
    // Per-pixel factor (pixel weight x class weight) and the reduction's denominator.
    var factor = [Float](repeating: 0, count: batch.pixelCount)
    var denominator: Float = 0
    for i in 0 ..< batch.pixelCount {
        let y = batch.labels[i]
        guard y != ignoreIndex else { continue }
        let classWeight = classWeights?[Int(y)] ?? 1
        factor[i] = classWeight * (pixelWeights?[i] ?? 1)
        denominator += classWeight
    }
    let scale = reduction.scale(pixels: batch.pixelCount, validWeight: denominator)
    // The fused softmax, loss and gradient of each image (the C kernel `rs_softmax_cross_entropy`).
    var total: Double = 0
    var pixelLoss = [Float](repeating: 0, count: hw)
    let z = batch.logits.baseAddress!, g = gradient.baseAddress!
    batch.labels.withUnsafeBufferPointer { y in
        factor.withUnsafeBufferPointer { f in
            for b in 0 ..< batch.batch {
                total += rs_softmax_cross_entropy(z + b * c * hw, y.baseAddress! + b * hw, f.baseAddress! + b * hw,
                                                  Int64(c), Int64(hw), scale * outer, g + b * c * hw, &pixelLoss)
            }
        }
    }
    return Float(total) * scale
}

/// RangeNet++'s class weights `w_c = 1 / (content_c + epsilon)`, zero for ignored classes.
///
/// - Parameters:
///   - content: the fraction of points of each learning class (e.g. `LabelConfig.learningContent()`
///     or counted from the training set).
///   - ignored: learning classes whose weight is 0 (e.g. from `learning_ignore`).
public func inverseFrequencyWeights(content: [Double], ignored: Set<Int>, epsilon: Double = 0.001) -> [Float] {
    content.enumerated().map { c, fraction in ignored.contains(c) ? 0 : Float(1 / (fraction + epsilon)) }
}

/// Per-pixel softmax quantities shared by the losses: for pixel i of image b, the log-sum-exp
/// of its logits, computed once with the max subtracted.
struct PixelSoftmax {
    /// log sum_k exp(z_k) per pixel [B, H, W].
    var logSumExp: [Float]

    init(_ batch: SegmentationBatch) {
        let hw = batch.pixelsPerImage, c = batch.classes
        var lse = [Float](repeating: 0, count: batch.pixelCount)
        let z = batch.logits
        for b in 0 ..< batch.batch {
            let base = b * c * hw
            var maxima = [Float](repeating: -.infinity, count: hw)
            for k in 0 ..< c {
                let plane = base + k * hw
                for p in 0 ..< hw where z[plane + p] > maxima[p] { maxima[p] = z[plane + p] }
            }
            var sums = [Float](repeating: 0, count: hw)
            for k in 0 ..< c {
                let plane = base + k * hw
                for p in 0 ..< hw { sums[p] += expf(z[plane + p] - maxima[p]) }
            }
            for p in 0 ..< hw { lse[b * hw + p] = maxima[p] + logf(sums[p]) }
        }
        logSumExp = lse
    }

    /// softmax probability of class k at (image b, pixel p).
    @inline(__always)
    func probability(_ batch: SegmentationBatch, _ b: Int, _ k: Int, _ p: Int) -> Float {
        expf(batch.logits[(b * batch.classes + k) * batch.pixelsPerImage + p] - logSumExp[b * batch.pixelsPerImage + p])
    }
}

/// The unweighted cross-entropy of each pixel [B, H, W], `logsumexp(z) - z_y`, 0 where ignored.
func pixelCrossEntropy(_ batch: SegmentationBatch, ignoreIndex: Int32 = 0) -> [Float] {
    let softmax = PixelSoftmax(batch)
    let hw = batch.pixelsPerImage, c = batch.classes
    return (0 ..< batch.pixelCount).map { i in
        let y = batch.labels[i]
        guard y != ignoreIndex, y >= 0, Int(y) < c else { return 0 }
        return softmax.logSumExp[i] - batch.logits[((i / hw) * c + Int(y)) * hw + i % hw]
    }
}
