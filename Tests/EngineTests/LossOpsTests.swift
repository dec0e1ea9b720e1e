import Foundation
import Testing
@testable import Engine

@Suite struct LossOpsTests {
    @Test func crossEntropyKnownValues() {
        // Two classes, logits (0, ln 3): softmax (1/4, 3/4).
        let logits = Tensor(shape: [1, 2, 2], scalars: [0, 0, log(3), log(3)])
        let labels = IndexTensor(shape: [1, 2], indices: [0, 1])
        let loss = softmaxCrossEntropy(logits: logits, labels: labels, classWeights: [2, 1])
        #expect(maxDifference(loss.scalars, [2 * log(4), log(4.0 / 3)]) < 1e-6)
        let ignored = softmaxCrossEntropy(logits: logits, labels: labels, ignoreIndex: 1)
        #expect(ignored.scalars[1] == 0)
        #expect(crossEntropyWeightSum(labels: labels, classes: 2, classWeights: [2, 1], ignoreIndex: 1) == 2)
        // Matches log-softmax followed by picking the label.
        let x = random([2, 5, 3], seed: 1, low: -3, high: 3)
        let y = IndexTensor(shape: [2, 3], indices: [0, 1, 2, 3, 4, 0])
        let fused = softmaxCrossEntropy(logits: x, labels: y).scalars
        let ls = logSoftmax(x).scalars
        let picked = (0..<6).map { i in -ls[(i / 3) * 15 + Int(y.indices[i]) * 3 + i % 3] }
        #expect(maxDifference(fused, picked) < 1e-5)
        #expect(maxDifference(softmax(x).scalars, ls.map { exp($0) }) < 1e-6)
        // oneDNN (rank 4) and Swift (rank 3) agree.
        let x4 = random([2, 5, 3, 4], seed: 6, low: -5, high: 5)
        #expect(maxDifference(softmax(x4).scalars, softmax(x4.reshaped([2, 5, 12])).scalars) < 1e-6)
        #expect(maxDifference(logSoftmax(x4).scalars, logSoftmax(x4.reshaped([2, 5, 12])).scalars) < 1e-5)
    }

    @Test func crossEntropyVectorPathMatchesReference() {
        // 40 positions per image: two 16-lane chunks and a scalar tail; large logits.
        let x = random([2, 7, 5, 8], seed: 2, low: -30, high: 30)
        var g = RandomGenerator(seed: 3)
        let y = IndexTensor(shape: [2, 5, 8], indices: (0..<80).map { _ in Int32(g.next() % 7) })
        let fused = softmaxCrossEntropy(logits: x, labels: y).scalars
        let ls = logSoftmax(x).scalars
        let picked = (0..<80).map { i in -ls[(i / 40) * 280 + Int(y.indices[i]) * 40 + i % 40] }
        #expect(maxDifference(fused, picked) < 1e-4)
        checkGradients([random([2, 7, 5, 8], seed: 4, low: -3, high: 3)], samples: 20, epsilon: 1e-3) { t in
            softmaxCrossEntropy(logits: t[0], labels: y, classWeights: [1, 2, 3, 1, 1, 0.5, 1],
                                pixelWeights: random([2, 5, 8], seed: 5, low: 0, high: 2), ignoreIndex: 6)
        }
        // Rank 3 takes the Swift path; the same values must come out.
        let flat = x.reshaped([2, 7, 40])
        let swiftPath = softmaxCrossEntropy(logits: flat, labels: IndexTensor(shape: [2, 40], indices: y.indices)).scalars
        #expect(maxDifference(fused, swiftPath) < 1e-4)
        // The 16-lane exp agrees with Foundation's.
        let inputs = (0..<16).map { Float($0) * 5.5 - 44 }
        let lanes = fastExp(Float16Lanes(inputs))
        for i in 0..<16 { #expect(abs(lanes[i] - Foundation.exp(inputs[i])) <= 1e-6 * Foundation.exp(inputs[i])) }
    }

    @Test func bilinearMatchesHalfPixelCentres() {
        // PyTorch: interpolate([[1, 2]] as 1x1x1x2, size=(1, 4), bilinear, align_corners=False)
        // = [1, 1.25, 1.75, 2].
        let x = Tensor(shape: [1, 1, 1, 2], scalars: [1, 2])
        #expect(maxDifference(resizeBilinear(x, height: 1, width: 4).scalars, [1, 1.25, 1.75, 2]) < 1e-6)
        // Halving a 1x4 row averages neighbours: [1.5, 3.5].
        let y = Tensor(shape: [1, 1, 1, 4], scalars: [1, 2, 3, 4])
        #expect(maxDifference(resizeBilinear(y, height: 1, width: 2).scalars, [1.5, 3.5]) < 1e-6)
    }

    @Test func gatherPicksAlongAxis() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let out = gather(x, alongAxis: 1, indices: IndexTensor(shape: [2, 2], indices: [2, 0, 1, 1]))
        #expect(out.scalars == [3, 1, 5, 5])
    }

    @Test func noGradientScope() {
        let w = Tensor(repeating: 2, shape: [3], requiresGrad: true)
        let y = withoutGradient { (w * w).sum() }
        #expect(!y.requiresGrad && !isGradientEnabled == false)
        let z = (w * w).sum()
        #expect(z.requiresGrad)
        z.backward()
        #expect(w.grad?.scalars == [4, 4, 4])
    }
}
