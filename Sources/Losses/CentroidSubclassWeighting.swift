import Engine
import Foundation
import Random

/// Parameters of the centroid-subclass weighting (spec section 2).
public struct CentroidSubclassOptions: Sendable, Equatable {
    /// How centroids follow the features as training goes on.
    public enum Update: String, Sendable, Codable, CaseIterable {
        /// k-means again every `updateEvery` steps, starting from the current centroids ("Option 1").
        case recluster
        /// An exponential moving average of each subclass's mean after every step ("Option 2").
        case adaptive
    }

    /// Which of a class's subclasses the weight normalisation runs over.
    public enum Normalisation: String, Sendable, Codable, CaseIterable {
        /// The subclasses that own pixels in this step: their weights sum to their number.
        /// The same as `all` whenever every subclass is present. A subclass whose centroid no
        /// pixel is nearest any more has a moving-average frequency that decays towards 0, so a
        /// weight 1/f that grows without bound; it weighs no pixel, and here it changes nothing.
        case present
        /// All K_c subclasses, the literal reading of the spec: an abandoned subclass's huge
        /// 1/f then takes almost all of the class's K_c, and the pixels the class does have get
        /// weights near 0 (seen in the loss study: car, other-vehicle and person starved).
        case all
    }

    /// Subclasses K_c per learning class; classes not listed get `defaultSubclasses`.
    public var subclasses: [Int: Int] = [:]
    public var defaultSubclasses = 1
    public var update: Update = .adaptive
    /// Which subclasses a class's weights are normalised over.
    public var normalisation: Normalisation = .present
    /// Steps between re-clusterings (`.recluster`).
    public var updateEvery = 100
    /// EMA momentum of the adaptive centroids and of the subclass statistics.
    public var momentum: Float = 0.9
    /// Lloyd iterations per k-means.
    public var kmeansIterations = 10
    /// At most this many vectors per class feed a k-means (a seeded random subset).
    public var kmeansSampleLimit = 4096
    /// Steps over which the weight blends from the frequency term alone to frequency x
    /// difficulty (0: difficulty from the start).
    public var warmupSteps = 0
    /// Steps over which the loss blends from plain cross-entropy (every weight 1) to the
    /// subclass weights, while the centroids settle (0: subclass weights from the start).
    public var crossEntropyWarmupSteps = 0
    /// How per-pixel losses are reduced.
    public var reduction: Reduction = .mean

    public init() {}

    public func subclassCount(of c: Int) -> Int { subclasses[c] ?? defaultSubclasses }

    public func validate() throws(LossError) {
        for (c, k) in subclasses where k < 1 { throw LossError("class \(c) needs at least 1 subclass, found \(k)") }
        guard defaultSubclasses >= 1 else { throw LossError("subclasses per class must be at least 1") }
        guard updateEvery >= 1 else { throw LossError("update-every must be at least 1 step") }
        guard (0 ..< 1).contains(momentum) else { throw LossError("momentum must be in [0, 1), found \(momentum)") }
        guard kmeansIterations >= 1, kmeansSampleLimit >= 1 else { throw LossError("k-means needs at least one iteration and one sample") }
        guard warmupSteps >= 0, crossEntropyWarmupSteps >= 0 else { throw LossError("warm-up steps cannot be negative") }
    }
}

/// Subclasses by distance to per-class centroids in a feature space, and the loss weights they
/// give (spec section 2). Stateful across training steps: centroids and the EMA statistics
/// live here; `step` advances once per `weights(...)` call.
///
/// Each labelled pixel joins its class's nearest centroid (Euclidean). Per subclass s of class
/// c: frequency `f_sc` (share of the class's pixels) and mean loss `l_sc`; the weight is
/// `w_sc = (1 / f_sc) * (l_sc / mean loss)^blend`, normalised so that the K_c weights of a class
/// sum to K_c (with `.present` normalisation, the default: the weights of the subclasses that own
/// pixels in this step sum to their number). With K_c = 1 everywhere every weight is 1: plain (or
/// class-weighted) cross-entropy.
public struct CentroidSubclassWeighting: Sendable {
    public let options: CentroidSubclassOptions
    public let classes: Int
    /// Centroids per class, `K_c` vectors of the feature dimension; empty until first seen.
    public private(set) var centroids: [[[Float]]]
    /// EMA of subclass frequency and mean loss per class and subclass.
    public private(set) var frequency: [[Float]]
    public private(set) var meanLoss: [[Float]]
    public private(set) var step = 0
    private var random: RandomGenerator

    public init(options: CentroidSubclassOptions, classes: Int, seed: UInt64) throws(LossError) {
        try options.validate()
        self.options = options
        self.classes = classes
        centroids = Array(repeating: [], count: classes)
        frequency = (0 ..< classes).map { Array(repeating: 0, count: options.subclassCount(of: $0)) }
        meanLoss = frequency
        random = RandomGenerator(seed: seed)
    }

    /// Everything that changes from step to step, for checkpoints: restoring it continues the
    /// weighting exactly where it was saved.
    public struct State: Sendable, Equatable {
        /// Per class, its centroids (empty until the class is first seen).
        public var centroids: [[[Float]]]
        public var frequency: [[Float]]
        public var meanLoss: [[Float]]
        public var step: Int
        /// The k-means sampling generator's state.
        public var random: [UInt64]

        public init(centroids: [[[Float]]], frequency: [[Float]], meanLoss: [[Float]], step: Int, random: [UInt64]) {
            self.centroids = centroids
            self.frequency = frequency
            self.meanLoss = meanLoss
            self.step = step
            self.random = random
        }
    }

    /// The current state.
    public var state: State {
        State(centroids: centroids, frequency: frequency, meanLoss: meanLoss, step: step, random: random.state)
    }

    /// How many of a class's K_c subclasses are in use: those whose moving-average share of the
    /// class's pixels is at least `minimumShare`. A subclass whose centroid no pixel is nearest any
    /// more decays below it within a few dozen steps (0.9^65 is 1e-3). One entry per class with
    /// K_c > 1 that has been seen, by learning id.
    public func subclassesInUse(minimumShare: Float = 1e-3) -> [(classID: Int, inUse: Int, of: Int)] {
        (0 ..< classes).compactMap { c in
            guard frequency[c].count > 1, !centroids[c].isEmpty else { return nil }
            return (c, frequency[c].filter { $0 >= minimumShare }.count, frequency[c].count)
        }
    }

    /// Continues from a saved state; it must fit this weighting's classes and subclass counts.
    public mutating func restore(_ saved: State) throws(LossError) {
        guard saved.centroids.count == classes, saved.frequency.count == classes, saved.meanLoss.count == classes,
              saved.random.count == 4 else {
            throw LossError("the saved centroid state is for \(saved.centroids.count) classes, the loss has \(classes)")
        }
        for c in 0 ..< classes {
            let k = options.subclassCount(of: c)
            guard saved.frequency[c].count == k, saved.meanLoss[c].count == k, saved.centroids[c].isEmpty || saved.centroids[c].count == k else {
                throw LossError("the saved centroid state has \(saved.frequency[c].count) subclasses for class \(c), the loss \(k)")
            }
        }
        centroids = saved.centroids
        frequency = saved.frequency
        meanLoss = saved.meanLoss
        step = saved.step
        random = RandomGenerator(state: saved.random)
    }

    /// The per-pixel weights [B, H, W] for this step.
    ///
    /// - Parameters:
    ///   - features: the feature map [B, F, H, W] to cluster (the logits, or an intermediate
    ///     feature resampled to the labels' size).
    ///   - pixelLoss: the unweighted loss of each pixel [B, H, W] (e.g. cross-entropy).
    public mutating func weights(features: [Float], channels f: Int, labels: [Int32], pixelLoss: [Float],
                                 batch: Int, pixelsPerImage hw: Int, ignoreIndex: Int32) throws(LossError) -> [Float] {
        guard features.count == batch * f * hw, labels.count == batch * hw, pixelLoss.count == batch * hw else {
            throw LossError("features [\(batch), \(f), \(hw) pixels], labels and losses disagree in size")
        }
        defer { step += 1 }
        var weights = [Float](repeating: 1, count: batch * hw)
        var pixelsOfClass = [[Int]](repeating: [], count: classes)
        for i in 0 ..< batch * hw where labels[i] != ignoreIndex && labels[i] >= 0 && Int(labels[i]) < classes {
            pixelsOfClass[Int(labels[i])].append(i)
        }
        let labelled = pixelsOfClass.reduce(0) { $0 + $1.count }
        guard labelled > 0 else { return weights }
        var overallLoss: Float = 0
        for list in pixelsOfClass { for i in list { overallLoss += pixelLoss[i] } }
        overallLoss /= Float(labelled)
        let blend: Float = options.warmupSteps == 0 ? 1 : min(1, Float(step) / Float(options.warmupSteps))
        let fromCrossEntropy: Float = options.crossEntropyWarmupSteps == 0 ? 1
            : min(1, Float(step) / Float(options.crossEntropyWarmupSteps))

        for c in 0 ..< classes {
            let k = options.subclassCount(of: c)
            let pixels = pixelsOfClass[c]
            guard k > 1, !pixels.isEmpty else { continue }
            let vector = { (i: Int) -> [Float] in
                let b = i / hw, p = i % hw
                return (0 ..< f).map { features[(b * f + $0) * hw + p] }
            }
            if centroids[c].isEmpty || (options.update == .recluster && step % options.updateEvery == 0) {
                centroids[c] = kmeans(pixels.map(vector), k: k, start: centroids[c])
            }
            // Assign, then the statistics of this step.
            var assignment = [Int](repeating: 0, count: pixels.count)
            var count = [Float](repeating: 0, count: k), lossSum = [Float](repeating: 0, count: k)
            var sums = [[Float]](repeating: [Float](repeating: 0, count: f), count: k)
            for (n, i) in pixels.enumerated() {
                let v = vector(i)
                let s = nearest(v, centroids[c])
                assignment[n] = s
                count[s] += 1
                lossSum[s] += pixelLoss[i]
                for d in 0 ..< f { sums[s][d] += v[d] }
            }
            let firstSeen = frequency[c].allSatisfy { $0 == 0 }
            let m = firstSeen ? 0 : options.momentum
            for s in 0 ..< k {
                let share = count[s] / Float(pixels.count)
                let mean = count[s] > 0 ? lossSum[s] / count[s] : meanLoss[c][s]
                frequency[c][s] = m * frequency[c][s] + (1 - m) * share
                meanLoss[c][s] = m * meanLoss[c][s] + (1 - m) * mean
                if options.update == .adaptive, count[s] > 0 {
                    for d in 0 ..< f {
                        centroids[c][s][d] = options.momentum * centroids[c][s][d] + (1 - options.momentum) * sums[s][d] / count[s]
                    }
                }
            }
            // w_sc = (1/f_sc) (l_sc / mean loss)^blend, normalised to sum K_c within the class.
            var w = (0 ..< k).map { s -> Float in
                let f = max(frequency[c][s], 1e-6)
                let difficulty = overallLoss > 0 ? max(meanLoss[c][s], 1e-12) / overallLoss : 1
                return (1 / f) * powf(difficulty, blend)
            }
            // Normalised to sum K_c (or, over the subclasses present, their number), then
            // blended from 1 (cross-entropy) during the warm-up.
            let counted = (0 ..< k).filter { options.normalisation == .all || count[$0] > 0 }
            let total = counted.reduce(0) { $0 + w[$1] }
            w = w.map { 1 + fromCrossEntropy * ($0 * Float(counted.count) / total - 1) }
            for (n, i) in pixels.enumerated() { weights[i] = w[assignment[n]] }
        }
        return weights
    }

    /// Lloyd's k-means on at most `kmeansSampleLimit` of `vectors`, from `start` when it has k
    /// centroids, else from k-means++ seeding.
    private mutating func kmeans(_ vectors: [[Float]], k: Int, start: [[Float]]) -> [[Float]] {
        var sample = vectors
        if sample.count > options.kmeansSampleLimit {
            for i in 0 ..< options.kmeansSampleLimit { sample.swapAt(i, i + random.int(0 ..< sample.count - i)) }
            sample = Array(sample.prefix(options.kmeansSampleLimit))
        }
        var centres = start.count == k ? start : seedCentroids(sample, k: k)
        for _ in 0 ..< options.kmeansIterations {
            var sums = [[Float]](repeating: [Float](repeating: 0, count: sample[0].count), count: k)
            var counts = [Int](repeating: 0, count: k)
            for v in sample {
                let s = nearest(v, centres)
                counts[s] += 1
                for d in v.indices { sums[s][d] += v[d] }
            }
            for s in 0 ..< k where counts[s] > 0 { centres[s] = sums[s].map { $0 / Float(counts[s]) } }
        }
        return centres
    }

    /// k-means++: the first centre at random, each next one with probability proportional to
    /// the squared distance to the nearest centre so far.
    private mutating func seedCentroids(_ sample: [[Float]], k: Int) -> [[Float]] {
        var centres = [sample[random.int(0 ..< sample.count)]]
        while centres.count < k {
            let d2 = sample.map { v in centres.map { squaredDistance(v, $0) }.min()! }
            let total = d2.reduce(0, +)
            guard total > 0 else { centres.append(centres[0]); continue }
            var target = Float(random.uniform()) * total
            var pick = sample.count - 1
            for (i, d) in d2.enumerated() { target -= d; if target <= 0 { pick = i; break } }
            centres.append(sample[pick])
        }
        return centres
    }
}

@inline(__always)
func squaredDistance(_ a: [Float], _ b: [Float]) -> Float {
    var sum: Float = 0
    for i in a.indices { let d = a[i] - b[i]; sum += d * d }
    return sum
}

func nearest(_ v: [Float], _ centres: [[Float]]) -> Int {
    var best = 0, bestDistance = Float.infinity
    for (s, centre) in centres.enumerated() {
        let d = squaredDistance(v, centre)
        if d < bestDistance { best = s; bestDistance = d }
    }
    return best
}

/// Cross-entropy weighted by centroid subclasses (spec section 2), one step of a stateful
/// weighting: `weighting` keeps the centroids and statistics between steps.
///
/// - Parameters:
///   - logits: `[B, C, H, W]`.
///   - labels: `[B, H, W]` learning ids.
///   - features: the feature map to cluster, `[B, F, H, W]` at the labels' size; the logits
///     when nil.
/// - Returns: the loss, a tensor of shape `[]`.
public func centroidSubclassLoss(logits: Tensor, labels: [Int32], weighting: inout CentroidSubclassWeighting,
                                 features: Tensor? = nil, classWeights: [Float]? = nil,
                                 ignoreIndex: Int32 = 0) throws(LossError) -> Tensor {
    let featureValues = features.map { (values: $0.scalars, channels: $0.shape[1]) }
    var state = weighting
    defer { weighting = state }
    return try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) in
        try centroidSubclassLoss(batch, weighting: &state, features: featureValues, classWeights: classWeights,
                                 ignoreIndex: ignoreIndex, gradient: gradient, scale: 1).value
    }
}

/// The kernel of `centroidSubclassLoss`: the loss and the weights it used; writes
/// `scale · ∂loss/∂logits` to `gradient`.
func centroidSubclassLoss(_ batch: SegmentationBatch, weighting: inout CentroidSubclassWeighting,
                          features: (values: [Float], channels: Int)?, classWeights: [Float]?, ignoreIndex: Int32,
                          gradient: UnsafeMutableBufferPointer<Float>, scale: Float) throws(LossError) -> (value: Float, weights: [Float]) {
    try batch.validateLabels(ignoreIndex: ignoreIndex)
    guard weighting.classes == batch.classes else {
        throw LossError("the weighting was made for \(weighting.classes) classes, the logits have \(batch.classes)")
    }
    if let features, features.values.count != batch.batch * features.channels * batch.pixelsPerImage {
        throw LossError("features of \(features.values.count) values do not fill [\(batch.batch), \(features.channels), \(batch.height), \(batch.width)]")
    }
    let perPixel = pixelCrossEntropy(batch, ignoreIndex: ignoreIndex)
    let weights = try weighting.weights(features: features?.values ?? Array(batch.logits), channels: features?.channels ?? batch.classes,
                                        labels: batch.labels, pixelLoss: perPixel, batch: batch.batch,
                                        pixelsPerImage: batch.pixelsPerImage, ignoreIndex: ignoreIndex)
    let value = try crossEntropy(batch, classWeights: classWeights, pixelWeights: weights, ignoreIndex: ignoreIndex,
                                 reduction: weighting.options.reduction, gradient: gradient, scale: scale)
    return (value, weights)
}
