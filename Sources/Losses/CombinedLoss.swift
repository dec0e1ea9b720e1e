/// The losses a run can combine.
public enum LossKind: String, Sendable, Codable, CaseIterable {
    /// Cross-entropy.
    case ce
    /// Class-weighted cross-entropy (RangeNet++'s inverse-frequency weights).
    case wce
    /// Focal loss.
    case focal
    /// Soft Dice.
    case dice
    /// Lovász-softmax.
    case lovasz
    /// Subclassified loss, similarity-count weighting (the paper's method).
    case subclassified
    /// Subclassified loss, centroid subclasses.
    case centroid
}

/// One weighted term of a combined objective.
public struct LossTerm: Sendable, Equatable, Codable {
    public var kind: LossKind
    public var weight: Float

    public init(_ kind: LossKind, weight: Float = 1) {
        self.kind = kind
        self.weight = weight
    }
}

/// A weighted sum of losses, written `subclassified:0.2,ce:0.5,dice:0.3` (a term without a
/// weight counts once: `wce` or `lovasz,wce`).
public struct LossSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    public var terms: [LossTerm]

    public init(terms: [LossTerm]) { self.terms = terms }

    public init(parsing text: String) throws(LossError) {
        var terms: [LossTerm] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1 ... 2).contains(pieces.count), let kind = LossKind(rawValue: pieces[0].lowercased()) else {
                throw LossError("'\(part)' is not a loss; write NAME or NAME:WEIGHT with NAME one of \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var weight: Float = 1
            if pieces.count == 2 {
                guard let w = Float(pieces[1]), w.isFinite, w >= 0 else {
                    throw LossError("the weight of \(kind.rawValue) must be a number 0 or more, found '\(pieces[1])'")
                }
                weight = w
            }
            guard !terms.contains(where: { $0.kind == kind }) else { throw LossError("\(kind.rawValue) appears twice") }
            terms.append(LossTerm(kind, weight: weight))
        }
        guard terms.contains(where: { $0.weight > 0 }) else { throw LossError("the loss needs at least one term with a positive weight") }
        self.terms = terms
    }

    public var description: String {
        terms.map { $0.weight == 1 ? $0.kind.rawValue : "\($0.kind.rawValue):\($0.weight)" }.joined(separator: ",")
    }
}

/// Settings shared by the terms of a combined loss.
public struct LossSettings: Sendable, Equatable, Codable {
    public var ignoreIndex: Int32 = 0
    /// Reduction of cross-entropy, weighted cross-entropy and focal loss.
    public var reduction: Reduction = .validMean
    /// Class weights for `wce` (and for `focal`, `subclassified`, `centroid` when
    /// `weightAllTerms` is set); nil for `wce` is an error.
    public var classWeights: [Float]?
    public var weightAllTerms = false
    public var focalGamma: Float = 2
    public var diceSmooth: Float = 1
    public var subclassified = SubclassifiedOptions()
    public var centroid = CentroidSubclassOptions()

    public init() {}
}

/// A configured objective: `callAsFunction` evaluates every term on a batch and sums values and
/// gradients. Holds the centroid weighting's state between steps.
public struct CombinedLoss: Sendable {
    public let spec: LossSpec
    public let settings: LossSettings
    private var centroidWeighting: CentroidSubclassWeighting?

    public init(_ spec: LossSpec, settings: LossSettings, classes: Int, seed: UInt64 = 0) throws(LossError) {
        if spec.terms.contains(where: { $0.kind == .wce }), settings.classWeights == nil {
            throw LossError("wce needs class weights (from the label config's content or counted from the training set)")
        }
        if let weights = settings.classWeights, weights.count != classes {
            throw LossError("\(weights.count) class weights for \(classes) classes")
        }
        self.spec = spec
        self.settings = settings
        if spec.terms.contains(where: { $0.kind == .centroid }) {
            centroidWeighting = try CentroidSubclassWeighting(options: settings.centroid, classes: classes, seed: seed)
        }
    }

    /// The weighted sum of the terms; `pixelWeights` are those of a subclassified term, if any.
    public mutating func callAsFunction(_ batch: SegmentationBatch) throws(LossError) -> LossValue {
        var total = LossValue(value: 0, gradient: [Float](repeating: 0, count: batch.logits.count))
        let optionalWeights = settings.weightAllTerms ? settings.classWeights : nil
        for term in spec.terms where term.weight > 0 {
            let value: LossValue
            switch term.kind {
            case .ce:
                value = try crossEntropy(batch, ignoreIndex: settings.ignoreIndex, reduction: settings.reduction)
            case .wce:
                value = try crossEntropy(batch, classWeights: settings.classWeights, ignoreIndex: settings.ignoreIndex, reduction: settings.reduction)
            case .focal:
                value = try focalLoss(batch, gamma: settings.focalGamma, classWeights: optionalWeights,
                                      ignoreIndex: settings.ignoreIndex, reduction: settings.reduction)
            case .dice:
                value = try diceLoss(batch, smooth: settings.diceSmooth, ignoreIndex: settings.ignoreIndex)
            case .lovasz:
                value = try lovaszSoftmax(batch, ignoreIndex: settings.ignoreIndex)
            case .subclassified:
                value = try subclassifiedLoss(batch, options: settings.subclassified, classWeights: optionalWeights,
                                              ignoreIndex: settings.ignoreIndex)
            case .centroid:
                value = try centroidSubclassLoss(batch, weighting: &centroidWeighting!, classWeights: optionalWeights,
                                                 ignoreIndex: settings.ignoreIndex)
            }
            total.value += term.weight * value.value
            for i in total.gradient.indices { total.gradient[i] += term.weight * value.gradient[i] }
            if let weights = value.pixelWeights { total.pixelWeights = weights }
        }
        return total
    }
}
