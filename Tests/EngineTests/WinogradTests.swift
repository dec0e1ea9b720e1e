import Testing
@testable import Engine

/// Training's 3 x 3 stride-1 convolutions run oneDNN's Winograd kernels in the passes the task's
/// `Winograd` setting names (`ConvolutionAlgorithm`, `backward` or `always`), where oneDNN has
/// them, with the direct algorithm's results up to rounding. (`width`: `WidthWinogradTests`.)
@Suite struct WinogradTests {
    let settings = ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false)

    /// Forward, input gradient and weight gradient of one training pass.
    func pass(_ use: Winograd) -> [[Float]] {
        withWinograd(use) {
            let x = random([2, 16, 8, 40], seed: 31), w = random([32, 16, 3, 3], seed: 32)
            x.requiresGrad = true
            w.requiresGrad = true
            let y = conv2d(x, weight: w, padding: 1)
            y.backward(seed: random(y.shape, seed: 33))
            return [y.scalars, x.grad!.scalars, w.grad!.scalars]
        }
    }

    /// Which of the forward, backward-data and backward-weights primitives are Winograd's.
    func winogradPasses(_ use: Winograd) -> [Bool] {
        let primitives = withWinograd(use) {
            ConvolutionPrimitives(input: [2, 16, 8, 40], weights: [32, 16, 3, 3], output: [2, 32, 8, 40], bias: false,
                                  settings: settings, training: true)
        }
        return [primitives.forward, primitives.backwardData, primitives.backwardWeights].map { $0.implementation.contains("wino") }
    }

    @Test func thePassesEachSettingNames() {
        // oneDNN 2.6's Winograd kernels are AVX-512's (the CPUs whose channel block is 16).
        #expect(winogradAvailable == (ChannelBlock.size == 16))
        let here = winogradAvailable
        #expect(winogradPasses(.never) == [false, false, false])
        #expect(winogradPasses(.backward) == [false, here, here])
        #expect(winogradPasses(.always) == [here, here, here])
        // `width` runs oneDNN's in the backward passes where its own does not apply (fewer
        // than `WidthWinogradPass.minimumChannels` channels, as here).
        #expect(winogradPasses(.width) == [false, here, here])
    }

    @Test(arguments: [Winograd.backward, .always])
    func theDirectResultsUpToRounding(_ use: Winograd) {
        let winograd = pass(use), direct = pass(.never)
        for (name, (a, b)) in zip(["output", "input gradient", "weight gradient"], zip(winograd, direct)) {
            let scale = b.map(abs).max()!
            #expect(maxDifference(a, b) <= 1e-5 * scale, "\(name)")
        }
        #expect(winograd[0] == direct[0] || use == .always, "backward leaves the forward pass direct, bit for bit")
        if winogradAvailable { #expect(winograd[2] != direct[2], "the two algorithms round differently") }
    }

    /// Only training: inference keeps the direct kernels, and shapes Winograd does not take
    /// (stride 2, a channel count not a multiple of 16) run direct in training too.
    @Test func directElsewhere() {
        withWinograd(.always) {
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
}
