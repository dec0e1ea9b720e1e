import Engine
import Foundation
import Losses
import Random

/// Timings of the subclassified loss beside plain cross-entropy (`rangeseg bench loss`).
public struct LossBenchmark: Sendable {
    /// Milliseconds per evaluation of the weights alone, of the subclassified loss with its
    /// gradient, and of cross-entropy with its gradient.
    public var weights: [Double] = [], subclassified: [Double] = [], crossEntropy: [Double] = []

    /// Times `repetitions` evaluations of each on logits `[B, C, H, W]` and labels `[B, H, W]`.
    public static func run(logits: Tensor, labels: [Int32], repetitions: Int) throws -> LossBenchmark {
        var report = LossBenchmark()
        _ = try subclassWeights(logits: logits, labels: labels) // warm-up
        for _ in 0 ..< repetitions {
            report.weights.append(try milliseconds { _ = try subclassWeights(logits: logits, labels: labels) })
            report.subclassified.append(try milliseconds { _ = try subclassifiedLoss(logits: logits, labels: labels) })
            report.crossEntropy.append(try milliseconds { _ = try Losses.crossEntropy(logits: logits, labels: labels, reduction: .mean) })
        }
        return report
    }

    private static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }

    /// Logits and labels shaped like a trained network's on a SemanticKITTI batch: labels in
    /// 4 x 16 blocks with class shares falling geometrically from 40% (10% ignored), logits
    /// favouring the true class by 4 plus uniform noise. Deterministic for `seed`.
    public static func imbalancedBatch(batch: Int = 2, classes: Int = 20, height: Int = 64, width: Int = 2048,
                                       seed: UInt64 = 42) -> (logits: Tensor, labels: [Int32]) {
        var random = RandomGenerator(seed: seed)
        var shares = (1 ..< classes).map { pow(0.62, Double($0 - 1)) }
        let total = shares.reduce(0, +)
        shares = shares.map { $0 / total }
        let hw = height * width
        var labels = [Int32](repeating: 0, count: batch * hw)
        for b in 0 ..< batch {
            for by in stride(from: 0, to: height, by: 4) {
                for bx in stride(from: 0, to: width, by: 16) {
                    var u = random.uniform(), c = 1
                    for (i, s) in shares.enumerated() { u -= s; if u <= 0 { c = i + 1; break } }
                    if random.chance(0.1) { c = 0 }
                    for y in by ..< min(by + 4, height) { for x in bx ..< min(bx + 16, width) { labels[b * hw + y * width + x] = Int32(c) } }
                }
            }
        }
        var logits = [Float](repeating: 0, count: batch * classes * hw)
        for b in 0 ..< batch {
            for p in 0 ..< hw {
                for k in 0 ..< classes {
                    logits[(b * classes + k) * hw + p] = (Int32(k) == labels[b * hw + p] ? 4 : 0) + Float(random.uniform(-1, 1))
                }
            }
        }
        return (Tensor(shape: [batch, classes, height, width], scalars: logits), labels)
    }
}
