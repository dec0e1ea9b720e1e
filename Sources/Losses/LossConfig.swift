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
public struct LossSpec: Sendable, Equatable, Codable, CustomStringConvertible, SettingValue {
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

    public init?(flagText: String) { try? self.init(parsing: flagText) }
    public var flagText: String { description }
    public static var valueName: String { "loss" }
    public static func problem(ofFlagText text: String) -> String? {
        do { _ = try LossSpec(parsing: text); return nil } catch { return error.description }
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
/// and in `SubclassifiedOptions` and `CentroidSubclassOptions`; each key once, in `settings`.
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

    /// Every key of the `loss:` block, once: its YAML key (the flag is the key with dashes, e.g.
    /// `--focal-gamma`), where it is stored, and what it means. Decoding, encoding, the flags of
    /// `train`, `compare` and `loss`, and their help come from this table.
    public static let settings: [Setting<LossConfig>] = [
        Setting("terms", \.terms, flag: "loss", "The loss: a name (\(LossKind.allCases.map(\.rawValue).joined(separator: ", "))) or a weighted sum such as subclassified:0.2+ce:0.5+dice:0.3"),
        Setting("reduction", \.reduction, "Reduction of ce, wce and focal: mean (over all pixels), valid-mean (over labelled pixels) or sum"),
        Setting("tau", \.subclassified.threshold, "Subclassified: similarity threshold tau"),
        Setting("kappa", \.subclassified.kappa, "Subclassified: kappa in 1/(n + kappa)^p"),
        Setting("power", \.subclassified.power, "Subclassified: the power p in 1/(n + kappa)^p"),
        Setting("max_weight", \.subclassified.maxWeight, "Subclassified: weights are clamped at this value after normalisation, w_max"),
        Setting("reference_factor", \.subclassified.referenceFactor, "Subclassified: reference grid factor, ROWSxCOLUMNS"),
        Setting("query_factor", \.subclassified.queryFactor, "Subclassified: query grid factor, ROWSxCOLUMNS"),
        Setting("batch_averaged_weights", \.subclassified.batchAveragedWeights,
                "Subclassified: weight every image by the batch-mean weight map, as the authors' released code does"),
        Setting("subclass_reduction", get: { $0.subclassified.reduction },
                set: { $0.subclassified.reduction = $1; $0.centroid.reduction = $1 },
                "Reduction of the subclassified and centroid losses (the paper: mean over all pixels)"),
        Setting("focal_gamma", \.focalGamma, "Focal: gamma"),
        Setting("dice_smooth", \.diceSmooth, "Dice: smoothing added to numerator and denominator"),
        Setting("subclasses", \.subclassCounts, "Centroid: subclasses K per class, by learning id or class name, e.g. car:5,person:4,9:2"),
        Setting("default_subclasses", \.centroid.defaultSubclasses, "Centroid: subclasses of the classes not listed in subclasses"),
        Setting("subclass_features", \.subclassFeatures,
                "Centroid: what to cluster: logits, decoder (the last decoder stage) or a network feature such as enc.2"),
        Setting("centroid_update", \.centroid.update, "Centroid: recluster (k-means every update_every steps) or adaptive (moving averages)"),
        Setting("update_every", \.centroid.updateEvery, "Centroid: steps between re-clusterings"),
        Setting("centroid_momentum", \.centroid.momentum, "Centroid: momentum of the moving averages of centroids and subclass statistics"),
        Setting("centroid_warmup_steps", \.centroid.warmupSteps, "Centroid: steps over which the weight blends from frequency alone to frequency x difficulty"),
        Setting("centroid_ce_warmup_steps", \.centroid.crossEntropyWarmupSteps,
                "Centroid: steps over which the loss blends from plain cross-entropy to the subclass weights"),
        Setting("centroid_normalisation", \.centroid.normalisation,
                "Centroid: normalise a class's weights over the subclasses present in the step (present) or over all K (all)"),
    ]

    public init(from decoder: any Decoder) throws {
        self.init()
        try Self.settings.decode(into: &self, from: decoder)
    }

    public func encode(to encoder: any Encoder) throws { try Self.settings.encode(self, to: encoder) }

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

extension Reduction: SettingValue {}
extension CentroidSubclassOptions.Update: SettingValue {}
extension CentroidSubclassOptions.Normalisation: SettingValue {}

extension GridFactor: SettingValue {
    public init?(flagText: String) { self.init(parsing: flagText) }
    public var flagText: String { description }
    public static var valueName: String { "ROWSxCOLUMNS" }
}
