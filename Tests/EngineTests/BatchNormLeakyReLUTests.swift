import Random
import Testing
@testable import Engine

/// The fused training-mode batch norm + leaky ReLU (`batchNormLeakyReLU`) against oneDNN's batch
/// norm followed by its leaky ReLU.
@Suite struct BatchNormLeakyReLUTests {
    struct Outcome {
        var y: [Float], runningMean: [Float], runningVariance: [Float]
        var dx: [Float], dScale: [Float], dShift: [Float]
        /// The residual's gradient and the upstream one, with `residual`.
        var dResidual: [Float]? = nil, upstream: [Float]? = nil
    }

    /// One forward and backward pass; the upstream gradient is a fixed random tensor.
    /// With `residual`, a tensor is added to the output: inside the fused operation, or by an
    /// addition after the pair.
    func run(_ shape: [Int], offset: Float, seed: UInt64, fused: Bool, residual: Bool = false) -> Outcome {
        let c = shape[1]
        let x = Tensor(shape: shape, scalars: random(shape, seed: seed, low: -2, high: 3).scalars.map { $0 + offset },
                       requiresGrad: true)
        // One negative scale: the leaky ReLU's mask is then the opposite of x's order.
        let scale = Tensor(shape: [c], scalars: random([c], seed: seed + 1, low: 0.5, high: 1.5).scalars.enumerated()
                            .map { $0.offset == 1 ? -$0.element : $0.element }, requiresGrad: true)
        let shift = Tensor(shape: [c], scalars: random([c], seed: seed + 2, low: -0.5, high: 0.5).scalars, requiresGrad: true)
        let runningMean = Tensor(shape: [c], scalars: random([c], seed: seed + 3).scalars)
        let runningVariance = Tensor(repeating: 2, shape: [c])
        let r = residual ? Tensor(shape: shape, scalars: random(shape, seed: seed + 5, low: -1, high: 1).scalars,
                                  requiresGrad: true) : nil
        let y = fused
            ? batchNormLeakyReLU(x, scale: scale, shift: shift, runningMean: runningMean, runningVariance: runningVariance,
                                 momentum: 0.1, epsilon: 1e-5, slope: 0.1, adding: r)
            : { (y: Tensor) in r.map { $0 + y } ?? y }(
                leakyReLU(batchNorm(x, scale: scale, shift: shift, runningMean: runningMean, runningVariance: runningVariance,
                                    training: true, momentum: 0.1, epsilon: 1e-5), slope: 0.1))
        let upstream = random(shape, seed: seed + 4)
        (y * upstream).sum().backward()
        return Outcome(y: y.scalars, runningMean: runningMean.scalars, runningVariance: runningVariance.scalars,
                       dx: x.grad!.scalars, dScale: scale.grad!.scalars, dShift: shift.grad!.scalars,
                       dResidual: r.map { $0.grad!.scalars }, upstream: residual ? upstream.scalars : nil)
    }

    /// Largest difference relative to the largest magnitude of `expected`.
    func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        precondition(actual.count == expected.count)
        let scale = max(expected.map(abs).max() ?? 0, 1e-6)
        return zip(actual, expected).map { abs($0 - $1) }.max()! / scale
    }

    static let cases: [(shape: [Int], offset: Float)] = [
        ([2, 8, 3, 37], 0),     // fewer channels than a block of 16: padded lanes
        ([2, 40, 5, 300], 0),   // several channel blocks, the last one partial
        ([1, 16, 8, 1100], 0),  // 8,800 pixels: several tasks per channel block
        ([2, 24, 4, 50], 1000), // a large mean: the one-pass statistics must not cancel
    ]

    /// The unfused pair as the reference, on the input without `offset`: batch norm does not
    /// depend on a shift of its input (only the running mean moves, by momentum x offset), and
    /// oneDNN's AVX2 batch norm disagreed at a large mean (cancelling statistics, presumably; with
    /// `ONEDNN_MAX_CPU_ISA=AVX2`, 2026-12-04: output 2.2e-4 and input gradient 0.22 of the largest
    /// away from the fused one's at a mean of 1,000, where the tests asked 1e-4 and 1e-3), while the
    /// fused kernel must not.
    func reference(_ shape: [Int], offset: Float, seed: UInt64, residual: Bool = false) -> Outcome {
        var outcome = run(shape, offset: 0, seed: seed, fused: false, residual: residual)
        outcome.runningMean = outcome.runningMean.map { $0 + 0.1 * offset }
        return outcome
    }

    @Test(arguments: cases.indices)
    func fusedMatchesBatchNormThenLeakyReLU(index: Int) {
        let (shape, offset) = Self.cases[index]
        let fused = run(shape, offset: offset, seed: 5, fused: true)
        let separate = reference(shape, offset: offset, seed: 5)
        #expect(relativeError(fused.y, separate.y) < 1e-4, "output")
        #expect(relativeError(fused.runningMean, separate.runningMean) < 1e-5, "running mean")
        #expect(relativeError(fused.runningVariance, separate.runningVariance) < 1e-4, "running variance")
        #expect(relativeError(fused.dx, separate.dx) < 1e-3, "input gradient")
        #expect(relativeError(fused.dScale, separate.dScale) < 1e-3, "scale gradient")
        #expect(relativeError(fused.dShift, separate.dShift) < 1e-3, "shift gradient")
        // The outputs are not trivially equal: some pixels took each branch of the leaky ReLU.
        #expect(fused.y.contains { $0 < 0 } && fused.y.contains { $0 > 0 })
    }

    /// With a residual added (a residual block's end): the same as the pair and an addition, and
    /// the residual's gradient is the upstream one.
    @Test(arguments: cases.indices)
    func fusedResidualMatchesTheAddition(index: Int) {
        let (shape, offset) = Self.cases[index]
        let fused = run(shape, offset: offset, seed: 6, fused: true, residual: true)
        let separate = reference(shape, offset: offset, seed: 6, residual: true)
        let plain = run(shape, offset: offset, seed: 6, fused: true)
        #expect(relativeError(fused.y, separate.y) < 1e-4, "output")
        #expect(relativeError(fused.y, plain.y) > 1e-2, "the residual was added")
        #expect(relativeError(fused.runningVariance, separate.runningVariance) < 1e-4, "running variance")
        #expect(relativeError(fused.dx, separate.dx) < 1e-3, "input gradient")
        #expect(relativeError(fused.dScale, separate.dScale) < 1e-3, "scale gradient")
        #expect(relativeError(fused.dShift, separate.dShift) < 1e-3, "shift gradient")
        #expect(fused.dResidual == fused.upstream, "the residual's gradient")
        #expect(separate.dResidual == separate.upstream)
    }

    /// A residual block (`Residual`, RangeNet-lite's and DarkNet's) adds its input inside the
    /// fused operation in training, and gives `x + body(x)` in both modes.
    @Test func residualBlockFusesItsAddition() {
        var generator = RandomGenerator(seed: 12)
        let block = Residual(channels: 16, config: .rangeNetLite, generator: &generator)
        let input = random([2, 16, 4, 24], seed: 13)
        func pass(_ f: (Tensor) -> Tensor) -> (y: [Float], dx: [Float]) {
            let x = Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true)
            let y = f(x)
            (y * random(y.shape, seed: 14)).sum().backward()
            return (y.scalars, x.grad!.scalars)
        }
        let fused = pass { block($0) }, apart = pass { $0 + block.body($0) }
        #expect(relativeError(fused.y, apart.y) < 1e-5, "output")
        #expect(relativeError(fused.dx, apart.dx) < 1e-4, "input gradient")
        block.eval()
        let x = input
        #expect(relativeError(block(x).scalars, (x + block.body(x)).scalars) == 0, "evaluation")
    }

    @Test func finiteDifferences() {
        let scale = Tensor(shape: [8], scalars: [1.5, -0.5, 1, 0.7, 1.2, 0.9, -1.1, 0.4])
        // A small step: with 1e-2, batch norm's outputs near 0 cross the leaky ReLU's kink (the
        // unfused pair then fails the same check by the same amount).
        checkGradients([random([2, 8, 3, 4], seed: 21), scale, random([8], seed: 22)], epsilon: 1e-3, tolerance: 3e-2) { t in
            batchNormLeakyReLU(t[0], scale: t[1], shift: t[2], runningMean: Tensor(zeros: [8]),
                               runningVariance: Tensor(repeating: 1, shape: [8]), momentum: 0.1, epsilon: 1e-5, slope: 0.1)
        }
    }

    /// Under bf16 the convolution writes bf16 activations, which the fused kernel reads and writes
    /// as bf16 (rounded once, where oneDNN's pair rounds twice). Where this CPU has no bf16
    /// kernels both sides run fp32 and the check is the fp32 one again.
    @Test func bf16ActivationsStayBF16() {
        var generator = RandomGenerator(seed: 8)
        let conv = Conv2d(inputChannels: 8, outputChannels: 24, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        let x = random([2, 8, 6, 40], seed: 9)
        func pass(fused: Bool) -> (y: [Float], dx: [Float], dScale: [Float], type: ElementType) {
            let input = Tensor(shape: x.shape, scalars: x.scalars, requiresGrad: true)
            let scale = Tensor(repeating: 1.2, shape: [24], requiresGrad: true), shift = Tensor(zeros: [24], requiresGrad: true)
            let (y, type) = withPrecision(.bf16) { () -> (Tensor, ElementType) in
                let z = conv(input)
                let type = z.storage.descriptor.elementType
                let stats = (Tensor(zeros: [24]), Tensor(repeating: 1, shape: [24]))
                let y = fused
                    ? batchNormLeakyReLU(z, scale: scale, shift: shift, runningMean: stats.0, runningVariance: stats.1,
                                         momentum: 0.1, epsilon: 1e-5, slope: 0.1)
                    : leakyReLU(batchNorm(z, scale: scale, shift: shift, runningMean: stats.0, runningVariance: stats.1,
                                          training: true, momentum: 0.1, epsilon: 1e-5), slope: 0.1)
                #expect(y.storage.descriptor.elementType == type, "the output keeps the activations' type")
                (y * random(y.shape, seed: 10)).sum().backward()
                return (y, type)
            }
            return (y.scalars, input.grad!.scalars, scale.grad!.scalars, type)
        }
        let fused = pass(fused: true), separate = pass(fused: false)
        #expect(fused.type == separate.type)
        let tolerance: Float = fused.type == .bf16 ? 2e-2 : 1e-4
        #expect(relativeError(fused.y, separate.y) < tolerance, "output, \(fused.type)")
        #expect(relativeError(fused.dx, separate.dx) < 5 * tolerance, "input gradient, \(fused.type)")
        #expect(relativeError(fused.dScale, separate.dScale) < 5 * tolerance, "scale gradient, \(fused.type)")
    }

    /// `Sequential` runs a batch norm followed by a leaky ReLU fused in training, and counts the
    /// batch once; in evaluation it runs them as before.
    @Test func sequentialFusesBatchNormAndLeakyReLU() {
        var generator = RandomGenerator(seed: 3)
        let conv = Conv2d(inputChannels: 3, outputChannels: 16, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        let norm = BatchNorm2d(channels: 16)
        let block = Sequential([conv, norm, LeakyReLU(slope: 0.1)])
        let x = random([2, 3, 4, 9], seed: 4)
        let together = block(x).scalars
        #expect(norm.batchesTracked.value == 1)
        let reference = BatchNorm2d(channels: 16)
        let apart = LeakyReLU(slope: 0.1)(reference(conv(x))).scalars
        #expect(relativeError(together, apart) < 1e-4)
        #expect(relativeError(norm.runningVariance.scalars, reference.runningVariance.scalars) < 1e-4)
        block.eval()
        let evaluated = block(x).scalars
        let expected = LeakyReLU(slope: 0.1)(batchNorm(conv(x), scale: norm.weight, shift: norm.bias,
                                                       runningMean: norm.runningMean, runningVariance: norm.runningVariance,
                                                       training: false, momentum: 0.1, epsilon: 1e-5)).scalars
        #expect(relativeError(evaluated, expected) < 1e-5)
        #expect(norm.batchesTracked.value == 1)
    }
}
