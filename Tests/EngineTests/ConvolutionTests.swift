import Testing
import CDNNL
@testable import Engine

@Suite struct ConvolutionTests {
    @Test func knownValues3x3() {
        // 1 image, 1 channel, 3x3 ones; kernel 2x2 [[1,2],[3,4]], padding 0 → 2x2 of 10 + bias 0.5.
        let x = Tensor(repeating: 1, shape: [1, 1, 3, 3])
        let w = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
        let y = conv2d(x, weight: w, bias: Tensor(shape: [1], scalars: [0.5]))
        #expect(y.shape == [1, 1, 2, 2])
        #expect(y.scalars == [10.5, 10.5, 10.5, 10.5])
        // Padding 1 on a 1x1 input: the output is the flipped-free kernel, read off-centre.
        let one = Tensor(shape: [1, 1, 1, 1], scalars: [2])
        let k = Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let z = conv2d(one, weight: k, padding: 1)
        #expect(z.scalars == [10])  // only the centre tap (5) sees the input
    }

    @Test(arguments: [(stride: (1, 1), padding: (1, 1), dilation: (1, 1), bias: true),
                      (stride: (1, 2), padding: (1, 1), dilation: (1, 1), bias: false),
                      (stride: (2, 1), padding: (0, 2), dilation: (2, 2), bias: true),
                      (stride: (1, 1), padding: (0, 0), dilation: (1, 1), bias: false)])
    func matchesNaiveLoop(stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), bias: Bool) {
        let xShape = [2, 5, 6, 8], wShape = [20, 5, 3, 3]
        let x = random(xShape, seed: 1), w = random(wShape, seed: 2), b = random([20], seed: 3)
        let y = conv2d(x, weight: w, bias: bias ? b : nil, stride: Size2D(stride.0, stride.1),
                       padding: Size2D(padding.0, padding.1), dilation: Size2D(dilation.0, dilation.1))
        let (expected, shape) = Reference.conv2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                 bias: bias ? b.scalars : nil, stride: stride, padding: padding,
                                                 dilation: dilation)
        #expect(y.shape == shape)
        #expect(maxDifference(y.scalars, expected) < 1e-4)
    }

    @Test func transposedKnownValues() {
        // 1x2 input [1, 2], kernel 1x3 [1, 10, 100], stride 2: output width (2-1)*2+3 = 5,
        // each input scatters its scaled kernel starting at 2*j.
        let x = Tensor(shape: [1, 1, 1, 2], scalars: [1, 2])
        let w = Tensor(shape: [1, 1, 1, 3], scalars: [1, 10, 100])
        let y = convTranspose2d(x, weight: w, stride: Size2D(1, 2))
        #expect(y.shape == [1, 1, 1, 5])
        #expect(y.scalars == [1, 10, 102, 20, 200])
    }

    @Test(arguments: [(cin: 16, cout: 8, stride: (1, 2), padding: (0, 1), k: (1, 4)),
                      (cin: 3, cout: 5, stride: (2, 2), padding: (1, 1), k: (3, 3))])
    func transposedMatchesNaiveLoop(cin: Int, cout: Int, stride: (Int, Int), padding: (Int, Int), k: (Int, Int)) {
        let xShape = [2, cin, 3, 8], wShape = [cin, cout, k.0, k.1]
        let x = random(xShape, seed: 4), w = random(wShape, seed: 5)
        let y = convTranspose2d(x, weight: w, stride: Size2D(stride.0, stride.1), padding: Size2D(padding.0, padding.1))
        let (expected, shape) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                          stride: stride, padding: padding)
        #expect(y.shape == shape)
        #expect(maxDifference(y.scalars, expected) < 1e-4)
    }

    /// A transposed convolution with a bias: the bias is added per channel (against the loop
    /// plus the bias), in a jit kernel, and oneDNN's deconvolution runs without one (2.6 adds a
    /// deconvolution's bias in a reference loop: DarkNet's decoder lost 250 ms per image to it).
    @Test func transposedBiasIsAddedInAJitKernel() {
        let xShape = [2, 32, 2, 16], wShape = [32, 16, 1, 4]
        let x = random(xShape, seed: 6), w = random(wShape, seed: 7), b = random([16], seed: 8)
        let y = withoutGradient { convTranspose2d(x, weight: w, bias: b, stride: Size2D(1, 2), padding: Size2D(0, 1)) }
        var (expected, shape) = Reference.convTranspose2d(x: x.scalars, xShape: xShape, w: w.scalars, wShape: wShape,
                                                          stride: (1, 2), padding: (0, 1))
        let plane = shape[2] * shape[3]
        for i in expected.indices { expected[i] += b.scalars[(i / plane) % 16] }
        #expect(y.shape == shape)
        #expect(maxDifference(y.scalars, expected) < 1e-4)
        let key = "conv|deconvs1x2p0x1d1x1|\(xShape)|[16, 32, 1, 4]|true|false|f32>f32"
        let primitives = DNNLContext.shared.cached(key) { () -> ConvolutionPrimitives in
            Issue.record("no cached primitives under \(key)")
            return ConvolutionPrimitives(input: xShape, weights: [16, 32, 1, 4], output: shape, bias: true,
                                         settings: ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, 1),
                                                                       dilation: 1, transposed: true), training: false)
        }
        #expect(primitives.forward.memoryDescriptor(dnnl_query_weights_md, 1).rank == 0, "the deconvolution takes no bias")
        let output = y.storage.descriptor
        let addition = DNNLContext.shared.cached("bias|\(output.key)|") { () -> Primitive in
            Issue.record("no bias addition cached for \(output.key)")
            return primitives.forward
        }
        #expect(addition.implementation.hasPrefix("jit"), "the bias is added in \(addition.implementation)")
    }
}
