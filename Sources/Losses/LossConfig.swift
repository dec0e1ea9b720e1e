/// A loss as a training file or the command line writes it: the terms and the parameters of
/// each kind, under the keys of `data/train.yaml`'s `loss:` block. Missing keys take the defaults.
public struct LossConfig: Sendable, Equatable, Codable {
    /// `subclassified`, or a weighted sum such as `subclassified:0.2,ce:0.5,dice:0.3`.
    public var terms = "subclassified"
    public var tau: Float = 0.98
    public var kappa: Float = 10
    public var power: Float = 0.5
    public var maxWeight: Float = 10
    public var referenceFactor = "8x8"
    public var queryFactor = "4x4"
    public var batchAveragedWeights = false
    public var focalGamma: Float = 2
    public var diceSmooth: Float = 1
    /// Centroid subclasses per learning class, e.g. {1: 5, 6: 4, 9: 2}.
    public var subclasses: [Int: Int] = [:]
    public var defaultSubclasses = 1
    public var centroidUpdate = CentroidSubclassOptions.Update.adaptive
    public var updateEvery = 100
    public var centroidWarmupSteps = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case terms, tau, kappa, power, maxWeight = "max_weight", referenceFactor = "reference_factor",
             queryFactor = "query_factor", batchAveragedWeights = "batch_averaged_weights",
             focalGamma = "focal_gamma", diceSmooth = "dice_smooth", subclasses,
             defaultSubclasses = "default_subclasses", centroidUpdate = "centroid_update",
             updateEvery = "update_every", centroidWarmupSteps = "centroid_warmup_steps"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LossConfig()
        terms = try c.decodeIfPresent(String.self, forKey: .terms) ?? d.terms
        tau = try c.decodeIfPresent(Float.self, forKey: .tau) ?? d.tau
        kappa = try c.decodeIfPresent(Float.self, forKey: .kappa) ?? d.kappa
        power = try c.decodeIfPresent(Float.self, forKey: .power) ?? d.power
        maxWeight = try c.decodeIfPresent(Float.self, forKey: .maxWeight) ?? d.maxWeight
        referenceFactor = try c.decodeIfPresent(String.self, forKey: .referenceFactor) ?? d.referenceFactor
        queryFactor = try c.decodeIfPresent(String.self, forKey: .queryFactor) ?? d.queryFactor
        batchAveragedWeights = try c.decodeIfPresent(Bool.self, forKey: .batchAveragedWeights) ?? d.batchAveragedWeights
        focalGamma = try c.decodeIfPresent(Float.self, forKey: .focalGamma) ?? d.focalGamma
        diceSmooth = try c.decodeIfPresent(Float.self, forKey: .diceSmooth) ?? d.diceSmooth
        subclasses = try c.decodeIfPresent([Int: Int].self, forKey: .subclasses) ?? d.subclasses
        defaultSubclasses = try c.decodeIfPresent(Int.self, forKey: .defaultSubclasses) ?? d.defaultSubclasses
        centroidUpdate = try c.decodeIfPresent(CentroidSubclassOptions.Update.self, forKey: .centroidUpdate) ?? d.centroidUpdate
        updateEvery = try c.decodeIfPresent(Int.self, forKey: .updateEvery) ?? d.updateEvery
        centroidWarmupSteps = try c.decodeIfPresent(Int.self, forKey: .centroidWarmupSteps) ?? d.centroidWarmupSteps
    }

    /// The parsed terms and the settings of the losses.
    public func settings(classWeights: [Float]?, ignoreIndex: Int32 = 0, reduction: Reduction = .validMean,
                         subclassReduction: Reduction = .mean) throws(LossError) -> (LossSpec, LossSettings) {
        let spec = try LossSpec(parsing: terms)
        var s = LossSettings()
        s.ignoreIndex = ignoreIndex
        s.reduction = reduction
        s.subclassified.reduction = subclassReduction
        s.classWeights = classWeights
        s.focalGamma = focalGamma
        s.diceSmooth = diceSmooth
        s.subclassified.threshold = tau
        s.subclassified.kappa = kappa
        s.subclassified.power = power
        s.subclassified.maxWeight = maxWeight
        s.subclassified.referenceFactor = try Self.grid(referenceFactor, "reference factor")
        s.subclassified.queryFactor = try Self.grid(queryFactor, "query factor")
        s.subclassified.batchAveragedWeights = batchAveragedWeights
        s.centroid.subclasses = subclasses
        s.centroid.defaultSubclasses = defaultSubclasses
        s.centroid.update = centroidUpdate
        s.centroid.updateEvery = updateEvery
        s.centroid.warmupSteps = centroidWarmupSteps
        return (spec, s)
    }

    static func grid(_ text: String, _ key: String) throws(LossError) -> GridFactor {
        guard let grid = GridFactor(parsing: text) else {
            throw LossError("\(key): '\(text)' is not ROWSxCOLUMNS (e.g. 8x8) or one number")
        }
        return grid
    }

    /// The configured objective, ready to evaluate batches.
    public func makeLoss(classes: Int, classWeights: [Float]?, ignoreIndex: Int32 = 0, reduction: Reduction = .validMean,
                         subclassReduction: Reduction = .mean, seed: UInt64 = 0) throws(LossError) -> CombinedLoss {
        let (spec, settings) = try self.settings(classWeights: classWeights, ignoreIndex: ignoreIndex, reduction: reduction,
                                            subclassReduction: subclassReduction)
        return try CombinedLoss(spec, settings: settings, classes: classes, seed: seed)
    }
}
