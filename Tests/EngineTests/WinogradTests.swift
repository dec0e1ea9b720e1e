import Testing
@testable import Engine

/// Opted into (`withWinograd(true)`), training's 3 x 3 stride-1 convolutions run oneDNN's
/// Winograd kernels where it has them (`ConvolutionAlgorithm`), with the direct algorithm's
/// results up to rounding; without the opt-in they run direct.
@Suite struct WinogradTests {
    let settings = ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false)

    /// Forward, input gradient and weight gradient of one training pass.
    func pass(winograd: Bool) -> [[Float]] {
        withWinograd(winograd) {
            let x = random([2, 16, 8, 40], seed: 31), w = random([32, 16, 3, 3], seed: 32)
            x.requiresGrad = true
            w.requiresGrad = true
            let y = conv2d(x, weight: w, padding: 1)
            y.backward(seed: random(y.shape, seed: 33))
            return [y.scalars, x.grad!.scalars, w.grad!.scalars]
        }
    }

    @Test func winogradWhereOneDNNHasItAndTheDirectResults() {
        let primitives = withWinograd(true) {
            ConvolutionPrimitives(input: [2, 16, 8, 40], weights: [32, 16, 3, 3], output: [2, 32, 8, 40], bias: false,
                                  settings: settings, training: true)
        }
        let implementations = primitives.all.map(\.implementation)
        // oneDNN 2.6's Winograd kernels are AVX-512's (the CPUs whose channel block is 16).
        let expectWinograd = winogradAvailable
        #expect(winogradAvailable == (ChannelBlock.size == 16))
        #expect(implementations.allSatisfy { $0.contains("wino") == expectWinograd }, "\(implementations)")
        let winograd = pass(winograd: true), direct = pass(winograd: false)
        for (name, (a, b)) in zip(["output", "input gradient", "weight gradient"], zip(winograd, direct)) {
            let scale = b.map(abs).max()!
            #expect(maxDifference(a, b) <= 1e-5 * scale, "\(name)")
        }
        if expectWinograd { #expect(winograd[0] != direct[0], "the two algorithms round differently") }
    }

    /// Direct by default: the opt-in is what changes the kernels.
    @Test func directUnlessAskedFor() {
        let primitives = ConvolutionPrimitives(input: [2, 16, 8, 40], weights: [32, 16, 3, 3], output: [2, 32, 8, 40],
                                               bias: false, settings: settings, training: true)
        #expect(primitives.all.allSatisfy { !$0.implementation.contains("wino") }, "\(primitives.all.map(\.implementation))")
    }

    /// Only training: inference keeps the direct kernels, and shapes Winograd does not take
    /// (stride 2, a channel count not a multiple of 16) run direct in training too.
    @Test func directElsewhere() {
        withWinograd(true) { directElsewhereWithWinogradAsked() }
    }

    func directElsewhereWithWinogradAsked() {
        let inference = ConvolutionPrimitives(input: [1, 16, 8, 40], weights: [32, 16, 3, 3], output: [1, 32, 8, 40],
                                              bias: false, settings: settings, training: false)
        #expect(!inference.forward.implementation.contains("wino"))
        let strided = ConvolutionPrimitives(input: [1, 16, 8, 40], weights: [32, 16, 3, 3], output: [1, 32, 8, 20],
                                            bias: false, settings: ConvolutionSettings(stride: Size2D(1, 2), padding: 1,
                                                                                       dilation: 1, transposed: false),
                                            training: true)
        #expect(strided.all.allSatisfy { !$0.implementation.contains("wino") })
        let narrow = ConvolutionPrimitives(input: [1, 8, 8, 40], weights: [16, 8, 3, 3], output: [1, 16, 8, 40],
                                           bias: false, settings: settings, training: true)
        #expect(narrow.all.allSatisfy { !$0.implementation.contains("wino") })
    }
}
