import ArgumentParser
import Formats
import Foundation
import Losses
import SemanticKITTI

struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Evaluate a loss on NumPy arrays: its value, per-pixel weights and gradient.",
        discussion: """
        For checking RangeSeg's losses against another implementation, and for pictures of the \
        subclassified loss's weight maps. Logits are float32 [B, C, H, W], labels integers \
        [B, H, W] in learning ids. A loss is a name or a weighted sum, e.g. \
        subclassified:0.2,ce:0.5,dice:0.3 (names: \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))).

        Examples:
          rangeseg loss --logits logits.npy --labels labels.npy --loss subclassified --weights-out w.npy --weights-png w.png
          rangeseg loss --logits logits.npy --labels labels.npy --loss ce --grad-out grad.npy
          rangeseg loss --logits l.npy --labels y.npy --loss subclassified --tau 0.95 --reference-factor 4x8 --batch-averaged-weights
        """
    )

    @Option(help: "Logits, float32 [B, C, H, W] (.npy).")
    var logits: String

    @Option(help: "Labels, integers [B, H, W] (.npy), learning ids.")
    var labels: String

    @OptionGroup var loss: LossOptions

    @Option(help: "Write the per-pixel weights [B, H, W] here (.npy); losses that weight pixels only.")
    var weightsOut: String?

    @Option(help: "Write the weights as a picture (.png), one image per row, turbo colours from 0 to the largest weight; ignored pixels black.")
    var weightsPng: String?

    @Option(help: "Write dLoss/dLogits [B, C, H, W] here (.npy).")
    var gradOut: String?

    func run() throws {
        let logitsArray = try NumPyArray(npy: URL(fileURLWithPath: logits))
        let labelsArray = try NumPyArray(npy: URL(fileURLWithPath: labels))
        guard logitsArray.shape.count == 4 else {
            throw ValidationError("\(logits): logits must be [B, C, H, W], found shape \(logitsArray.shape)")
        }
        let (b, c, h, w) = (logitsArray.shape[0], logitsArray.shape[1], logitsArray.shape[2], logitsArray.shape[3])
        guard labelsArray.shape == [b, h, w] else {
            throw ValidationError("\(labels): labels must be [\(b), \(h), \(w)] to match the logits, found \(labelsArray.shape)")
        }
        guard labelsArray.elementType != .float32, labelsArray.elementType != .float64 else {
            throw ValidationError("\(labels): labels must be integers, found \(labelsArray.elementType)")
        }
        let batch = try SegmentationBatch(logits: logitsArray.floats(), labels: labelsArray.integers().map { Int32(clamping: $0) },
                                          batch: b, classes: c, height: h, width: w)
        var objective = try loss.makeLoss(classes: c)
        let value = try objective(batch)
        print("loss \(objective.spec): \(value.value)")
        print("logits [\(b), \(c), \(h), \(w)], \(batch.labels.filter { $0 != loss.ignoreIndex }.count) labelled pixels of \(batch.pixelCount)")
        if let gradOut {
            try NumPyArray(value.gradient, shape: [b, c, h, w]).write(npy: URL(fileURLWithPath: gradOut))
            print("gradient: \(gradOut)")
        }
        if weightsOut != nil || weightsPng != nil {
            guard let weights = value.pixelWeights else {
                throw ValidationError("--weights-out and --weights-png need a loss that weights pixels (subclassified or centroid)")
            }
            if let weightsOut {
                try NumPyArray(weights, shape: [b, h, w]).write(npy: URL(fileURLWithPath: weightsOut))
                print("weights: \(weightsOut) (min \(weights.min()!), max \(weights.max()!))")
            }
            if let weightsPng {
                // Ignored pixels carry no loss: black, and left out of the colour scale.
                let ignore = loss.ignoreIndex
                let counted = zip(weights, batch.labels).filter { $0.1 != ignore }.map(\.0)
                let top = max(counted.max() ?? 0, 1e-6)
                let images = (0 ..< b).map { image -> RGBImage in
                    var picture = RGBImage(width: w, height: h)
                    for p in 0 ..< h * w where batch.labels[image * h * w + p] != ignore {
                        picture[p / w, p % w] = ColorMap.turbo.color(weights[image * h * w + p] / top)
                    }
                    return picture.stretchedVertically(by: max(1, 128 / h))
                }
                try RGBImage.stacked(images, gap: 4).write(png: URL(fileURLWithPath: weightsPng))
                print("weight picture: \(weightsPng)")
            }
        }
    }
}

/// Loss flags shared by `loss`, `train` and `compare`.
struct LossOptions: ParsableArguments {
    @Option(help: "The loss: a name or a weighted sum such as subclassified:0.2,ce:0.5,dice:0.3.")
    var loss: String = "subclassified"

    @Option(help: "The label id that carries no loss.")
    var ignoreIndex: Int32 = 0

    @Option(help: "Reduction of ce, wce and focal: mean (over all pixels), valid-mean (over labelled pixels) or sum.")
    var reduction: Reduction = .validMean

    @Option(help: "Class weights for wce as a float32 .npy of one weight per class (default: from --content-config).")
    var classWeights: String?

    @Option(help: "Label config whose content block gives wce's weights 1/(content + 0.001) (default: data/semantic-kitti.yaml).")
    var contentConfig: String?

    @Option(help: "Subclassified: similarity threshold tau.")
    var tau: Float = 0.98

    @Option(help: "Subclassified: kappa in 1/(n + kappa)^p.")
    var kappa: Float = 10

    @Option(help: "Subclassified: the power p in 1/(n + kappa)^p.")
    var power: Float = 0.5

    @Option(help: "Subclassified: weights are clamped at this value after normalisation (w_max).")
    var maxWeight: Float = 10

    @Option(help: "Subclassified: reference grid factor, ROWSxCOLUMNS or one number.")
    var referenceFactor: String = "8x8"

    @Option(help: "Subclassified: query grid factor, ROWSxCOLUMNS or one number.")
    var queryFactor: String = "4x4"

    @Option(help: "Subclassified: reduction (the paper: mean over all pixels).")
    var subclassReduction: Reduction = .mean

    @Flag(help: "Subclassified: weight every image by the batch-mean weight map, as the authors' released code does (for reproducing published numbers).")
    var batchAveragedWeights = false

    @Option(help: "Focal: gamma.")
    var gamma: Float = 2

    @Option(help: "Dice: smoothing added to numerator and denominator.")
    var diceSmooth: Float = 1

    @Option(help: "Centroid: subclasses per class, e.g. 1:5,6:4,9:2 (learning id:K).")
    var subclasses: String = ""

    @Option(help: "Centroid: subclasses of classes not listed in --subclasses.")
    var defaultSubclasses: Int = 1

    @Option(help: "Centroid: recluster (k-means every --update-every steps) or adaptive (EMA of centroids).")
    var centroidUpdate: CentroidSubclassOptions.Update = .adaptive

    @Option(help: "Centroid: steps between re-clusterings.")
    var updateEvery: Int = 100

    @Option(help: "Centroid: steps over which the weight blends from frequency alone to frequency x difficulty.")
    var warmupSteps: Int = 0

    /// The flags as the losses' configuration (the same keys as `data/train.yaml`'s `loss:`).
    var config: LossConfig {
        get throws {
            var c = LossConfig()
            c.terms = loss
            c.tau = tau
            c.kappa = kappa
            c.power = power
            c.maxWeight = maxWeight
            c.referenceFactor = referenceFactor
            c.queryFactor = queryFactor
            c.batchAveragedWeights = batchAveragedWeights
            c.focalGamma = gamma
            c.diceSmooth = diceSmooth
            c.defaultSubclasses = defaultSubclasses
            c.centroidUpdate = centroidUpdate
            c.updateEvery = updateEvery
            c.centroidWarmupSteps = warmupSteps
            for pair in subclasses.split(separator: ",") {
                let parts = pair.split(separator: ":")
                guard parts.count == 2, let cls = Int(parts[0]), let k = Int(parts[1]) else {
                    throw ValidationError("--subclasses: '\(pair)' is not CLASS:K")
                }
                c.subclasses[cls] = k
            }
            return c
        }
    }

    func makeLoss(classes: Int, seed: UInt64 = 0) throws -> CombinedLoss {
        let config = try self.config
        var weights: [Float]?
        if let file = classWeights {
            weights = try NumPyArray(npy: URL(fileURLWithPath: file)).floats()
        } else if try LossSpec(parsing: loss).terms.contains(where: { $0.kind == .wce }) {
            let option = LabelConfigOption(path: contentConfig)
            let labels = try option.load()
            guard labels.classCount == classes else {
                throw ValidationError("\(try option.url().path) has \(labels.classCount) learning classes, the logits \(classes)")
            }
            let ignored = Set(labels.learningIgnore.filter(\.value).map(\.key))
            weights = inverseFrequencyWeights(content: labels.learningContent(), ignored: ignored)
        }
        return try config.makeLoss(classes: classes, classWeights: weights, ignoreIndex: ignoreIndex,
                                   reduction: reduction, subclassReduction: subclassReduction, seed: seed)
    }
}

extension Reduction: ExpressibleByArgument {}
extension CentroidSubclassOptions.Update: ExpressibleByArgument {}
