import Engine

/// A configured objective: a weighted sum of loss terms (`LossConfig`), evaluated as one
/// autograd node on a batch's logits. Holds the centroid weighting's state between steps.
///
/// ```swift
/// var loss = try CombinedLoss(LossConfig(terms: LossSpec(parsing: "subclassified:0.2+ce:0.8")), classes: 20)
/// let value = try loss(logits: model(input), labels: targets).loss
/// value.backward()
/// ```
public struct CombinedLoss: Sendable {
    public let config: LossConfig
    public let classWeights: [Float]?
    /// The centroid terms' state (centroids, EMA statistics, step); nil without a centroid term.
    public private(set) var centroidWeighting: CentroidSubclassWeighting?

    /// What one evaluation gives.
    public struct Evaluation {
        /// The weighted sum, shape `[]`; `backward()` sends the gradient into the logits.
        public var loss: Tensor
        /// The per-pixel weights `[B, H, W]` of the last subclass term, if there is one.
        public var pixelWeights: [Float]?
    }

    /// - Parameters:
    ///   - classes: the number of learning classes (the logits' channels).
    ///   - classWeights: one per class; needed by `wce` (e.g. `inverseFrequencyWeights`).
    ///   - classNames: the learning classes' names, so that `subclasses` may name classes.
    ///   - seed: seeds the centroid terms' k-means.
    public init(_ config: LossConfig, classes: Int, classWeights: [Float]? = nil, classNames: [String]? = nil,
                seed: UInt64 = 0) throws(LossError) {
        if let problem = config.problems.first { throw LossError(problem) }
        if config.terms.contains(.wce), classWeights == nil {
            throw LossError("wce needs class weights (from the label config's content or counted from the training set)")
        }
        if let classWeights, classWeights.count != classes {
            throw LossError("\(classWeights.count) class weights for \(classes) classes")
        }
        self.config = config
        self.classWeights = classWeights
        if config.terms.contains(.centroid) {
            var options = config.centroid
            options.subclasses = try config.subclassesByID(classNames: classNames)
            centroidWeighting = try CentroidSubclassWeighting(options: options, classes: classes, seed: seed)
        }
    }

    /// The centroid terms' state, for checkpoints (nil without a centroid term).
    public var centroidState: CentroidSubclassWeighting.State? { centroidWeighting?.state }

    /// Continues the centroid terms from a checkpoint's state.
    public mutating func restoreCentroids(_ state: CentroidSubclassWeighting.State) throws(LossError) {
        guard centroidWeighting != nil else { throw LossError("the checkpoint holds centroid state but the loss has no centroid term") }
        try centroidWeighting!.restore(state)
    }

    /// The weighted sum of the terms on `logits` `[B, C, H, W]` and `labels` `[B, H, W]`.
    /// - Parameter features: what the centroid terms cluster, `[B, F, H, W]` (default: the logits).
    public mutating func callAsFunction(logits: Tensor, labels: [Int32], features: Tensor? = nil) throws(LossError) -> Evaluation {
        let terms = config.terms.terms.filter { $0.weight > 0 }
        let featureValues = features.map { (values: $0.scalars, channels: $0.shape[1]) }
        var pixelWeights: [Float]?
        var weighting = centroidWeighting
        defer { centroidWeighting = weighting }
        let loss = try fusedSegmentationLoss(logits: logits, labels: labels) { (batch, gradient) throws(LossError) -> Float in
            // The first term writes into the engine's buffer; the others into a scratch buffer
            // that is then added.
            var scratch: [Float] = terms.count > 1 ? [Float](repeating: 0, count: gradient.count) : []
            var total: Float = 0
            for (n, term) in terms.enumerated() {
                let value: Float
                if n == 0 {
                    value = try evaluate(term, batch, features: featureValues, weighting: &weighting, gradient: gradient,
                                         pixelWeights: &pixelWeights)
                } else {
                    for i in scratch.indices { scratch[i] = 0 }
                    value = try scratch.withUnsafeMutableBufferPointer { (buffer) throws(LossError) -> Float in
                        try evaluate(term, batch, features: featureValues, weighting: &weighting, gradient: buffer,
                                     pixelWeights: &pixelWeights)
                    }
                    for i in scratch.indices { gradient[i] += scratch[i] }
                }
                total += term.weight * value
            }
            return total
        }
        return Evaluation(loss: loss, pixelWeights: pixelWeights)
    }

    /// One term's value; writes `weight · ∂term/∂logits` into `gradient`.
    private func evaluate(_ term: LossTerm, _ batch: SegmentationBatch, features: (values: [Float], channels: Int)?,
                          weighting: inout CentroidSubclassWeighting?, gradient: UnsafeMutableBufferPointer<Float>,
                          pixelWeights: inout [Float]?) throws(LossError) -> Float {
        let c = config, w = term.weight
        switch term.kind {
        case .ce:
            return try crossEntropy(batch, classWeights: nil, pixelWeights: nil, ignoreIndex: c.ignoreIndex,
                                    reduction: c.reduction, gradient: gradient, scale: w)
        case .wce:
            return try crossEntropy(batch, classWeights: classWeights, pixelWeights: nil, ignoreIndex: c.ignoreIndex,
                                    reduction: c.reduction, gradient: gradient, scale: w)
        case .focal:
            return try focalLoss(batch, gamma: c.focalGamma, classWeights: nil, ignoreIndex: c.ignoreIndex,
                                 reduction: c.reduction, gradient: gradient, scale: w)
        case .dice:
            return try diceLoss(batch, smooth: c.diceSmooth, ignoreIndex: c.ignoreIndex, gradient: gradient, scale: w)
        case .lovasz:
            return try lovaszSoftmax(batch, ignoreIndex: c.ignoreIndex, gradient: gradient, scale: w)
        case .subclassified:
            let result = try subclassifiedLoss(batch, options: c.subclassified, classWeights: nil, ignoreIndex: c.ignoreIndex,
                                               gradient: gradient, scale: w)
            pixelWeights = result.weights
            return result.value
        case .centroid:
            let result = try centroidSubclassLoss(batch, weighting: &weighting!, features: features, classWeights: nil,
                                                  ignoreIndex: c.ignoreIndex, gradient: gradient, scale: w)
            pixelWeights = result.weights
            return result.value
        }
    }
}
