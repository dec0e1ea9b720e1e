import ArgumentParser
import CommandOptions
import Formats
import Foundation
import Inference
import Losses
import RangeSegKit
import SemanticKITTI

struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Evaluate a loss on NumPy arrays: its value, per-pixel weights and gradient.",
        discussion: """
        For checking RangeSeg's losses against another implementation, and for pictures of the \
        subclassified loss's weight maps. Logits are float32 [B, C, H, W], labels integers \
        [B, H, W] in learning ids. A loss is a name or a weighted sum, e.g. \
        subclassified:0.2+ce:0.5+dice:0.3 (names: \(LossKind.allCases.map(\.rawValue).joined(separator: ", "))).

        Examples:
          rangeseg loss --logits logits.npy --labels labels.npy --loss subclassified \\
            --weights-out w.npy --weights-png w.png
          rangeseg loss --logits logits.npy --labels labels.npy --loss ce --grad-out \\
            grad.npy
          rangeseg loss --logits l.npy --labels y.npy --loss subclassified --tau 0.95 \\
            --reference-factor 4x8 --batch-averaged-weights
        """
    )

    @Option(help: "Logits, float32 [B, C, H, W] (.npy).", transform: { URL(fileURLWithPath: $0) })
    var logits: URL

    @Option(help: "Labels, integers [B, H, W] (.npy), learning ids.", transform: { URL(fileURLWithPath: $0) })
    var labels: URL

    @Option(help: "The label id that carries no loss (default \(LossConfig().ignoreIndex)).")
    var ignoreIndex: Int32?

    @Option(help: "Class weights for wce as a float32 .npy of one weight per class (default: 1/(content + 0.001) from the label config).",
            transform: { URL(fileURLWithPath: $0) })
    var classWeights: URL?

    @OptionGroup var lossSettings: SettingFlags<LossSettings>
    @OptionGroup var labelConfig: LabelConfigOption

    @Option(help: "Write the per-pixel weights [B, H, W] here (.npy); losses that weight pixels only.", transform: { URL(fileURLWithPath: $0) })
    var weightsOut: URL?

    @Option(help: "Write the weights as a picture (.png), one image per row, turbo colours from 0 to the largest weight; ignored pixels black.",
            transform: { URL(fileURLWithPath: $0) })
    var weightsPng: URL?

    @Option(help: "Write dLoss/dLogits [B, C, H, W] here (.npy).", transform: { URL(fileURLWithPath: $0) })
    var gradOut: URL?

    func run() throws {
        var config = LossConfig()
        if let ignoreIndex { config.ignoreIndex = ignoreIndex }
        try lossSettings.apply(to: &config)
        let arrays = try LossOnArrays(logits: NumPyArray(npy: logits), labels: NumPyArray(npy: labels),
                                      logitsFile: logits.path, labelsFile: labels.path)
        let weights = try classWeights.map { try NumPyArray(npy: $0).floats() }
        var objective = try arrays.objective(config, labels: labelConfig.load(), classWeights: weights)
        let result = try arrays.evaluate(&objective)
        let (b, c, h, w) = arrays.shape
        try arrays.write(result, gradient: gradOut, weights: weightsOut, picture: weightsPng, ignoreIndex: config.ignoreIndex)
        print("loss \(config.terms): \(result.value)")
        print("logits [\(b), \(c), \(h), \(w)], \(arrays.labelledPixels(ignoreIndex: config.ignoreIndex)) labelled pixels of \(b * h * w)")
        if let gradOut { print("gradient: \(gradOut.path)") }
        if let weightsOut, let pixelWeights = result.pixelWeights {
            print("weights: \(weightsOut.path) (min \(pixelWeights.min()!), max \(pixelWeights.max()!))")
        }
        if let weightsPng { print("weight picture: \(weightsPng.path)") }
    }
}
