import Foundation
import Testing
import TestSupport
@testable import Engine

/// The engine shared between threads: primitives made on one thread and run on another, and
/// several threads using the same cached primitives at once.
@Suite struct ConcurrencyTests {
    @Test func trainingPrimitivesAreCompleteWhenCached() {
        // Backward primitives are made with the forward one, under the cache's lock, never
        // later by whichever thread first runs a backward pass.
        let x = random([1, 8, 16, 40], seed: 50), w = random([8, 8, 3, 3], seed: 51)
        w.requiresGrad = true
        let key = "conv|\(ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false))|\(x.shape)|\(w.shape)|false|true"
        _ = conv2d(x, weight: w, padding: 1)
        let primitives = DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
            Issue.record("conv2d did not cache its primitives under \(key)")
            return ConvolutionPrimitives(input: x.shape, weights: w.shape, output: x.shape, bias: false,
                                         settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false),
                                         training: true)
        }
        #expect(primitives.training && primitives.all.count == 3)
    }
}
