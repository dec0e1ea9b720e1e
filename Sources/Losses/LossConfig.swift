import Formats

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
public struct LossTerm: Sendable, Equatable {
    public var kind: LossKind
    public var weight: Float

    public init(_ kind: LossKind, weight: Float = 1) {
        self.kind = kind
        self.weight = weight
    }
}

/// A weighted sum of losses, written `subclassified:0.2+ce:0.5+dice:0.3` (a term without a
/// weight counts once: `wce` or `lovasz+wce`). The first releases' `,` between the terms is
/// still read; what is written uses `+`, the one syntax of `train`, `compare` and the files.
public struct LossSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    public var terms: [LossTerm]

    public init(terms: [LossTerm]) { self.terms = terms }

    /// One loss with weight 1.
    public init(_ kind: LossKind) { self.init(terms: [LossTerm(kind)]) }

    public init(parsing text: String) throws(LossError) {
        var terms: [LossTerm] = []
        for part in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "+" || $0 == "," }) {
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
        terms.map { $0.weight == 1 ? $0.kind.rawValue : "\($0.kind.rawValue):\($0.weight)" }.joined(separator: "+")
    }

    public func contains(_ kind: LossKind) -> Bool { terms.contains { $0.kind == kind && $0.weight > 0 } }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The loss of a run: its terms and every term's parameters, the `loss:` block of a training
/// file (`data/train.yaml`) and the loss flags of `rangeseg train`, `compare` and `loss`, which
/// override the same fields. Each default is written once, in the property initialisers here
/// and in `SubclassifiedOptions` and `CentroidSubclassOptions`.
///
/// The YAML keys are flat (`tau`, `kappa`, `subclasses`, ...); a key this type does not know is
/// an error that names the nearest valid one.
public struct LossConfig: Sendable, Equatable, Codable {
    /// One loss or a weighted sum.
    public var terms = LossSpec(.subclassified)
    /// Reduction of `ce`, `wce` and `focal`.
    public var reduction: Reduction = .validMean
    /// The learning id that carries no loss (not a file key: the label config's unlabelled class).
    public var ignoreIndex: Int32 = 0
    public var focalGamma: Float = 2
    public var diceSmooth: Float = 1
    /// The similarity-count subclassified loss (`subclassified`).
    public var subclassified = SubclassifiedOptions()
    /// Centroid subclasses (`centroid`); its per-class counts come from `subclassCounts`.
    public var centroid = CentroidSubclassOptions()
    /// Subclasses K_c of the centroid loss per class, keyed by learning id (`"1"`) or class name
    /// (`"car"`): `subclasses: {car: 5, person: 4, 9: 2}`. Classes not listed get
    /// `centroid.defaultSubclasses`.
    public var subclassCounts: [String: Int] = [:]
    /// What the centroid terms cluster: `logits`, `decoder` (the network's last decoder stage,
    /// at full resolution) or a module of the network by name (`stem`, `enc.2`, `dec.3`);
    /// features at another size are resampled bilinearly to the labels' size.
    public var subclassFeatures = "decoder"

    public init() {}

    /// A config with these terms and every parameter at its default.
    public init(terms: LossSpec) { self.terms = terms }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case terms, reduction, focalGamma = "focal_gamma", diceSmooth = "dice_smooth"
        case tau, kappa, power, maxWeight = "max_weight", referenceFactor = "reference_factor", queryFactor = "query_factor"
        case batchAveragedWeights = "batch_averaged_weights", subclassReduction = "subclass_reduction"
        case subclasses, defaultSubclasses = "default_subclasses", centroidUpdate = "centroid_update",
             updateEvery = "update_every", centroidMomentum = "centroid_momentum", centroidWarmupSteps = "centroid_warmup_steps",
             centroidCrossEntropyWarmupSteps = "centroid_ce_warmup_steps", subclassFeatures = "subclass_features",
             centroidNormalisation = "centroid_normalisation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = LossConfig()
        terms = try c.value(.terms, or: d.terms)
        reduction = try c.value(.reduction, or: d.reduction)
        focalGamma = try c.value(.focalGamma, or: d.focalGamma)
        diceSmooth = try c.value(.diceSmooth, or: d.diceSmooth)
        subclassified.threshold = try c.value(.tau, or: d.subclassified.threshold)
        subclassified.kappa = try c.value(.kappa, or: d.subclassified.kappa)
        subclassified.power = try c.value(.power, or: d.subclassified.power)
        subclassified.maxWeight = try c.value(.maxWeight, or: d.subclassified.maxWeight)
        subclassified.referenceFactor = try c.value(.referenceFactor, or: d.subclassified.referenceFactor)
        subclassified.queryFactor = try c.value(.queryFactor, or: d.subclassified.queryFactor)
        subclassified.batchAveragedWeights = try c.value(.batchAveragedWeights, or: d.subclassified.batchAveragedWeights)
        subclassified.reduction = try c.value(.subclassReduction, or: d.subclassified.reduction)
        centroid.reduction = subclassified.reduction
        subclassCounts = try c.value(.subclasses, or: d.subclassCounts)
        subclassFeatures = try c.value(.subclassFeatures, or: d.subclassFeatures)
        centroid.crossEntropyWarmupSteps = try c.value(.centroidCrossEntropyWarmupSteps, or: d.centroid.crossEntropyWarmupSteps)
        centroid.defaultSubclasses = try c.value(.defaultSubclasses, or: d.centroid.defaultSubclasses)
        centroid.update = try c.value(.centroidUpdate, or: d.centroid.update)
        centroid.updateEvery = try c.value(.updateEvery, or: d.centroid.updateEvery)
        centroid.momentum = try c.value(.centroidMomentum, or: d.centroid.momentum)
        centroid.warmupSteps = try c.value(.centroidWarmupSteps, or: d.centroid.warmupSteps)
        centroid.normalisation = try c.value(.centroidNormalisation, or: d.centroid.normalisation)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(terms, forKey: .terms)
        try c.encode(reduction, forKey: .reduction)
        try c.encode(focalGamma, forKey: .focalGamma)
        try c.encode(diceSmooth, forKey: .diceSmooth)
        try c.encode(subclassified.threshold, forKey: .tau)
        try c.encode(subclassified.kappa, forKey: .kappa)
        try c.encode(subclassified.power, forKey: .power)
        try c.encode(subclassified.maxWeight, forKey: .maxWeight)
        try c.encode(subclassified.referenceFactor, forKey: .referenceFactor)
        try c.encode(subclassified.queryFactor, forKey: .queryFactor)
        try c.encode(subclassified.batchAveragedWeights, forKey: .batchAveragedWeights)
        try c.encode(subclassified.reduction, forKey: .subclassReduction)
        try c.encode(subclassCounts, forKey: .subclasses)
        try c.encode(subclassFeatures, forKey: .subclassFeatures)
        try c.encode(centroid.crossEntropyWarmupSteps, forKey: .centroidCrossEntropyWarmupSteps)
        try c.encode(centroid.defaultSubclasses, forKey: .defaultSubclasses)
        try c.encode(centroid.update, forKey: .centroidUpdate)
        try c.encode(centroid.updateEvery, forKey: .updateEvery)
        try c.encode(centroid.momentum, forKey: .centroidMomentum)
        try c.encode(centroid.warmupSteps, forKey: .centroidWarmupSteps)
        try c.encode(centroid.normalisation, forKey: .centroidNormalisation)
    }

    /// Everything wrong with the parameters, one message each (image-size checks come later,
    /// when the loss meets its first batch).
    public var problems: [String] {
        var out: [String] = []
        if !(focalGamma >= 0 && focalGamma.isFinite) { out.append("focal_gamma must be 0 or more, found \(focalGamma)") }
        if !(diceSmooth >= 0) { out.append("dice_smooth must be 0 or more, found \(diceSmooth)") }
        do { try subclassified.validate() } catch { out.append(error.description) }
        do { try centroid.validate() } catch { out.append(error.description) }
        for (key, k) in subclassCounts.sorted(by: { $0.key < $1.key }) where k < 1 {
            out.append("subclasses.\(key): needs at least 1 subclass, found \(k)")
        }
        return out
    }

    /// `subclassCounts` by learning id: keys are ids or the names in `classNames` (learning
    /// class names, e.g. from a label config; nil accepts ids only).
    public func subclassesByID(classNames: [String]?) throws(LossError) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for (key, k) in subclassCounts {
            if let id = Int(key) {
                counts[id] = k
            } else if let id = classNames?.firstIndex(of: key) {
                counts[id] = k
            } else {
                let known = classNames.map { "; classes: \($0.joined(separator: ", "))" } ?? "; give learning ids"
                throw LossError("subclasses: '\(key)' is not a learning id or class name\(known)")
            }
        }
        return counts
    }
}
