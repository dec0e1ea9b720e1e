import ArgumentParser
import Losses

/// The loss-parameter flags of `train`, `compare` and `loss`. Each overrides one field of
/// `LossConfig` (the `loss:` block of a training file); the defaults shown come from there.
struct LossParameterOptions: ParsableArguments {
    private static let defaults = LossConfig()

    @Option(help: "Subclassified: similarity threshold tau (default \(defaults.subclassified.threshold)).")
    var tau: Float?

    @Option(help: "Subclassified: kappa in 1/(n + kappa)^p (default \(defaults.subclassified.kappa)).")
    var kappa: Float?

    @Option(help: "Subclassified: the power p in 1/(n + kappa)^p (default \(defaults.subclassified.power)).")
    var power: Float?

    @Option(help: "Subclassified: weights are clamped at this value after normalisation, w_max (default \(defaults.subclassified.maxWeight)).")
    var maxWeight: Float?

    @Option(help: ArgumentHelp("Subclassified: reference grid factor (default \(defaults.subclassified.referenceFactor)).", valueName: "ROWSxCOLUMNS"))
    var referenceFactor: GridFactor?

    @Option(help: ArgumentHelp("Subclassified: query grid factor (default \(defaults.subclassified.queryFactor)).", valueName: "ROWSxCOLUMNS"))
    var queryFactor: GridFactor?

    @Flag(inversion: .prefixedNo,
          help: "Subclassified: weight every image by the batch-mean weight map, as the authors' released code does (default off).")
    var batchAveragedWeights: Bool?

    @Option(help: "Reduction of ce, wce and focal: mean (over all pixels), valid-mean (over labelled pixels) or sum (default \(defaults.reduction.rawValue)).")
    var reduction: Reduction?

    @Option(help: "Reduction of the subclass losses (default \(defaults.subclassified.reduction.rawValue), the paper's).")
    var subclassReduction: Reduction?

    @Option(help: "Focal: gamma (default \(defaults.focalGamma)).")
    var gamma: Float?

    @Option(help: "Dice: smoothing added to numerator and denominator (default \(defaults.diceSmooth)).")
    var diceSmooth: Float?

    @Option(help: ArgumentHelp("Centroid: subclasses per class, by learning id or class name, e.g. car:5,person:4,9:2.", valueName: "CLASS:K,..."))
    var subclasses: String?

    @Option(help: ArgumentHelp("Centroid: what to cluster: logits, decoder (the last decoder stage) or a network feature such as enc.2 (default \(defaults.subclassFeatures)).", valueName: "feature"))
    var subclassFeatures: String?

    @Option(help: "Centroid: subclasses of classes not listed in --subclasses (default \(defaults.centroid.defaultSubclasses)).")
    var defaultSubclasses: Int?

    @Option(help: "Centroid: recluster (k-means every --update-every steps) or adaptive (moving averages; default \(defaults.centroid.update.rawValue)).")
    var centroidUpdate: CentroidSubclassOptions.Update?

    @Option(help: "Centroid: steps between re-clusterings (default \(defaults.centroid.updateEvery)).")
    var updateEvery: Int?

    @Option(help: "Centroid: steps over which the weight blends from frequency alone to frequency x difficulty (default \(defaults.centroid.warmupSteps)).")
    var warmupSteps: Int?

    @Option(name: .customLong("centroid-ce-warmup-steps"),
            help: "Centroid: steps over which the loss blends from plain cross-entropy to the subclass weights (default \(defaults.centroid.crossEntropyWarmupSteps)).")
    var crossEntropyWarmupSteps: Int?

    @Option(help: "Centroid: normalise a class's weights over the subclasses present in the step (present) or over all K of them, the spec's literal reading (all; default \(defaults.centroid.normalisation.rawValue)).")
    var centroidNormalisation: CentroidSubclassOptions.Normalisation?

    func validate() throws {
        _ = try subclassCounts()
    }

    /// `--subclasses` as class (id or name) to K.
    func subclassCounts() throws -> [String: Int]? {
        guard let subclasses else { return nil }
        var counts: [String: Int] = [:]
        for pair in subclasses.split(separator: ",") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, let k = Int(parts[1]) else {
                throw ValidationError("--subclasses: '\(pair)' is not CLASS:K")
            }
            counts[String(parts[0])] = k
        }
        return counts
    }

    /// Applies every flag that was given.
    func apply(to c: inout LossConfig) throws {
        if let tau { c.subclassified.threshold = tau }
        if let kappa { c.subclassified.kappa = kappa }
        if let power { c.subclassified.power = power }
        if let maxWeight { c.subclassified.maxWeight = maxWeight }
        if let referenceFactor { c.subclassified.referenceFactor = referenceFactor }
        if let queryFactor { c.subclassified.queryFactor = queryFactor }
        if let batchAveragedWeights { c.subclassified.batchAveragedWeights = batchAveragedWeights }
        if let reduction { c.reduction = reduction }
        if let subclassReduction { c.subclassified.reduction = subclassReduction; c.centroid.reduction = subclassReduction }
        if let gamma { c.focalGamma = gamma }
        if let diceSmooth { c.diceSmooth = diceSmooth }
        if let counts = try subclassCounts() { c.subclassCounts = counts }
        if let subclassFeatures { c.subclassFeatures = subclassFeatures }
        if let crossEntropyWarmupSteps { c.centroid.crossEntropyWarmupSteps = crossEntropyWarmupSteps }
        if let defaultSubclasses { c.centroid.defaultSubclasses = defaultSubclasses }
        if let centroidUpdate { c.centroid.update = centroidUpdate }
        if let updateEvery { c.centroid.updateEvery = updateEvery }
        if let warmupSteps { c.centroid.warmupSteps = warmupSteps }
        if let centroidNormalisation { c.centroid.normalisation = centroidNormalisation }
    }
}
