import CDNNL
import Random
import Testing
@testable import Engine

/// Passes that write at stride 2 along the width, run as two stride-1 phases
/// (`WidthPolyphasePass`): the same values as the reference loops, on every CPU, and in
/// RangeNet-lite's strided passes no plain-layout gemm where the phases apply.
@Suite struct WidthPolyphaseTests {
    /// RangeNet-lite's decoder upsampling, `ConvTranspose2d(kernel 1x4, stride 1x2, padding 0x1)`,
    /// and a 3x4 kernel with height padding, straight through the pass on any CPU.
    @Test func transposedConvolutionPhasesMatchTheLoop() throws {
        for (cin, cout, kh, ph) in [(32, 16, 1, 0), (16, 16, 1, 0), (16, 32, 3, 1)] {
            let xShape = [2, cin, 3, 40], wShape = [cin, cout, kh, 4]
            let x = random(xShape, seed: 1), w = random(wShape, seed: 2)
            let (expected, shape) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                              stride: (1, 2), padding: (ph, 1))
            let pass = try #require(WidthPolyphasePass(input: xShape, output: shape, weights: [cout, cin, kh, 4],
                                                       heightPadding: (Int64(ph), Int64(ph)), widthPadding: 1,
                                                       type: .f32, outputType: .f32))
            #expect(pass.implementation.split(separator: "+").allSatisfy { $0.hasPrefix("jit") }, "\(pass.implementation)")
            let out = Storage(pass.output)
            let userWeights = Storage(viewing: w.plainStorage, as: MemoryDescriptor(shape: [cout, cin, kh, 4], tag: dnnl_iohw))
            pass.run(x.storage(in: pass.input), weights: pass.weights(from: userWeights), into: out)
            let y = Tensor(shape: shape, storage: out).scalars
            #expect(maxDifference(y, expected) < 1e-4, "\(cin) -> \(cout), kernel \(kh)x4")
        }
    }

    /// Both passes through the public functions: a stride-1x2 transposed convolution's forward
    /// and a stride-1x2 convolution's backward data, against the loops, with the kernel that
    /// runs them a jit one (oneDNN's own, the channel-padded pass, the phases, or in inference
    /// where the phases would run the width's F(4, 3)).
    @Test func stridedPassesThroughTheLayersMatchTheLoops() {
        for (cin, cout) in [(64, 32), (16, 16)] {
            let xShape = [2, cin, 2, 64], wShape = [cin, cout, 1, 4]
            let x = random(xShape, seed: 3), w = random(wShape, seed: 4)
            let y = withoutGradient { convTranspose2d(x, weight: w, stride: Size2D(1, 2), padding: Size2D(0, 1)) }
            let (expected, _) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                          stride: (1, 2), padding: (0, 1))
            #expect(maxDifference(y.scalars, expected) < 1e-4)
            let key = "conv|deconvs1x2p0x1d1x1|\(xShape)|[\(cout), \(cin), 1, 4]|false|false|f32>f32"
            let primitives = DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
                Issue.record("no cached primitives under \(key)")
                return ConvolutionPrimitives(input: xShape, weights: [cout, cin, 1, 4], output: y.shape, bias: false,
                                             settings: ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, 1),
                                                                           dilation: 1, transposed: true), training: false)
            }
            let kernel = primitives.widthWinograd?.forward.implementation ?? primitives.polyphaseForward?.implementation
                ?? primitives.paddedForward?.primitive.implementation ?? primitives.forward.implementation
            #expect(kernel.hasPrefix("jit"), "the transposed convolution \(cin) -> \(cout) runs in \(kernel)")
        }
        for (cin, cout) in [(32, 64), (16, 32)] {
            let primitives = checkStride1x2BackwardData(xShape: [2, cin, 3, 64], wShape: [cout, cin, 3, 3], seed: 5)
            let kernel = primitives.polyphaseBackwardData?.implementation ?? primitives.paddedBackwardData?.primitive.implementation
                ?? primitives.backwardData.implementation
            #expect(kernel.hasPrefix("jit"), "backward data of the convolution \(cin) -> \(cout) runs in \(kernel)")
        }
    }

    @Test func otherKernelsPaddingsAndOddWidths() throws {
        // (kernel width, padding, input width): odd output widths give phases of unequal width.
        var made = 0
        for (k, p, width) in [(3, 1, 9), (4, 1, 8), (5, 2, 7), (2, 0, 6), (5, 3, 5), (3, 0, 4)] {
            let xShape = [1, 16, 2, width], wShape = [16, 16, 1, k]
            let x = random(xShape, seed: 8), w = random(wShape, seed: 9)
            let (expected, shape) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                              stride: (1, 2), padding: (0, p))
            guard let pass = WidthPolyphasePass(input: xShape, output: shape, weights: [16, 16, 1, k], heightPadding: (0, 0),
                                                widthPadding: p, type: .f32, outputType: .f32) else { continue }
            made += 1
            let out = Storage(pass.output)
            let userWeights = Storage(viewing: w.plainStorage, as: MemoryDescriptor(shape: [16, 16, 1, k], tag: dnnl_iohw))
            pass.run(x.storage(in: pass.input), weights: pass.weights(from: userWeights), into: out)
            #expect(maxDifference(Tensor(shape: shape, storage: out).scalars, expected) < 1e-4, "kernel \(k), padding \(p), width \(width)")
        }
        #expect(made >= 4)
    }
}
