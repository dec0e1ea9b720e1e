import ArgumentParser
import Formats
import Foundation
import Losses

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

    @Option(help: "Logits, float32 [B, C, H, W] (.npy); default: generated.")
    var logits: String?

    @Option(help: "Labels, integers [B, H, W] (.npy); default: generated.")
    var labels: String?

    @Option(name: .customLong("repeat"), help: "Timed evaluations.")
    var repetitions: Int = 10

    func run() throws {
        let batch: SegmentationBatch
        if let logits, let labels {
            let z = try NumPyArray(npy: URL(fileURLWithPath: logits)), y = try NumPyArray(npy: URL(fileURLWithPath: labels))
            guard z.shape.count == 4 else { throw ValidationError("\(logits): expected [B, C, H, W]") }
            batch = try SegmentationBatch(logits: z.floats(), labels: y.integers().map { Int32(clamping: $0) },
                                          batch: z.shape[0], classes: z.shape[1], height: z.shape[2], width: z.shape[3])
        } else {
            batch = try Self.generated()
        }
        var timesWeights: [Double] = [], timesLoss: [Double] = [], timesCE: [Double] = []
        _ = try subclassWeights(batch) // warm-up
        for _ in 0 ..< repetitions {
            timesWeights.append(try Self.milliseconds { _ = try subclassWeights(batch) })
            timesLoss.append(try Self.milliseconds { _ = try subclassifiedLoss(batch) })
            timesCE.append(try Self.milliseconds { _ = try crossEntropy(batch, reduction: .mean) })
        }
        func median(_ t: [Double]) -> String { String(format: "%.1f ms", t.sorted()[t.count / 2]) }
        print("subclassified loss, batch \(batch.batch), \(batch.classes) classes, \(batch.height) x \(batch.width), median of \(repetitions):")
        print("  weights (similarity counting, resampling, normalisation): \(median(timesWeights))")
        print("  loss and gradient (weights + weighted cross-entropy):     \(median(timesLoss))")
        print("  plain cross-entropy and gradient, for comparison:          \(median(timesCE))")
    }

    static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    /// Imbalanced block labels and logits favouring the true class, seeded.
    static func generated(batch: Int = 2, classes: Int = 20, height: Int = 64, width: Int = 2048) throws -> SegmentationBatch {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        // Class shares falling geometrically from 40%.
        var shares = (1 ..< classes).map { pow(0.62, Double($0 - 1)) }
        let total = shares.reduce(0, +)
        shares = shares.map { $0 / total }
        let hw = height * width
        var labels = [Int32](repeating: 0, count: batch * hw)
        for b in 0 ..< batch {
            for by in stride(from: 0, to: height, by: 4) {
                for bx in stride(from: 0, to: width, by: 16) {
                    var u = next(), c = 1
                    for (i, s) in shares.enumerated() { u -= s; if u <= 0 { c = i + 1; break } }
                    if next() < 0.1 { c = 0 }
                    for y in by ..< by + 4 { for x in bx ..< bx + 16 { labels[b * hw + y * width + x] = Int32(c) } }
                }
            }
        }
        var logits = [Float](repeating: 0, count: batch * classes * hw)
        for b in 0 ..< batch {
            for p in 0 ..< hw {
                for k in 0 ..< classes {
                    let noise = Float((next() - 0.5) * 2)
                    logits[(b * classes + k) * hw + p] = (Int32(k) == labels[b * hw + p] ? 4 : 0) + noise
                }
            }
        }
        return try SegmentationBatch(logits: logits, labels: labels, batch: batch, classes: classes, height: height, width: width)
    }
}
