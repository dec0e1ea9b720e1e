import ArgumentParser
import CommandOptions
import Engine
import Formats
import Foundation
import RangeSegKit
import Training

/// `rangeseg bench loss`: the subclassified loss's cost beside cross-entropy.
struct BenchLoss: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Time the subclassified loss's weighting and the loss with its gradient.",
        discussion: """
        Default input: batch 2, 20 classes, 64 x 2048, with imbalanced labels in blocks (one class \
        covering 40% of the pixels, the rarest 0.5%) and logits that favour the true class plus \
        noise; or the arrays of --logits and --labels.

        Example:
          rangeseg bench loss --repeat 10
        """
    )

    @Option(help: "Logits, float32 [B, C, H, W] (.npy); default: generated.", transform: { URL(fileURLWithPath: $0) })
    var logits: URL?

    @Option(help: "Labels, integers [B, H, W] (.npy); default: generated.", transform: { URL(fileURLWithPath: $0) })
    var labels: URL?

    @Option(name: .customLong("repeat"), help: "Timed evaluations.")
    var repetitions: Int = 10

    func validate() throws {
        if (logits == nil) != (labels == nil) { throw ValidationError("give both --logits and --labels, or neither") }
        if repetitions < 1 { throw ValidationError("--repeat must be at least 1") }
    }

    func run() throws {
        let (input, targets): (Tensor, [Int32])
        if let logits, let labels {
            let arrays = try LossOnArrays(logits: NumPyArray(npy: logits), labels: NumPyArray(npy: labels),
                                          logitsFile: logits.path, labelsFile: labels.path)
            let s = arrays.shape
            (input, targets) = (Tensor(shape: [s.batch, s.classes, s.height, s.width], scalars: arrays.logits), arrays.labels)
        } else {
            (input, targets) = LossBenchmark.imbalancedBatch()
        }
        let report = try LossBenchmark.run(logits: input, labels: targets, repetitions: repetitions)
        func median(_ t: [Double]) -> String { String(format: "%.1f ms", t.median() ?? 0) }
        let s = input.shape
        print("subclassified loss, batch \(s[0]), \(s[1]) classes, \(s[2]) x \(s[3]), median of \(repetitions):")
        print("  weights (similarity counting, resampling, normalisation): \(median(report.weights))")
        print("  loss and gradient (weights + weighted cross-entropy):     \(median(report.subclassified))")
        print("  plain cross-entropy and gradient, for comparison:          \(median(report.crossEntropy))")
    }
}
