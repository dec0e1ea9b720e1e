import CKernels
import Testing
@testable import Engine

/// `Winograd.width`: convolutions with a kernel 3 wide at width stride 1 and padding 1 run as a
/// one-dimensional Winograd F(4, 3) along the width (`WidthWinogradPass`), in all three passes,
/// with the direct algorithm's results up to rounding, on every CPU.
@Suite struct WidthWinogradTests {
    /// Output, input gradient and weight gradient of one training pass, and whether the
    /// convolution ran on the width Winograd.
    func pass(_ use: Winograd, input: [Int], weights: [Int], stride: Size2D = 1, padding: Size2D = 1,
              dilation: Size2D = 1, type: ElementType = .f32) -> (results: [[Float]], winograd: Bool) {
        withWinograd(use) {
            let x = random(input, seed: 41), w = random(weights, seed: 42)
            x.requiresGrad = true
            w.requiresGrad = true
            let y = conv2d(x, weight: w, stride: stride, padding: padding, dilation: dilation)
            y.backward(seed: random(y.shape, seed: 43))
            let settings = ConvolutionSettings(stride: stride, padding: padding, dilation: dilation, transposed: false)
            let primitives = ConvolutionPrimitives(input: input, weights: weights, output: y.shape, bias: false,
                                                   settings: settings, training: true, type: type, outputType: type)
            return ([y.scalars, x.grad!.scalars, w.grad!.scalars], primitives.widthWinograd != nil)
        }
    }

    func expectDirectResults(input: [Int], weights: [Int], stride: Size2D = 1, padding: Size2D = 1,
                             dilation: Size2D = 1, mustRun: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        let (winograd, ran) = pass(.width, input: input, weights: weights, stride: stride, padding: padding, dilation: dilation)
        let (direct, _) = pass(.never, input: input, weights: weights, stride: stride, padding: padding, dilation: dilation)
        #expect(ran || !mustRun, "the width Winograd applies to \(input) with weights \(weights)", sourceLocation: sourceLocation)
        guard ran else { return }
        for (name, (a, b)) in zip(["output", "input gradient", "weight gradient"], zip(winograd, direct)) {
            #expect(a.count == b.count, sourceLocation: sourceLocation)
            let scale = b.map(abs).max()!
            #expect(maxDifference(a, b) <= 1e-5 * scale, "\(name) of \(input)", sourceLocation: sourceLocation)
        }
        let differ = winograd[0] != direct[0]
        #expect(differ, "the algorithms round differently", sourceLocation: sourceLocation)
    }

    /// Widths that fill whole tiles and widths that leave 1, 2 or 3 outputs in the last tile,
    /// down to a single column.
    @Test(arguments: [40, 41, 42, 43, 5, 3, 2, 1])
    func theDirectResultsAtEveryWidth(_ width: Int) {
        expectDirectResults(input: [2, 32, 6, width], weights: [64, 32, 3, 3])
    }

    /// The height keeps its own kernel, stride, padding and dilation: a 1 x 3 kernel, a stride-2
    /// height, a dilated height with its padding.
    @Test func anyHeightSettings() {
        let c = WidthWinogradPass.minimumChannels
        // On AVX2, oneDNN 2.6 has no jit kernel for one of the grouped passes of each (a grouped
        // 1 x 1 convolution, a strided or dilated backward pass): there they run direct, which
        // `expectDirectResults` then checks no further.
        let avx512 = ChannelBlock.size == 16
        expectDirectResults(input: [1, c, 5, 24], weights: [c, c, 1, 3], padding: Size2D(0, 1), mustRun: avx512)
        expectDirectResults(input: [1, c, 9, 24], weights: [c, c, 3, 3], stride: Size2D(2, 1), mustRun: avx512)
        expectDirectResults(input: [1, c, 9, 24], weights: [c, c, 3, 3], padding: Size2D(2, 1), dilation: Size2D(2, 1),
                            mustRun: avx512)
    }

    /// What it does not take runs otherwise: a stride or dilation along the width, padding other
    /// than 1, channels not in whole blocks or fewer than the minimum, a bias, `never`, and
    /// oneDNN's own Winograd settings; bf16, `auto` and `mixed` it takes.
    @Test func directElsewhere() {
        let c = 32 + ChannelBlock.size / 2
        func runs(_ use: Winograd = .width, input: [Int] = [1, 32, 8, 40], weights: [Int] = [64, 32, 3, 3],
                  stride: Size2D = 1, padding: Size2D = 1, dilation: Size2D = 1, bias: Bool = false,
                  type: ElementType = .f32) -> Bool {
            let k = Size2D(weights[2], weights[3])
            let output = [input[0], weights[0],
                          (input[2] + 2 * padding.height - dilation.height * (k.height - 1) - 1) / stride.height + 1,
                          (input[3] + 2 * padding.width - dilation.width * (k.width - 1) - 1) / stride.width + 1]
            return withWinograd(use) {
                ConvolutionPrimitives(input: input, weights: weights, output: output, bias: bias,
                                      settings: ConvolutionSettings(stride: stride, padding: padding, dilation: dilation,
                                                                    transposed: false),
                                      training: true, type: type, outputType: type).widthWinograd != nil
            }
        }
        #expect(runs())
        #expect(!runs(stride: Size2D(1, 2)))
        #expect(!runs(padding: Size2D(1, 2), dilation: Size2D(1, 2)))
        #expect(!runs(padding: Size2D(1, 0)))
        #expect(!runs(input: [1, c, 8, 40], weights: [64, c, 3, 3]))
        #expect(!runs(weights: [c, 32, 3, 3]))
        #expect(!runs(input: [1, 16, 8, 40], weights: [64, 16, 3, 3]), "fewer channels than the minimum")
        #expect(!runs(weights: [64, 32, 3, 5], padding: Size2D(1, 2)))
        #expect(!runs(bias: true))
        for use in [Winograd.never, .backward, .always] { #expect(!runs(use)) }
        #expect(runs(.auto) && runs(.mixed))
        if BF16Support.thisCPU != .unavailable { // (oneDNN has bf16 convolutions on AVX-512 only)
            #expect(runs(type: .bf16) && runs(.auto, type: .bf16), "bf16 too, and by default in training")
            for use in [Winograd.never, .backward, .always] { #expect(!runs(use, type: .bf16)) }
        }
    }

    /// The default in training, outside any `withWinograd`: in all three passes where oneDNN has
    /// no Winograd kernels (AVX2), in the forward pass where it has them (AVX-512, `mixed`); and
    /// `width` asked for on any CPU.
    @Test func isTheTrainingDefault() {
        let primitives = ConvolutionPrimitives(input: [1, 32, 8, 40], weights: [32, 32, 3, 3], output: [1, 32, 8, 40],
                                               bias: false, settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1,
                                                                                          transposed: false),
                                               training: true)
        #expect(primitives.widthWinograd != nil && primitives.widthWinogradForwardOnly == winogradAvailable)
        let asked = withWinograd(.width) {
            ConvolutionPrimitives(input: [1, 32, 8, 40], weights: [32, 32, 3, 3], output: [1, 32, 8, 40], bias: false,
                                  settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false),
                                  training: true)
        }
        #expect(asked.widthWinograd != nil)
        #expect(asked.widthWinograd!.all.allSatisfy { $0.implementation.hasPrefix("jit") })
    }

    /// `mixed`: the width's F(4, 3) in the forward pass and oneDNN's Winograd kernels in both
    /// backward passes where it has them (AVX-512), its output the width's bit for bit and its
    /// gradients oneDNN's `backward`'s; elsewhere it is `width`, bit for bit.
    @Test func mixedRunsTheWidthForwardAndOneDNNsBackward() {
        let input = [2, 32, 6, 41], weights = [64, 32, 3, 3]
        let (mixed, ran) = pass(.mixed, input: input, weights: weights)
        let (width, _) = pass(.width, input: input, weights: weights)
        let (backward, _) = pass(.backward, input: input, weights: weights)
        let (direct, _) = pass(.never, input: input, weights: weights)
        #expect(ran)
        let primitives = withWinograd(.mixed) {
            ConvolutionPrimitives(input: input, weights: weights, output: [2, 64, 6, 41], bias: false,
                                  settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false),
                                  training: true)
        }
        #expect(mixed[0] == width[0], "the forward pass is the width's")
        if winogradAvailable {
            #expect(primitives.widthWinogradForwardOnly)
            #expect(primitives.backwardData.implementation.contains("wino") && primitives.backwardWeights.implementation.contains("wino"))
            // The backward passes are oneDNN's, on the output gradient alone (the same seed).
            #expect(mixed[1] == backward[1] && mixed[2] == backward[2], "the gradients are backward's")
        } else {
            #expect(!primitives.widthWinogradForwardOnly)
            #expect(mixed == width, "without oneDNN's kernels it is width, bit for bit")
        }
        for k in 0 ..< 3 {
            let scale = direct[k].map(abs).max()!
            #expect(maxDifference(mixed[k], direct[k]) <= 1e-5 * scale)
        }
    }

    /// Inference runs F(4, 3) along the width by default on every CPU; `backward` (training's
    /// backward passes only) leaves it direct, and has primitives of its own in the cache.
    @Test func isTheInferenceDefaultOnEveryCPU() {
        func primitives(_ use: Winograd?) -> ConvolutionPrimitives {
            let make = {
                ConvolutionPrimitives(input: [1, 32, 8, 40], weights: [32, 32, 3, 3], output: [1, 32, 8, 40], bias: true,
                                      settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1, transposed: false),
                                      training: false, postOps: PostOps(leakySlope: 0.1, addends: 0, output: [1, 32, 8, 40]))
            }
            return use.map { withWinograd($0, make) } ?? make()
        }
        #expect(primitives(nil).widthWinograd != nil && primitives(.auto).widthWinograd != nil)
        #expect(primitives(.backward).widthWinograd == nil && primitives(.never).widthWinograd == nil)
        #expect(Winograd.auto.forInferenceOnThisCPU == .width && Winograd.backward.forInferenceOnThisCPU == .backward)
        let suffix = { (use: Winograd) in withWinograd(use) { ConvolutionAlgorithm.cacheKeySuffix(training: false, type: .f32) } }
        #expect(suffix(.auto) == "" && suffix(.width) == "" && suffix(.backward) != "" && suffix(.never) != "")
    }

    /// Inference's fused convolutions (batch norm folded into a bias, a leaky ReLU, a residual and
    /// a skip addend) run the same way, their post-ops applied after the output's transform.
    @Test(arguments: [0, 1, 2])
    func inferenceFusionAppliesBiasLeakyReLUAndAddends(_ addendCount: Int) {
        let c = WidthWinogradPass.minimumChannels
        let shape = [1, c, 6, 41]
        let x = random(shape, seed: 51), w = random([c, c, 3, 3], seed: 52), b = random([c], seed: 53)
        let addends = (0 ..< addendCount).map { random(shape, seed: 54 + UInt64($0)) }
        func run(_ use: Winograd) -> (values: [Float], winograd: Bool) {
            withWinograd(use) {
                let cache = InferenceCache()
                let y = fusedConvolutionForInference(x, layer: cache, weightShape: w.shape, transposed: false, stride: 1,
                                                     padding: 1, dilation: 1, leakySlope: 0.1, addends: addends,
                                                     versions: [0], cache: cache, fold: { (w, b) })
                let postOps = PostOps(leakySlope: 0.1, addends: addendCount, output: shape)
                let primitives = ConvolutionPrimitives(input: shape, weights: w.shape, output: shape, bias: true,
                                                       settings: ConvolutionSettings(stride: 1, padding: 1, dilation: 1,
                                                                                     transposed: false),
                                                       training: false, postOps: postOps)
                return (y.scalars, primitives.widthWinograd != nil)
            }
        }
        let (winograd, ran) = run(.width), (direct, _) = run(.never)
        #expect(ran)
        let scale = direct.map(abs).max()!
        #expect(maxDifference(winograd, direct) <= 1e-5 * scale)
        let differ = winograd != direct
        #expect(differ, "the algorithms round differently")
    }

    /// Whether oneDNN has no jit kernel for a width-doubling transposed convolution on this CPU
    /// (AVX2: it would run as two phases), where the upsampling form takes it.
    static let upsamplingRuns = withWinograd(.never) {
        ConvolutionPrimitives(input: [1, 64, 4, 20], weights: [32, 64, 1, 4], output: [1, 32, 4, 40], bias: false,
                              settings: ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, 1), dilation: 1,
                                                            transposed: true),
                              training: false).polyphaseForward != nil
    }

    /// Inference's width-doubling transposed convolutions (1 x 4, stride 1 x 2, padding 0 x 1: the
    /// decoders' upsampling) run F(4, 3) with both output parities as channels where oneDNN has
    /// no jit kernel for them (AVX2), with the direct results up to rounding, their folded bias
    /// and leaky ReLU after the interleaving output transform: widths that fill whole tiles, leave
    /// part of the last one, or are one column. Elsewhere they keep oneDNN's kernels.
    @Test(arguments: [64, 41, 42, 43, 7, 2, 1])
    func upsamplingRunsInferencesTransposedConvolutions(_ width: Int) {
        let c = WidthWinogradPass.minimumChannels
        let input = [1, 2 * c, 3, width], output = [1, c, 3, 2 * width]
        let x = random(input, seed: 81), w = random([2 * c, c, 1, 4], seed: 82), b = random([c], seed: 83)
        let settings = ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, 1), dilation: 1, transposed: true)
        func run(_ use: Winograd) -> (values: [Float], form: WidthWinogradPass.Form?) {
            withWinograd(use) {
                let cache = InferenceCache()
                let y = fusedConvolutionForInference(x, layer: cache, weightShape: w.shape, transposed: true,
                                                     stride: Size2D(1, 2), padding: Size2D(0, 1), dilation: 1,
                                                     leakySlope: 0.1, versions: [0], cache: cache, fold: { (w, b) })
                #expect(y.shape == output)
                let primitives = ConvolutionPrimitives(input: input, weights: [c, 2 * c, 1, 4], output: output, bias: true,
                                                       forwardBias: false, settings: settings, training: false)
                return (y.scalars, primitives.widthWinograd?.form)
            }
        }
        let (winograd, form) = run(.width), (direct, directForm) = run(.never)
        #expect(form == (Self.upsamplingRuns ? .upsampling : nil) && directForm == nil)
        let scale = direct.map(abs).max()!
        #expect(maxDifference(winograd, direct) <= 1e-5 * scale, "width \(width)")
        let differ = winograd != direct
        #expect(differ == Self.upsamplingRuns, "the algorithms round differently")
    }

    /// The upsampling form is inference's alone (training's transposed convolutions keep their own
    /// passes), and only for that kernel, stride and padding.
    @Test func upsamplingIsInferencesOnly() {
        func form(training: Bool, kernel: Int = 4, padding: Int = 1) -> WidthWinogradPass.Form? {
            let input = [1, 64, 4, 20]
            let output = [1, 32, 4, (20 - 1) * 2 - 2 * padding + kernel]
            let settings = ConvolutionSettings(stride: Size2D(1, 2), padding: Size2D(0, padding), dilation: 1, transposed: true)
            return ConvolutionPrimitives(input: input, weights: [32, 64, 1, kernel], output: output, bias: false,
                                         settings: settings, training: training).widthWinograd?.form
        }
        #expect(form(training: false) == (Self.upsamplingRuns ? .upsampling : nil))
        #expect(form(training: true) == nil)
        #expect(form(training: false, kernel: 2, padding: 0) == nil)
        #expect(form(training: false, padding: 0) == nil)
    }

    /// The upsampling form's bf16 output transform is its float32 one, rounded once at the end,
    /// bit for bit, on every CPU; every output written.
    @Test(arguments: [8, 16])
    func upsamplingBf16OutputRoundsTheFloat32OneOnce(_ block: Int32) {
        let (n, c, h, w) = (2, 2 * Int(block), 3, 13)
        let tiles = (w + 3) / 4
        let wide = n * c * h * 2 * w, tiled = n * 6 * 2 * c * h * tiles
        let m = random([tiled], seed: 91, low: -4, high: 4).scalars
        let bias = random([c], seed: 92).scalars
        var yf = [Float](repeating: .nan, count: wide), yb = [UInt16](repeating: 0, count: wide)
        bias.withUnsafeBufferPointer { b in
            var after = rs_winograd_epilogue(bias: b.baseAddress, leaky: 1, slope: 0.1, addend0: nil, addend1: nil)
            #expect(rs_winograd_up2_output_fused(m, Int64(n), Int64(c), Int64(h), Int64(w), block, 0, &after, &yf) == 1)
            #expect(rs_winograd_up2_output_fused(m, Int64(n), Int64(c), Int64(h), Int64(w), block, 1, &after, &yb) == 1)
        }
        #expect(!yf.contains { $0.isNaN }, "every output written")
        #expect(yf.map(BFloat16.bits) == yb, "the float32 transform, rounded")
    }

    /// The C transforms, row by row, against their matrices: the input's transpose is the
    /// input gradient's transform and the output's transpose the output gradient's, so
    /// <Bᵀ d, e> = <d, B e> and <Aᵀ m, g> = <m, A g> for random vectors.
    @Test(arguments: [8, 16])
    func transformsAreEachOthersTransposes(_ block: Int32) {
        let (n, c, h, w) = (1, Int(block), 2, 11)
        let tiles = (w + 3) / 4
        let wide = n * c * h * w, tiled = n * 6 * c * h * tiles
        let d = random([wide], seed: 7).scalars, e = random([tiled], seed: 8).scalars
        var bd = [Float](repeating: .nan, count: tiled), be = [Float](repeating: .nan, count: wide)
        #expect(rs_winograd_input(d, Int64(n), Int64(c), Int64(h), Int64(w), block, 0, &bd) == 1)
        #expect(rs_winograd_input_gradient(e, Int64(n), Int64(c), Int64(h), Int64(w), block, 0, &be) == 1)
        #expect(!bd.contains { $0.isNaN } && !be.contains { $0.isNaN }, "every element written")
        let left = zip(bd, e).reduce(0.0) { $0 + Double($1.0 * $1.1) }, right = zip(d, be).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(left - right) <= 1e-4 * abs(left) + 1e-4)

        var am = [Float](repeating: .nan, count: wide), ag = [Float](repeating: .nan, count: tiled)
        #expect(rs_winograd_output(e, Int64(n), Int64(c), Int64(h), Int64(w), block, 0, &am) == 1)
        #expect(rs_winograd_output_gradient(d, Int64(n), Int64(c), Int64(h), Int64(w), block, 0, &ag) == 1)
        let left2 = zip(am, d).reduce(0.0) { $0 + Double($1.0 * $1.1) }, right2 = zip(e, ag).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(left2 - right2) <= 1e-4 * abs(left2) + 1e-4)
        // Unsupported blocks and channel counts are refused, not half-done.
        #expect(rs_winograd_input(d, 1, Int64(c) + 1, Int64(h), Int64(w), block, 0, &bd) == 0)
        #expect(rs_winograd_output(e, 1, Int64(c), Int64(h), Int64(w), 4, 0, &am) == 0)
    }

    /// The bf16 transforms are the float32 ones on the widened bfloat16 elements, rounded once
    /// at the end (to nearest even), the output's addends added before that rounding: bit for
    /// bit, on every CPU (the transforms are C).
    @Test(arguments: [8, 16])
    func bf16TransformsRoundTheFloat32OnesOnce(_ block: Int32) {
        let (n, c, h, w) = (2, 2 * Int(block), 3, 13)
        let tiles = (w + 3) / 4
        let wide = n * c * h * w, tiled = n * 6 * c * h * tiles
        let dims = (Int64(n), Int64(c), Int64(h), Int64(w))
        // bfloat16 inputs (and their exact float values), float32 products.
        let dBits = random([wide], seed: 17, low: -4, high: 4).scalars.map(BFloat16.bits)
        let d = dBits.map(BFloat16.float)
        let m = random([tiled], seed: 18, low: -4, high: 4).scalars
        let addends = (0 ..< 2).map { random([wide], seed: 19 + UInt64($0)).scalars.map(BFloat16.bits) }
        let bias = random([c], seed: 21).scalars

        func expectRounded(_ float: [Float], _ bits: [UInt16], _ what: String) {
            #expect(float.map(BFloat16.bits) == bits, "\(what): the float32 transform, rounded")
        }
        var vf = [Float](repeating: 0, count: tiled), vb = [UInt16](repeating: 0, count: tiled)
        #expect(rs_winograd_input(d, dims.0, dims.1, dims.2, dims.3, block, 0, &vf) == 1)
        #expect(rs_winograd_input(dBits, dims.0, dims.1, dims.2, dims.3, block, 1, &vb) == 1)
        expectRounded(vf, vb, "input")
        var gf = [Float](repeating: 0, count: tiled), gb = [UInt16](repeating: 0, count: tiled)
        #expect(rs_winograd_output_gradient(d, dims.0, dims.1, dims.2, dims.3, block, 0, &gf) == 1)
        #expect(rs_winograd_output_gradient(dBits, dims.0, dims.1, dims.2, dims.3, block, 1, &gb) == 1)
        expectRounded(gf, gb, "output gradient")
        var xf = [Float](repeating: 0, count: wide), xb = [UInt16](repeating: 0, count: wide)
        #expect(rs_winograd_input_gradient(m, dims.0, dims.1, dims.2, dims.3, block, 0, &xf) == 1)
        #expect(rs_winograd_input_gradient(m, dims.0, dims.1, dims.2, dims.3, block, 1, &xb) == 1)
        expectRounded(xf, xb, "input gradient")

        let floatAddends = addends.map { $0.map(BFloat16.float) }
        var yf = [Float](repeating: 0, count: wide), yb = [UInt16](repeating: 0, count: wide)
        bias.withUnsafeBufferPointer { b in
            floatAddends[0].withUnsafeBytes { f0 in floatAddends[1].withUnsafeBytes { f1 in
                addends[0].withUnsafeBytes { b0 in addends[1].withUnsafeBytes { b1 in
                    var floats = rs_winograd_epilogue(bias: b.baseAddress, leaky: 1, slope: 0.1, addend0: f0.baseAddress,
                                                      addend1: f1.baseAddress)
                    var halves = rs_winograd_epilogue(bias: b.baseAddress, leaky: 1, slope: 0.1, addend0: b0.baseAddress,
                                                      addend1: b1.baseAddress)
                    #expect(rs_winograd_output_fused(m, dims.0, dims.1, dims.2, dims.3, block, 0, &floats, &yf) == 1)
                    #expect(rs_winograd_output_fused(m, dims.0, dims.1, dims.2, dims.3, block, 1, &halves, &yb) == 1)
                }}
            }}
        }
        expectRounded(yf, yb, "fused output")
        #expect(Set(yb).count > wide / 2, "the outputs were written")
    }

    /// Under bf16, where oneDNN has bf16 kernels (AVX-512), the width Winograd runs in all three
    /// passes, by default in training too (oneDNN has no bf16 Winograd of its own), and its
    /// error against float32 stays within four times that of the direct bf16 kernels (2.7-2.9 times
    /// on the Intel Xeon, 2026-12-04: F(4, 3) rounds the transformed input and weights to bfloat16 too).
    @Test(.enabled(if: BF16Support.thisCPU != .unavailable, "no bf16 kernels without AVX-512"),
          arguments: [41, 64])
    func bf16RunsWithinFourTimesTheDirectKernelsError(_ width: Int) {
        let input = [2, 64, 6, width], weights = [64, 64, 3, 3]
        func pass(_ use: Winograd, _ precision: Precision) -> (results: [[Float]], winograd: Bool) {
            withPrecision(precision) { self.pass(use, input: input, weights: weights, type: precision.elementType) }
        }
        let (exact, _) = pass(.never, .fp32)
        let (direct, directRan) = pass(.never, .bf16)
        let (winograd, ran) = pass(.width, .bf16)
        let (auto, autoRan) = pass(.auto, .bf16)
        #expect(ran && autoRan && !directRan)
        #expect(auto == winograd, "auto runs the width Winograd in bf16 training, bit for bit")
        func error(_ a: [Float], _ b: [Float]) -> Double {
            var d = 0.0, n = 0.0
            for (x, y) in zip(a, b) { d += Double(x - y) * Double(x - y); n += Double(x) * Double(x) }
            return (d / n).squareRoot()
        }
        for (k, name) in ["output", "input gradient", "weight gradient"].enumerated() {
            let w = error(exact[k], winograd[k]), e = error(exact[k], direct[k])
            #expect(w <= 4 * e && w < 1.5e-2, "\(name): relative error \(w) against the direct bf16 kernels' \(e)")
            #expect(w > 0 && winograd[k] != direct[k], "\(name) ran in bf16, on its own arithmetic")
        }
    }
}
