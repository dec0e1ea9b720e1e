import Random
import Testing
@testable import Engine

/// The strided passes that write 16 channels, which oneDNN 2.6 runs only as a plain-layout gemm,
/// run padded to 32 channels one sample at a time (`ChannelPaddedPass`): same values as the
/// reference loops, and as the transposed/forward relation between the two.
@Suite struct ChannelPaddingTests {
    @Test func transposedConvolutionTo16ChannelsMatchesTheLoop() {
        // Input width 256: oneDNN 2.6 has no jit kernel for it (width 16 it has).
        for cin in [16, 32] {
            let xShape = [2, cin, 2, 256], wShape = [cin, 16, 1, 4]
            let x = random(xShape, seed: 1), w = random(wShape, seed: 2)
            let y = convTranspose2d(x, weight: w, stride: Size2D(1, 2), padding: Size2D(0, 1))
            let (expected, shape) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                              stride: (1, 2), padding: (0, 1))
            #expect(y.shape == shape)
            #expect(maxDifference(y.scalars, expected) < 1e-4)
            let key = "conv|deconvs1x2p0x1d1x1|\(xShape)|[16, \(cin), 1, 4]|false|false|f32>f32"
            let primitives = DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
                Issue.record("no cached primitives under \(key)")
                return ConvolutionPrimitives(input: xShape, weights: [16, cin, 1, 4], output: shape, bias: false,
                                             settings: ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, 1),
                                                                           dilation: 1, transposed: true), training: false)
            }
            // In a jit kernel: padded to 32 channels (AVX-512), as two stride-1 phases (AVX2, see
            // WidthPolyphaseTests), or oneDNN's own.
            let kernel = primitives.paddedForward?.primitive.implementation ?? primitives.polyphaseForward?.implementation
                ?? primitives.forward.implementation
            #expect(kernel.hasPrefix("jit"), "the transposed convolution \(cin) -> 16 runs in \(kernel)")
        }
    }

    @Test func stridedConvolutionFrom16ChannelsBackwardData() {
        // ∂/∂x of Σ R ⊙ conv(x, w) is the transposed convolution of R with w: check the padded
        // backward data against the reference transposed-convolution loop.
        // Input width 64: oneDNN 2.6 has no jit kernel for it (width 16 it has).
        for cout in [16, 32] {
            let primitives = checkStride1x2BackwardData(xShape: [2, 16, 2, 64], wShape: [cout, 16, 3, 3], seed: 3)
            let kernel = primitives.paddedBackwardData?.primitive.implementation ?? primitives.polyphaseBackwardData?.implementation
                ?? primitives.backwardData.implementation
            #expect(kernel.hasPrefix("jit"), "backward data of the convolution 16 -> \(cout) runs in \(kernel)")
        }
    }
}
