import Foundation
import Random
import Testing
@testable import Engine

@Suite struct LossOpsTests {
    @Test func softmaxAndLogSoftmaxAgree() {
        // Two classes, logits (0, ln 3): softmax (1/4, 3/4).
        let logits = Tensor(shape: [1, 2, 2], scalars: [0, 0, log(3), log(3)])
        #expect(maxDifference(softmax(logits).scalars, [0.25, 0.25, 0.75, 0.75]) < 1e-6)
        let x = random([2, 5, 3], seed: 1, low: -3, high: 3)
        let ls = logSoftmax(x).scalars
        #expect(maxDifference(softmax(x).scalars, ls.map { exp($0) }) < 1e-6)
        // oneDNN (rank 4) and Swift (rank 3) agree.
        let x4 = random([2, 5, 3, 4], seed: 6, low: -5, high: 5)
        #expect(maxDifference(softmax(x4).scalars, softmax(x4.reshaped([2, 5, 12])).scalars) < 1e-6)
        #expect(maxDifference(logSoftmax(x4).scalars, logSoftmax(x4.reshaped([2, 5, 12])).scalars) < 1e-5)
    }

    @Test func fusedLossHandsItsGradientToBackward() {
        // 0.5 Σ x² computed as one fused node: its gradient is x (times the seed).
        let x = random([2, 3, 2, 4], seed: 7, low: -2, high: 2).detached()
        x.requiresGrad = true
        let blocked = conv2d(x, weight: Tensor(shape: [3, 3, 1, 1], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1], requiresGrad: true))
        let loss = Tensor.fusedLoss(of: blocked) { z, gradient in
            var total: Float = 0
            for i in z.indices { total += 0.5 * z[i] * z[i]; gradient[i] = z[i] }
            return total
        }
        let values = x.scalars
        #expect(loss.shape == [] && abs(loss.scalar - values.map { 0.5 * $0 * $0 }.reduce(0, +)) < 1e-4)
        loss.backward(seed: Tensor(repeating: 2, shape: []))
        #expect(maxDifference(x.grad!.scalars, values.map { 2 * $0 }) < 1e-5)
    }

    @Test func matrixProductWithTranspose() {
        // [[1, 2], [3, 4]] · [[1, 0], [1, 1], [0, 2]]ᵀ = [[1, 3, 4], [3, 7, 8]]
        var c = [Float](repeating: 0, count: 6)
        multiplyTransposed([1, 2, 3, 4], [1, 0, 1, 1, 0, 2], m: 2, n: 3, k: 2, into: &c)
        #expect(c == [1, 3, 4, 3, 7, 8])
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
