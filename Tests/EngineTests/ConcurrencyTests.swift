import Foundation
import Testing
import TestSupport
@testable import Engine

/// The engine shared between threads: primitives made on one thread and run on another, and
/// several threads using the same cached primitives at once.
@Suite struct ConcurrencyTests {
    /// Forward and backward of a strided 3 x 3 convolution (the encoder's down-sampling shape,
    /// whose backward-data pass oneDNN 2.6 runs as `gemm:jit` with a scratchpad).
    static func convolutionGradients(seed: UInt64) -> [[Float]] {
        let x = random([1, 8, 64, 256], seed: seed)
        let w = random([16, 8, 3, 3], seed: seed + 1, low: -0.2, high: 0.2)
        let b = random([16], seed: seed + 2)
        for t in [x, w, b] { t.requiresGrad = true }
        let y = conv2d(x, weight: w, bias: b, stride: Size2D(1, 2), padding: 1)
        y.backward(seed: random(y.shape, seed: seed + 3))
        return [y.scalars, x.grad!.scalars, w.grad!.scalars, b.grad!.scalars]
    }

    @Test func primitivesMadeOnOneThreadRunOnAnother() {
        // Each call on its own new thread: the first creates and caches the primitives, the
        // later ones only run them. oneDNN's default ("library") scratchpad is thread-local,
        // so this failed ("execute failed with status 2") before the engine gave every
        // primitive its scratchpad explicitly.
        let results = ThreadResults<[[Float]]>(count: 3)
        for i in 0 ..< 3 { onSeparateThreads(1) { _ in results[i] = Self.convolutionGradients(seed: 40) } }
        let here = Self.convolutionGradients(seed: 40)
        for result in results.all { #expect(result == here) }
    }

    @Test func everyPrimitiveTakesItsScratchpadFromTheEngine() {
        _ = Self.convolutionGradients(seed: 41)
        let primitives = DNNLContext.shared.cachedPrimitives
        #expect(primitives.count >= 3)
        #expect(primitives.allSatisfy { $0.hasUserScratchpad })
        // The strided convolution's backward-data pass needs one (its im2col buffer).
        #expect(primitives.contains { $0.scratchpadBytes > 0 })
    }

    @Test func trainingPrimitivesAreCompleteWhenCached() {
        // Backward primitives are made with the forward one, under the cache's lock, never
        // later by whichever thread first runs a backward pass.
        let x = random([1, 8, 16, 40], seed: 50), w = random([8, 8, 3, 3], seed: 51)
        w.requiresGrad = true
        let key = "conv|\(ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false))|\(x.shape)|\(w.shape)|false|true|f32>f32"
        _ = conv2d(x, weight: w, padding: 1)
        let primitives = DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
            Issue.record("conv2d did not cache its primitives under \(key)")
            return ConvolutionPrimitives(input: x.shape, weights: w.shape, output: x.shape, bias: false,
                                         settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false),
                                         training: true)
        }
        #expect(primitives.training && primitives.all.count == 3)
    }

    /// Convolution, batch norm, leaky ReLU and a residual sum, forward and backward, then the
    /// strided convolution.
    static func mixedGradients(seed: UInt64) -> [[Float]] {
        let x = random([2, 16, 32, 64], seed: seed)
        let w = random([16, 16, 3, 3], seed: 7, low: -0.2, high: 0.2)
        let scale = Tensor(repeating: 1, shape: [16]), shift = Tensor(zeros: [16])
        for t in [x, w, scale, shift] { t.requiresGrad = true }
        let y = conv2d(x, weight: w, padding: 1)
        let z = leakyReLU(batchNorm(y, scale: scale, shift: shift, runningMean: Tensor(zeros: [16]),
                                    runningVariance: Tensor(repeating: 1, shape: [16]), training: true,
                                    momentum: 0.1, epsilon: 1e-5)) + y
        z.backward(seed: random(z.shape, seed: seed + 100))
        return [z.scalars, x.grad!.scalars, w.grad!.scalars, scale.grad!.scalars] + Self.convolutionGradients(seed: seed)
    }

    @Test func threadsSharingPrimitivesGetWhatOneThreadGets() {
        // Four threads run the same cached convolution, batch norm and element-wise primitives
        // forward and backward at once; each result must be what a lone thread computes.
        let alone = (0 ..< 4).map { Self.mixedGradients(seed: UInt64(60 + $0)) }
        for _ in 0 ..< 3 {
            let together = ThreadResults<[[Float]]>(count: 4)
            onSeparateThreads(4) { i in together[i] = Self.mixedGradients(seed: UInt64(60 + i)) }
            for i in 0 ..< 4 { #expect(together[i] == alone[i], "thread \(i) differs from a lone run") }
        }
    }
}
