import Foundation
@testable import Losses

/// A small seeded generator for test inputs (SplitMix64).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Random logits and labels; with `prototypes`, labels are constant over 8 x 8 blocks and each
/// block's logits are one of a few prototypes of its class plus noise, so that pixels of a
/// class resemble each other as in a trained network.
func randomBatch(batch: Int = 2, classes: Int = 4, height: Int = 8, width: Int = 32, seed: UInt64 = 1,
                 ignoreFraction: Float = 0.1, ignoreIndex: Int32 = 0, prototypes: Int? = nil, noise: Float = 0.05) -> SegmentationBatch {
    var random = TestRandom(seed: seed)
    let hw = height * width
    var labels = [Int32](repeating: 0, count: batch * hw)
    for i in labels.indices {
        labels[i] = random.uniform() < ignoreFraction ? ignoreIndex : Int32(1 + random.int(classes - 1))
    }
    var blockPrototype = [Int](repeating: 0, count: batch * hw)
    if let prototypes {
        for b in 0 ..< batch {
            for by in stride(from: 0, to: height, by: 8) {
                for bx in stride(from: 0, to: width, by: 8) {
                    let label: Int32 = random.uniform() < ignoreFraction ? ignoreIndex : Int32(1 + random.int(classes - 1))
                    let proto = random.int(prototypes)
                    for y in by ..< min(by + 8, height) {
                        for x in bx ..< min(bx + 8, width) {
                            labels[b * hw + y * width + x] = label
                            blockPrototype[b * hw + y * width + x] = proto
                        }
                    }
                }
            }
        }
    }
    var logits = [Float](repeating: 0, count: batch * classes * hw)
    let protos = (0 ..< (prototypes ?? 0) * classes).map { _ in (0 ..< classes).map { _ in random.normal() * 2 } }
    for b in 0 ..< batch {
        for p in 0 ..< hw {
            let proto: [Float]? = prototypes.map { protos[Int(labels[b * hw + p]) * $0 + blockPrototype[b * hw + p]] }
            for k in 0 ..< classes {
                logits[(b * classes + k) * hw + p] = (proto?[k] ?? random.normal() * 2) + (proto == nil ? 0 : noise * random.normal())
            }
        }
    }
    return try! SegmentationBatch(logits: logits, labels: labels, batch: batch, classes: classes, height: height, width: width)
}

/// Central finite differences of `loss` at a few logits, against `analytic`.
func maxGradientError(_ batch: SegmentationBatch, analytic: [Float], indices: [Int], step: Float = 1e-2,
                      _ loss: (SegmentationBatch) throws -> Float) rethrows -> Float {
    var worst: Float = 0
    for i in indices {
        var plus = batch, minus = batch
        plus.logits[i] += step
        minus.logits[i] -= step
        let numeric = (try loss(plus) - loss(minus)) / (2 * step)
        worst = max(worst, abs(numeric - analytic[i]) / max(1, abs(numeric)))
    }
    return worst
}
