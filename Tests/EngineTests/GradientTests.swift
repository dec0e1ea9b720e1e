import Random
import Testing
@testable import Engine

/// Finite-difference checks of every op's backward.
@Suite struct GradientTests {
    /// Values in ±[0.2, 1]: away from the kink of leaky ReLU.
    func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
        Tensor(shape: shape, scalars: random(shape, seed: seed).scalars.map { $0 < 0 ? $0 * 0.8 - 0.2 : $0 * 0.8 + 0.2 })
    }

    @Test func convolution() {
        checkGradients([random([2, 3, 5, 6], seed: 1), random([4, 3, 3, 3], seed: 2), random([4], seed: 3)]) { t in
            conv2d(t[0], weight: t[1], bias: t[2], stride: Size2D(1, 2), padding: 1, dilation: Size2D(2, 1))
        }
        // Many channels: blocked layouts on the way in and out.
        let second = random([16, 32, 3, 3], seed: 41)
        checkGradients([random([1, 16, 3, 8], seed: 4), random([32, 16, 1, 1], seed: 5)]) { t in
            conv2d(conv2d(t[0], weight: t[1]), weight: second, padding: 1)
        }
    }

    @Test func transposedConvolution() {
        checkGradients([random([2, 4, 3, 5], seed: 6), random([4, 3, 1, 4], seed: 7), random([3], seed: 8)]) { t in
            convTranspose2d(t[0], weight: t[1], bias: t[2], stride: Size2D(1, 2), padding: Size2D(0, 1))
        }
    }

    @Test func batchNormalisation() {
        let scale = Tensor(shape: [3], scalars: [1.5, -0.5, 1])
        checkGradients([random([2, 3, 3, 4], seed: 9), scale, random([3], seed: 10)], tolerance: 3e-2) { t in
            batchNorm(t[0], scale: t[1], shift: t[2], runningMean: Tensor(zeros: [3]),
                      runningVariance: Tensor(repeating: 1, shape: [3]), training: true, momentum: 0.1, epsilon: 1e-5)
        }
        checkGradients([random([2, 3, 2, 2], seed: 11), Tensor(shape: [3], scalars: [1, 2, 3]), random([3], seed: 12)]) { t in
            batchNorm(t[0], scale: t[1], shift: t[2], runningMean: Tensor(shape: [3], scalars: [0.1, 0.2, -0.3]),
                      runningVariance: Tensor(shape: [3], scalars: [0.5, 1, 2]), training: false, momentum: 0.1, epsilon: 1e-5)
        }
    }

    @Test func elementwise() {
        checkGradients([awayFromZero([2, 3, 2, 4], seed: 13)]) { t in leakyReLU(t[0], slope: 0.1) }
        checkGradients([random([2, 3, 2, 2], seed: 14), random([2, 3, 2, 2], seed: 15)]) { t in t[0] + t[1] }
        checkGradients([random([2, 3, 2, 2], seed: 16), random([2, 3, 2, 2], seed: 17)]) { t in t[0] * t[1] - t[1] }
        checkGradients([random([2, 3, 2, 2], seed: 18), random([1, 3, 1, 1], seed: 19)]) { t in t[0] * t[1] + t[1] }
        checkGradients([random([2, 3, 4], seed: 20)]) { t in (t[0] * 3 + 1).sum(alongAxis: 1) }
        checkGradients([random([2, 3, 4], seed: 21)]) { t in t[0].reshaped([6, 4]).mean() * t[0].sum() }
    }

    @Test func unaryAndDivision() {
        let positive = random([2, 3, 4], seed: 40, low: 0.5, high: 2)
        checkGradients([positive]) { t in t[0].exp() }
        checkGradients([positive]) { t in t[0].log() }
        checkGradients([positive]) { t in t[0].squareRoot() + t[0].squared() }
        checkGradients([positive]) { t in t[0].raised(to: 1.5) }
        checkGradients([awayFromZero([2, 3, 4], seed: 41)]) { t in t[0].magnitude() + t[0].sigmoid() }
        checkGradients([awayFromZero([2, 3, 4], seed: 42)]) { t in t[0].clamped(min: -0.5, max: 0.5) }
        checkGradients([random([2, 3, 4], seed: 43), random([2, 1, 4], seed: 44, low: 0.5, high: 2)]) { t in t[0] / t[1] }
        checkGradients([random([2, 3, 4], seed: 45)]) { t in t[0].mean(alongAxis: 2) / 4 }
        // A Swift-defined op: y = x³ with dy/dx = 3x².
        checkGradients([random([5], seed: 46)]) { t in
            let x = t[0]
            return Tensor.differentiable(shape: x.shape, scalars: x.scalars.map { $0 * $0 * $0 }, inputs: [x]) { g in
                [g * Tensor(shape: x.shape, scalars: x.scalars.map { 3 * $0 * $0 })]
            }
        }
    }

    @Test func channelDropout() {
        checkGradients([random([2, 4, 2, 3], seed: 22)]) { t in
            var g = RandomGenerator(seed: 5)
            return Engine.channelDropout(t[0], probability: 0.5, generator: &g)
        }
    }

    @Test func softmaxFamily() {
        checkGradients([random([2, 4, 3], seed: 23, low: -2, high: 2)]) { t in softmax(t[0]) }
        checkGradients([random([2, 4, 3], seed: 24, low: -2, high: 2)]) { t in logSoftmax(t[0]) }
        // Rank 4 runs on oneDNN.
        checkGradients([random([2, 5, 3, 4], seed: 47, low: -2, high: 2)], epsilon: 1e-3) { t in softmax(t[0]) }
        checkGradients([random([2, 5, 3, 4], seed: 48, low: -2, high: 2)], epsilon: 1e-3) { t in logSoftmax(t[0]) }
    }

    @Test func gatherAndResample() {
        let indices = IndexTensor(shape: [2, 2, 3], indices: [0, 2, 2, 1, 1, 0, 3, 3, 0, 2, 1, 1])
        checkGradients([random([2, 4, 3], seed: 27)]) { t in gather(t[0], alongAxis: 1, indices: indices) }
        checkGradients([random([1, 2, 3, 4], seed: 28)]) { t in resizeBilinear(t[0], height: 5, width: 7) }
        checkGradients([random([1, 2, 6, 8], seed: 29)]) { t in resizeBilinear(t[0], height: 4, width: 3) }
    }

    @Test func smallNetworkEndToEnd() {
        var g = RandomGenerator(seed: 30)
        let model = RangeNetLite(config: ArchitectureConfig(inputChannels: 2, classes: 3, widths: [4, 8], blocks: [1, 1]),
                                 generator: &g)
        let x = random([2, 2, 3, 8], seed: 31)
        let parameters = model.namedParameters()
        let checked = ["stem.0.weight", "enc.1.3.body.3.weight", "dec.0.0.weight", "dec.1.1.bias", "head.bias",
                       "enc.0.1.weight"]
        let tensors = checked.map { name in parameters.first { $0.name == name }!.tensor }
        checkGradients(tensors + [x], samples: 6, epsilon: 1e-3, tolerance: 5e-2) { _ in model(x) }
    }
}
