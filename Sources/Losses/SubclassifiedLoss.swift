import CKernels
import Engine
import Foundation

/// A grid coarser than the image by a whole factor in each direction, written `8x8`, `4x8` or
/// `8` (both directions).
public struct GridFactor: Sendable, Equatable, Codable, CustomStringConvertible {
    public var rows: Int
    public var columns: Int

    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    public init(_ both: Int) { self.init(rows: both, columns: both) }

    public var description: String { "\(rows)x\(columns)" }

    /// `8x8`, `4x8` or `8` (both directions).
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        if parts.count == 1, let n = parts[0] { self.init(n); return }
        if parts.count == 2, let r = parts[0], let c = parts[1] { self.init(rows: r, columns: c); return }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try (try? container.decode(String.self)) ?? String(container.decode(Int.self))
        guard let grid = GridFactor(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not ROWSxCOLUMNS (e.g. 8x8) or one number"))
        }
        self = grid
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Parameters of the subclassified loss by similarity counting (spec section 1). The defaults
/// are the paper's.
public struct SubclassifiedOptions: Sendable, Equatable {
    /// Similarity above which two pixels of a class count as the same subclass (tau).
    public var threshold: Float = 0.98
    /// Added to each count before the power (kappa).
    public var kappa: Float = 10
    /// Weight = 1 / (count + kappa)^power (p).
    public var power: Float = 0.5
    /// Weights are clamped from above at this value after normalisation (w_max).
    public var maxWeight: Float = 10
    /// How much coarser the reference grid is than the image (r).
    public var referenceFactor = GridFactor(8)
    /// How much coarser the query grid is than the image (q).
    public var queryFactor = GridFactor(4)
    /// Weight every image by the batch mean of the weight maps, as the authors' released code
    /// does through an accidental broadcast (off: each image by its own map, as the paper says).
    public var batchAveragedWeights = false
    /// How per-pixel losses are reduced (the paper: mean over all pixels).
    public var reduction: Reduction = .mean

    public init() {}

    /// Checks the parameters.
    public func validate() throws(LossError) {
        for (name, factor) in [("reference", referenceFactor), ("query", queryFactor)] {
            guard factor.rows > 0, factor.columns > 0 else {
                throw LossError("the \(name) grid factor \(factor) must be positive")
            }
        }
        guard threshold.isFinite else { throw LossError("the similarity threshold tau must be finite") }
        guard kappa >= 0, kappa.isFinite else { throw LossError("kappa must be 0 or more, found \(kappa)") }
        guard power >= 0, power.isFinite else { throw LossError("the power p must be 0 or more, found \(power)") }
        guard maxWeight > 0 else { throw LossError("w_max must be positive, found \(maxWeight)") }
    }

    /// Checks the parameters and that both grids divide an image of this size.
    public func validate(height: Int, width: Int) throws(LossError) {
        try validate()
        for (name, factor) in [("reference", referenceFactor), ("query", queryFactor)] {
            guard height % factor.rows == 0, width % factor.columns == 0 else {
                throw LossError("the \(name) grid factor \(factor) does not divide the \(height)x\(width) image")
            }
        }
    }
}

/// The subclassified loss (Qiu et al.), similarity-count weighting: cross-entropy in which each
/// pixel is weighted by how rare its appearance is within its class (`subclassWeights`).
/// The weights are constants of the step: no gradient flows through them.
///
/// ```swift
/// let loss = try subclassifiedLoss(logits: model(input), labels: targets)
/// loss.backward()
/// ```
/// - Parameters:
///   - logits: `[B, C, H, W]`; H and W divisible by the options' grid factors.
///   - labels: `[B, H, W]` learning ids.
/// - Returns: the loss, a tensor of shape `[]`.
public func subclassifiedLoss(logits: Tensor, labels: [Int32], options: SubclassifiedOptions = .init(),
                              classWeights: [Float]? = nil, ignoreIndex: Int32 = 0) throws(LossError) -> Tensor {
    try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try subclassifiedLoss(batch, options: options, classWeights: classWeights, ignoreIndex: ignoreIndex,
                              gradient: gradient, scale: 1).value
    }
}

/// The per-pixel weights `[B, H, W]` of the subclassified loss for these logits (see the
/// batch form below): for weight maps and pictures.
public func subclassWeights(logits: Tensor, labels: [Int32], options: SubclassifiedOptions = .init(),
                            ignoreIndex: Int32 = 0) throws(LossError) -> [Float] {
    try withBatch(logits: logits, labels: labels) { (batch) throws(LossError) in
        try batch.validateLabels(ignoreIndex: ignoreIndex)
        return try subclassWeights(batch, options: options, ignoreIndex: ignoreIndex)
    }
}

/// The kernel of `subclassifiedLoss`: the loss and the weights it used; writes
/// `scale · ∂loss/∂logits` to `gradient`.
func subclassifiedLoss(_ batch: SegmentationBatch, options: SubclassifiedOptions, classWeights: [Float]?, ignoreIndex: Int32,
                       gradient: UnsafeMutableBufferPointer<Float>, scale: Float) throws(LossError) -> (value: Float, weights: [Float]) {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    let weights = try subclassWeights(batch, options: options, ignoreIndex: ignoreIndex)
    let value = try crossEntropy(batch, classWeights: classWeights, pixelWeights: weights, ignoreIndex: ignoreIndex,
                                 reduction: options.reduction, gradient: gradient, scale: scale)
    return (value, weights)
}

/// The per-pixel weights [B, H, W] of the subclassified loss, spec section 1.
///
/// For each image: resample the logits bilinearly onto a query grid (H/q) and a reference grid
/// (H/r), and the labels by nearest neighbour; count for each query pixel i the reference
/// pixels j of its own label with `s(i, j) = <f_i, g_j> / (max(|f_i|^2, |g_j|^2) + 1e-5) > tau`;
/// weight `w_i = (n_i + kappa)^-p`; upsample bilinearly to H x W; divide by the image's mean
/// weight and clamp at w_max.
///
/// Only same-label pairs can count, so pixels are grouped by label and each group's
/// similarities come from one matrix product (oneDNN's sgemm): `sum_c Q_c R_c C` multiply-adds
/// instead of the all-pairs `Q R C`, with the same result.
func subclassWeights(_ batch: SegmentationBatch, options: SubclassifiedOptions,
                     ignoreIndex: Int32) throws(LossError) -> [Float] {
    try options.validate(height: batch.height, width: batch.width)
    let h = batch.height, w = batch.width, c = batch.classes, hw = h * w
    let qh = h / options.queryFactor.rows, qw = w / options.queryFactor.columns
    let rh = h / options.referenceFactor.rows, rw = w / options.referenceFactor.columns
    var weights = [Float](repeating: 0, count: batch.pixelCount)
    for b in 0 ..< batch.batch {
        let z = batch.logits
        let (query, reference, queryLabels, referenceLabels) = batch.labels.withUnsafeBufferPointer { y in
            let logits = UnsafeBufferPointer(rebasing: z[(b * c * hw) ..< ((b + 1) * c * hw)])
            let labels = UnsafeBufferPointer(rebasing: y[(b * hw) ..< ((b + 1) * hw)])
            return (resampleBilinear(logits, planes: c, inHeight: h, inWidth: w, outHeight: qh, outWidth: qw),
                    resampleBilinear(logits, planes: c, inHeight: h, inWidth: w, outHeight: rh, outWidth: rw),
                    resampleNearest(labels, height: h, width: w, outHeight: qh, outWidth: qw),
                    resampleNearest(labels, height: h, width: w, outHeight: rh, outWidth: rw))
        }
        let counts = similarityCounts(query: query, queryLabels: queryLabels, reference: reference,
                                      referenceLabels: referenceLabels, channels: c, threshold: options.threshold)
        let coarse = counts.map { powf(Float($0) + options.kappa, -options.power) }
        let full = coarse.withUnsafeBufferPointer {
            resampleBilinear($0, planes: 1, inHeight: qh, inWidth: qw, outHeight: h, outWidth: w)
        }
        let mean = Float(full.reduce(0.0) { $0 + Double($1) } / Double(hw))
        for p in 0 ..< hw { weights[b * hw + p] = min(full[p] / mean, options.maxWeight) }
    }
    if options.batchAveragedWeights, batch.batch > 1 {
        for p in 0 ..< hw {
            var sum: Float = 0
            for b in 0 ..< batch.batch { sum += weights[b * hw + p] }
            for b in 0 ..< batch.batch { weights[b * hw + p] = sum / Float(batch.batch) }
        }
    }
    return weights
}

/// n_i: for each query vector, the number of reference vectors with the same label whose
/// modified cosine similarity exceeds `threshold`. Vectors are channel-major planes
/// ([C, Q] and [C, R]) as the resampling produces them.
func similarityCounts(query: [Float], queryLabels: [Int32], reference: [Float], referenceLabels: [Int32],
                      channels c: Int, threshold: Float) -> [Int] {
    let q = queryLabels.count, r = referenceLabels.count
    var counts = [Int](repeating: 0, count: q)
    var referenceByLabel: [Int32: [Int]] = [:]
    for j in 0 ..< r { referenceByLabel[referenceLabels[j], default: []].append(j) }
    var queryByLabel: [Int32: [Int]] = [:]
    for i in 0 ..< q { queryByLabel[queryLabels[i], default: []].append(i) }
    let block = 1024
    for (label, queries) in queryByLabel {
        guard let references = referenceByLabel[label] else { continue }
        // Pixel-major matrices of this group: F [Qc, C], G [Rc, C], and squared norms.
        let rc = references.count
        var g = [Float](repeating: 0, count: rc * c)
        var gNorm = [Float](repeating: 0, count: rc)
        for (row, j) in references.enumerated() {
            for k in 0 ..< c {
                let v = reference[k * r + j]
                g[row * c + k] = v
                gNorm[row] += v * v
            }
        }
        var start = 0
        var f = [Float](repeating: 0, count: block * c)
        var dots = [Float](repeating: 0, count: block * rc)
        while start < queries.count {
            let qc = min(block, queries.count - start)
            var fNorm = [Float](repeating: 0, count: qc)
            for row in 0 ..< qc {
                let i = queries[start + row]
                for k in 0 ..< c {
                    let v = query[k * q + i]
                    f[row * c + k] = v
                    fNorm[row] += v * v
                }
            }
            // dots [qc, rc] = F [qc, C] x G^T
            multiplyTransposed(f, g, m: qc, n: rc, k: c, into: &dots)
            dots.withUnsafeBufferPointer { d in
                for row in 0 ..< qc {
                    counts[queries[start + row]] = Int(rs_count_similar(d.baseAddress! + row * rc, gNorm, Int64(rc), fNorm[row], threshold))
                }
            }
            start += qc
        }
    }
    return counts
}
