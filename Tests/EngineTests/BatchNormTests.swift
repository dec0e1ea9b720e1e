import Testing
@testable import Engine

@Suite struct BatchNormTests {
    /// Per-channel naive batch norm with the given statistics.
    func reference(_ x: [Float], shape: [Int], mean: [Float], variance: [Float], scale: [Float], shift: [Float],
                   epsilon: Float) -> [Float] {
        let (n, c, s) = (shape[0], shape[1], shape[2] * shape[3])
        var y = x
        for b in 0..<n { for k in 0..<c { for p in 0..<s {
            let i = (b * c + k) * s + p
            y[i] = scale[k] * (x[i] - mean[k]) / (variance[k] + epsilon).squareRoot() + shift[k]
        } } }
        return y
    }

    func statistics(_ x: [Float], shape: [Int]) -> (mean: [Float], biased: [Float], unbiased: [Float]) {
        let (n, c, s) = (shape[0], shape[1], shape[2] * shape[3])
        var mean = [Float](repeating: 0, count: c), biased = mean, unbiased = mean
        for k in 0..<c {
            var values: [Double] = []
            for b in 0..<n { for p in 0..<s { values.append(Double(x[(b * c + k) * s + p])) } }
            let m = values.reduce(0, +) / Double(values.count)
            let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
            mean[k] = Float(m)
            biased[k] = Float(ss / Double(values.count))
            unbiased[k] = Float(ss / Double(values.count - 1))
        }
        return (mean, biased, unbiased)
    }

    @Test func trainingUsesBatchStatisticsAndUpdatesRunningOnes() {
        let shape = [2, 3, 2, 5]
        let x = random(shape, seed: 10, low: -2, high: 3)
        let bn = BatchNorm2d(channels: 3, momentum: 0.1, epsilon: 1e-5)
        bn.weight.assign(Tensor(shape: [3], scalars: [1, 2, -0.5]))
        bn.bias.assign(Tensor(shape: [3], scalars: [0, 1, 3]))
        let y = bn(x)
        let stats = statistics(x.scalars, shape: shape)
        let expected = reference(x.scalars, shape: shape, mean: stats.mean, variance: stats.biased,
                                 scale: [1, 2, -0.5], shift: [0, 1, 3], epsilon: 1e-5)
        #expect(maxDifference(y.scalars, expected) < 1e-4)
        // PyTorch: running = 0.9 running + 0.1 batch, with the unbiased variance.
        #expect(maxDifference(bn.runningMean.scalars, stats.mean.map { 0.1 * $0 }) < 1e-6)
        #expect(maxDifference(bn.runningVariance.scalars, stats.unbiased.map { 0.9 + 0.1 * $0 }) < 1e-5)
        #expect(bn.batchesTracked.value == 1)
    }

    @Test func evaluationUsesRunningStatistics() {
        let shape = [1, 2, 3, 3]
        let x = random(shape, seed: 11)
        let bn = BatchNorm2d(channels: 2)
        bn.runningMean.assign(Tensor(shape: [2], scalars: [0.5, -1]))
        bn.runningVariance.assign(Tensor(shape: [2], scalars: [4, 0.25]))
        bn.eval()
        let y = withoutGradient { bn(x) }
        let expected = reference(x.scalars, shape: shape, mean: [0.5, -1], variance: [4, 0.25], scale: [1, 1],
                                 shift: [0, 0], epsilon: 1e-5)
        #expect(maxDifference(y.scalars, expected) < 1e-5)
        #expect(bn.batchesTracked.value == 0)
        #expect(bn.runningMean.scalars == [0.5, -1])
    }

    @Test func blockedLayoutGivesTheSameResult() {
        // A 16-channel convolution output is in oneDNN's blocked layout; batch norm must
        // agree with running on the plain copy.
        let x = random([2, 8, 3, 16], seed: 12), w = random([16, 8, 3, 3], seed: 13)
        let features = withoutGradient { conv2d(x, weight: w, padding: 1) }
        let plain = features.contiguous()
        let a = BatchNorm2d(channels: 16), b = BatchNorm2d(channels: 16)
        let ya = withoutGradient { a(features) }.scalars, yb = withoutGradient { b(plain) }.scalars
        #expect(maxDifference(ya, yb) < 1e-5)
        #expect(maxDifference(a.runningVariance.scalars, b.runningVariance.scalars) < 1e-6)
    }
}
