import CDNNL
import Random
import Testing
@testable import Engine

/// Plain loops with PyTorch's semantics, on row-major values.
private enum Loops {
    /// `torch.cat(dim: 1)` of `[N, C_i, H, W]` values.
    static func concatenateChannels(_ values: [[Float]], channels: [Int], batch: Int, plane: Int) -> [Float] {
        var out: [Float] = []
        for n in 0 ..< batch {
            for (v, c) in zip(values, channels) { out += v[(n * c * plane) ..< ((n + 1) * c * plane)] }
        }
        return out
    }

    /// `nn.AvgPool2d(k, s, p)` with `count_include_pad=True`, `ceil_mode=False`, and its input
    /// gradient for the output gradient `r`.
    static func averagePool(_ x: [Float], _ shape: [Int], kernel k: Size2D, stride s: Size2D, padding p: Size2D,
                            outputGradient r: [Float]? = nil) -> (y: [Float], shape: [Int], dx: [Float]) {
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let oh = (h + 2 * p.height - k.height) / s.height + 1, ow = (w + 2 * p.width - k.width) / s.width + 1
        let divisor = Double(k.height * k.width)
        var y = [Float](repeating: 0, count: n * c * oh * ow)
        var dx = [Double](repeating: 0, count: x.count)
        for plane in 0 ..< n * c { for i in 0 ..< oh { for j in 0 ..< ow {
            var total = 0.0
            let o = (plane * oh + i) * ow + j
            for u in 0 ..< k.height { for v in 0 ..< k.width {
                let ii = i * s.height - p.height + u, jj = j * s.width - p.width + v
                guard ii >= 0, ii < h, jj >= 0, jj < w else { continue }
                total += Double(x[(plane * h + ii) * w + jj])
                if let r { dx[(plane * h + ii) * w + jj] += Double(r[o]) / divisor }
            } }
            y[o] = Float(total / divisor)
        } } }
        return (y, [n, c, oh, ow], dx.map(Float.init))
    }

    /// `nn.PixelShuffle(r)`: `out[n, c, h r + i, w r + j] = in[n, c r² + i r + j, h, w]`.
    static func pixelShuffle(_ x: [Float], _ shape: [Int], _ r: Int) -> [Float] {
        let (n, c, h, w) = (shape[0], shape[1] / (r * r), shape[2], shape[3])
        var out = [Float](repeating: .nan, count: x.count)
        for b in 0 ..< n { for ch in 0 ..< c { for i in 0 ..< r { for j in 0 ..< r { for y in 0 ..< h { for z in 0 ..< w {
            let source = ((b * c * r * r + ch * r * r + i * r + j) * h + y) * w + z
            out[((b * c + ch) * h * r + y * r + i) * w * r + z * r + j] = x[source]
        } } } } } }
        return out
    }
}

/// How many elements of `a` and `b` differ (all of them when the counts differ); a short
/// failure message where comparing the arrays would print them whole.
private func differing(_ a: [Float], _ b: [Float]) -> Int {
    a.count == b.count ? zip(a, b).filter { $0 != $1 }.count : max(a.count, b.count)
}

/// The ops SalsaNext adds to the engine (channel concatenation, average pooling, pixel shuffle):
/// each against a plain loop with PyTorch's semantics, forward and backward, in plain and
/// blocked layouts, finite-difference gradient checks, and bf16 activations.
@Suite struct SalsaOpsTests {
    /// `t` in nChw8c (`dnnl_aBcd8b`), the AVX2 machines' activation layout, or nChw16c.
    func blocked(_ t: Tensor, by block: Int, type: ElementType = .f32) -> Tensor {
        t.inLayout(MemoryDescriptor(shape: t.shape, tag: block == 8 ? dnnl_aBcd8b : dnnl_aBcd16b, type: type))
    }

    // MARK: Concatenation

    @Test func concatenateMatchesTorchCat() {
        // Channel counts that are no whole blocks: a plain output.
        let shapes = [[2, 3, 4, 5], [2, 5, 4, 5], [2, 1, 4, 5]]
        let xs = shapes.enumerated().map { random($0.element, seed: UInt64(1 + $0.offset)) }
        let y = concatenate(xs, alongAxis: 1)
        #expect(y.shape == [2, 9, 4, 5])
        #expect(y.storage.descriptor == .plain([2, 9, 4, 5]))
        #expect(differing(y.scalars, Loops.concatenateChannels(xs.map(\.scalars), channels: [3, 5, 1], batch: 2, plane: 20)) == 0)
        // One input alone is itself.
        #expect(concatenate([xs[0]]) === xs[0])
    }

    @Test func concatenateOfBlockedInputsWritesTheBlockedLayout() {
        // nChw16c, nChw8c and plain inputs with whole blocks of channels: the output is in the
        // activations' blocked layout, no reorder to plain in between.
        let plain = [random([2, 16, 3, 5], seed: 4), random([2, 32, 3, 5], seed: 5), random([2, 16, 3, 5], seed: 6)]
        let inputs = [blocked(plain[0], by: 16), blocked(plain[1], by: 8), plain[2]]
        let y = concatenate(inputs, alongAxis: 1)
        #expect(y.shape == [2, 64, 3, 5])
        #expect(y.storage.descriptor == MemoryDescriptor.blocked([2, 64, 3, 5]))
        #expect(differing(y.scalars, Loops.concatenateChannels(plain.map(\.scalars), channels: [16, 32, 16], batch: 2, plane: 15)) == 0)
        // Blocked inputs whose channels pad their last block (20 and 12 in nChw16c): plain output.
        let padded = [random([1, 20, 2, 3], seed: 30), random([1, 12, 2, 3], seed: 31)]
        for t in padded { t.requiresGrad = true }
        let z = concatenate(padded.map { blocked($0, by: 16) }, alongAxis: 1)
        #expect(z.storage.descriptor == .plain([1, 32, 2, 3]))
        #expect(differing(z.scalars, Loops.concatenateChannels(padded.map(\.scalars), channels: [20, 12], batch: 1, plane: 6)) == 0)
        let seed = random(z.shape, seed: 32)
        z.backward(seed: seed)
        #expect(differing(padded[0].grad?.scalars ?? [], Array(seed.scalars[..<120])) == 0)
        #expect(differing(padded[1].grad?.scalars ?? [], Array(seed.scalars[120...])) == 0)
    }

    @Test func concatenateAlongOtherAxes() {
        let a = random([2, 3, 4], seed: 7), b = random([2, 3, 2], seed: 8)
        let y = concatenate([a, b], alongAxis: 2)
        #expect(y.shape == [2, 3, 6])
        var expected: [Float] = []
        let (av, bv) = (a.scalars, b.scalars)
        for row in 0 ..< 6 {
            expected += av[(row * 4) ..< (row * 4 + 4)]
            expected += bv[(row * 2) ..< (row * 2 + 2)]
        }
        #expect(differing(y.scalars, expected) == 0)
        let z = concatenate([a, random([1, 3, 4], seed: 9)], alongAxis: 0)
        #expect(z.shape == [3, 3, 4] && differing(Array(z.scalars.prefix(24)), a.scalars) == 0)
    }

    @Test func concatenateBackwardSplitsTheGradient() {
        // Plain and blocked outputs: each input's gradient is exactly its slice of the seed.
        for (shapes, block) in [([[2, 3, 2, 3], [2, 6, 2, 3]], 0), ([[2, 16, 2, 3], [2, 32, 2, 3], [2, 16, 2, 3]], 8)] {
            let xs = shapes.enumerated().map { random($0.element, seed: UInt64(10 + $0.offset)) }
            for x in xs { x.requiresGrad = true }
            let y = concatenate(xs.map { block == 0 ? $0 : blocked($0, by: block) }, alongAxis: 1)
            let seed = random(y.shape, seed: 20)
            y.backward(seed: seed)
            let plane = shapes[0][2] * shapes[0][3], total = y.shape[1]
            var offset = 0
            for (x, shape) in zip(xs, shapes) {
                var expected: [Float] = []
                for n in 0 ..< 2 {
                    expected += seed.scalars[((n * total + offset) * plane) ..< ((n * total + offset + shape[1]) * plane)]
                }
                #expect(differing(x.grad?.scalars ?? [], expected) == 0, "input with \(shape[1]) channels")
                offset += shape[1]
            }
        }
    }

    @Test func concatenateGradients() {
        checkGradients([random([2, 3, 2, 3], seed: 21), random([2, 2, 2, 3], seed: 22)]) { t in
            concatenate([t[0], t[1]], alongAxis: 1)
        }
        // The same input twice, and whole blocks through a convolution (blocked gradients).
        let w = random([48, 48, 1, 1], seed: 25, low: -0.3, high: 0.3)
        checkGradients([random([1, 16, 2, 3], seed: 23), random([1, 32, 2, 3], seed: 24)]) { t in
            conv2d(concatenate([blocked(t[0], by: 16), t[1]], alongAxis: 1), weight: w)
                + concatenate([t[0], t[0], t[0]], alongAxis: 1)
        }
        checkGradients([random([2, 3, 4], seed: 26), random([2, 3, 1], seed: 27)]) { t in concatenate(t, alongAxis: 2) }
    }

    // MARK: Average pooling

    /// SalsaNext's pooling (k 3, s 2, p 1) on even and odd sizes, and other geometries; the
    /// input plain, nChw8c, nChw16c, or with channels that pad a block.
    @Test(arguments: [
        ([2, 3, 8, 10], Size2D(3, 3), Size2D(2, 2), Size2D(1, 1), 0),
        ([2, 3, 7, 9], Size2D(3, 3), Size2D(2, 2), Size2D(1, 1), 0),
        ([1, 16, 6, 8], Size2D(3, 3), Size2D(2, 2), Size2D(1, 1), 16),
        ([2, 16, 5, 7], Size2D(3, 3), Size2D(2, 2), Size2D(1, 1), 8),
        ([1, 20, 6, 5], Size2D(3, 3), Size2D(2, 2), Size2D(1, 1), 16),
        ([2, 2, 5, 9], Size2D(2, 3), Size2D(1, 2), Size2D(1, 1), 0),
        ([1, 4, 6, 6], Size2D(2, 2), Size2D(2, 2), Size2D(0, 0), 0),
    ])
    func averagePoolMatchesTorch(shape: [Int], kernel: Size2D, stride: Size2D, padding: Size2D, block: Int) {
        let x = random(shape, seed: 30)
        x.requiresGrad = true
        let input = block == 0 ? x : blocked(x, by: block)
        let y = averagePool2d(input, kernel: kernel, stride: stride, padding: padding)
        let seed = random(y.shape, seed: 31)
        let reference = Loops.averagePool(x.scalars, shape, kernel: kernel, stride: stride, padding: padding,
                                         outputGradient: seed.scalars)
        #expect(y.shape == reference.shape)
        #expect(maxDifference(y.scalars, reference.y) < 1e-6)
        y.backward(seed: seed)
        #expect(maxDifference(x.grad!.scalars, reference.dx) < 1e-6)
    }

    @Test func averagePoolCountsThePaddingAsPyTorchDoes() {
        // Ones: count_include_pad divides every window by 9, so a corner (4 real values) is 4/9
        // and an edge 6/9; a 64 x 2048 scan becomes 32 x 1024 (SalsaNext's encoder).
        let y = averagePool2d(Tensor(repeating: 1, shape: [1, 1, 4, 4]), kernel: 3, stride: 2, padding: 1)
        #expect(y.shape == [1, 1, 2, 2])
        let v = y.scalars
        #expect(abs(v[0] - 4 / 9) < 1e-6 && abs(v[1] - 6 / 9) < 1e-6 && abs(v[2] - 6 / 9) < 1e-6 && abs(v[3] - 1) < 1e-6)
        let scan = averagePool2d(Tensor(zeros: [1, 16, 64, 2048]), kernel: 3, stride: 2, padding: 1)
        #expect(scan.shape == [1, 16, 32, 1024])
        // Odd sizes round down: 7 x 5 with k 3, s 2, p 1 gives 4 x 3.
        #expect(averagePool2d(Tensor(zeros: [1, 1, 7, 5]), kernel: 3, stride: 2, padding: 1).shape == [1, 1, 4, 3])
    }

    @Test func averagePoolGradients() {
        checkGradients([random([2, 3, 5, 6], seed: 32)]) { t in averagePool2d(t[0], kernel: 3, stride: 2, padding: 1) }
        checkGradients([random([1, 16, 4, 7], seed: 33)]) { t in
            averagePool2d(blocked(t[0], by: 8), kernel: Size2D(2, 3), stride: Size2D(1, 2), padding: Size2D(1, 1))
        }
    }

    // MARK: Pixel shuffle

    /// Plain inputs; blocked ones shuffled in place into the same blocked layout (nChw16c to 16
    /// output channels, nChw8c to 8); blocked ones that are not whole blocks after the shuffle
    /// (4 channels from nChw16c; r = 3, whose 9 does not divide a block) through plain.
    @Test(arguments: [([2, 8, 3, 4], 2, 0, false), ([1, 18, 2, 3], 3, 0, false), ([1, 3, 2, 2], 1, 0, false),
                      ([2, 64, 3, 5], 2, 16, true), ([1, 32, 2, 3], 2, 8, true), ([1, 128, 2, 2], 2, 8, true),
                      ([2, 16, 3, 2], 2, 16, false), ([1, 144, 2, 2], 3, 16, false), ([1, 16, 3, 3], 1, 16, true)])
    func pixelShuffleMatchesTorch(shape: [Int], r: Int, block: Int, staysBlocked: Bool) {
        let x = random(shape, seed: 40)
        x.requiresGrad = true
        let input = block == 0 ? x : blocked(x, by: block)
        let y = pixelShuffle(input, upscale: r)
        #expect(y.shape == [shape[0], shape[1] / (r * r), shape[2] * r, shape[3] * r])
        let layout = staysBlocked ? MemoryDescriptor(shape: y.shape, tag: block == 8 ? dnnl_aBcd8b : dnnl_aBcd16b)
            : MemoryDescriptor.plain(y.shape)
        #expect(y.storage.descriptor == layout, "output layout")
        #expect(differing(y.scalars, Loops.pixelShuffle(x.scalars, shape, r)) == 0)
        // The backward is the inverse permutation: shuffling the gradient gives the seed back.
        let seed = random(y.shape, seed: 41)
        y.backward(seed: seed.inLayout(y.storage.descriptor))
        #expect(differing(Loops.pixelShuffle(x.grad!.scalars, shape, r), seed.scalars) == 0)
    }

    @Test func pixelShuffleOfALargeTensor() {
        // Past `SmallReorder.maximumElements`, so oneDNN's reorder runs the strided views.
        let shape = [1, 64, 32, 256]
        let x = random(shape, seed: 42)
        #expect(x.scalarCount > SmallReorder.maximumElements)
        let expected = Loops.pixelShuffle(x.scalars, shape, 2)
        #expect(differing(pixelShuffle(blocked(x, by: 16), upscale: 2).scalars, expected) == 0)
        #expect(differing(pixelShuffle(blocked(x, by: 8), upscale: 2).scalars, expected) == 0)
        #expect(differing(pixelShuffle(x, upscale: 2).scalars, expected) == 0)
    }

    @Test func pixelShuffleGradients() {
        checkGradients([random([2, 8, 2, 3], seed: 43)]) { t in pixelShuffle(t[0], upscale: 2) }
        checkGradients([random([1, 32, 2, 2], seed: 44)]) { t in pixelShuffle(blocked(t[0], by: 16), upscale: 2) * t[0].reshaped([1, 8, 4, 4]) }
    }

    // MARK: SalsaNext's patterns together

    @Test func upBlockPattern() {
        // A decoder stage: pixel shuffle, concatenation with a skip, convolution; and an encoder's
        // pooling after a convolution. Finite differences through blocked layouts.
        let w = random([16, 32, 3, 3], seed: 52, low: -0.2, high: 0.2)
        checkGradients([random([1, 64, 2, 3], seed: 50), random([1, 16, 4, 6], seed: 51)]) { t in
            let up = pixelShuffle(t[0], upscale: 2)
            let joined = concatenate([up, t[1] * 0.5], alongAxis: 1)
            return averagePool2d(conv2d(joined, weight: w, padding: 1), kernel: 3, stride: 2, padding: 1)
        }
    }

    @Test func layers() {
        let pool = AvgPool2d(kernel: 3, stride: 2, padding: 1)
        let shuffle = PixelShuffle(upscale: 2)
        #expect(pool.namedParameters().isEmpty && shuffle.namedParameters().isEmpty)
        #expect(AvgPool2d(kernel: Size2D(2, 3)).stride == Size2D(2, 3))  // PyTorch: stride defaults to the kernel
        let x = random([2, 8, 6, 10], seed: 60)
        #expect(differing(pool(x).scalars, averagePool2d(x, kernel: 3, stride: 2, padding: 1).scalars) == 0)
        #expect(differing(shuffle(x).scalars, Loops.pixelShuffle(x.scalars, x.shape, 2)) == 0)
        #expect(shuffle(x).shape == [2, 2, 12, 20])
    }

    // MARK: bf16 activations

    static let bf16Runs = BF16Support.thisCPU != .unavailable

    @Test(.enabled(if: bf16Runs, "bf16 tensors need AVX-512")) func bfloat16Activations() {
        withPrecision(.bf16) {
            let a = random([2, 16, 4, 6], seed: 70), b = random([2, 48, 4, 6], seed: 71)
            for t in [a, b] { t.requiresGrad = true }
            let a16 = blocked(a, by: ChannelBlock.size, type: .bf16), b16 = blocked(b, by: ChannelBlock.size, type: .bf16)
            let rounded = { (t: Tensor) in t.scalars.map(BFloat16.rounded) }
            // Concatenation and pixel shuffle only move values: bf16 in, the same bf16 out.
            let joined = concatenate([a16, b16], alongAxis: 1)
            #expect(joined.elementType == .bf16)
            #expect(joined.storage.descriptor == MemoryDescriptor.blocked([2, 64, 4, 6], type: .bf16))
            #expect(differing(joined.scalars, Loops.concatenateChannels([rounded(a), rounded(b)], channels: [16, 48], batch: 2, plane: 24)) == 0)
            let up = pixelShuffle(joined, upscale: 2)
            #expect(up.storage.descriptor == MemoryDescriptor.blocked(up.shape, type: .bf16), "shuffled in place")
            #expect(differing(up.scalars, Loops.pixelShuffle(joined.scalars, joined.shape, 2)) == 0)
            // Pooling in bf16: within bf16 rounding of the loop on the rounded values.
            let pooled = averagePool2d(up, kernel: 3, stride: 2, padding: 1)
            #expect(pooled.elementType == .bf16)
            let reference = Loops.averagePool(up.scalars, up.shape, kernel: 3, stride: 2, padding: 1)
            #expect(pooled.shape == reference.shape)
            #expect(maxDifference(pooled.scalars, reference.y) < 8e-3)
            #expect(pooled.scalars != reference.y, "bf16 pooling gave float32 values bit for bit")
            // Mixed element types promote to float32, as autocast does for torch.cat.
            let mixed = concatenate([a16, b], alongAxis: 1)
            #expect(mixed.elementType == .f32)
            #expect(differing(mixed.scalars, Loops.concatenateChannels([rounded(a), b.scalars], channels: [16, 48], batch: 2, plane: 24)) == 0)
            // The backward of the chain, against the loops (bf16 gradients).
            let seed = random(pooled.shape, seed: 72)
            pooled.backward(seed: seed)
            let dUp = Loops.averagePool(up.scalars, up.shape, kernel: 3, stride: 2, padding: 1,
                                       outputGradient: seed.scalars.map(BFloat16.rounded)).dx
            // Inverse shuffle of dUp: shuffle is a permutation, so find each source index.
            let index = Loops.pixelShuffle((0 ..< joined.scalarCount).map(Float.init), joined.shape, 2)
            var dJoined = [Float](repeating: 0, count: joined.scalarCount)
            for (k, i) in index.enumerated() { dJoined[Int(i)] = dUp[k] }
            var expectedA: [Float] = [], expectedB: [Float] = []
            for n in 0 ..< 2 {
                let sample = n * 64 * 24, split = sample + 16 * 24, next = sample + 64 * 24
                expectedA += dJoined[sample ..< split]
                expectedB += dJoined[split ..< next]
            }
            #expect(maxDifference(a.grad!.scalars, expectedA) < 8e-3)
            #expect(maxDifference(b.grad!.scalars, expectedB) < 8e-3)
            #expect(a.grad!.scalars.contains { $0 != 0 } && b.grad!.scalars.contains { $0 != 0 })
        }
    }
}
