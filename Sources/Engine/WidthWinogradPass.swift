import CDNNL
import CKernels
import Foundation

/// A convolution whose kernel is 3 wide, at stride 1 and padding 1 along the width (any height,
/// stride, padding and dilation along the height), run as a one-dimensional Winograd F(4, 3)
/// along the width: each tile of four outputs comes from six inputs through six products, so the
/// convolution becomes six grouped convolutions with kernel kh x 1 on tensors a quarter as wide,
/// between a transform of the input and one of the output (the matrices are in
/// `Sources/CKernels/winograd.c`). Half the multiply-adds of the direct convolution, in all three
/// passes; the transforms are memory passes in C.
///
/// Measured on an Intel Xeon (AVX-512) with `ONEDNN_MAX_CPU_ISA=AVX2` and without, 2 threads,
/// batch 2, 64 rows (oneDNN 2.6, all three passes together, 2026-12-04): 64 -> 128 channels at
/// width 128 took 56.9 ms direct and 32.9 ms as the grouped convolutions on AVX2, 29.5 and
/// 15.9 ms on AVX-512; 128 -> 256 at width 64 122 and 69 ms on AVX2.
///
/// Unlike the two-dimensional F(4x4, 3x3) (`Winograd.backward`, `.always`), whose forward pass
/// took DarkNet-53's gradients 17 x 1e-3 away from exact, the one-dimensional transforms use only
/// the points 0, ±1, ±2 and ∞ once: see `NetworkParityTests` for the errors it keeps.
///
/// Float32 or bf16; input and output channels multiples of the channel block. Under bf16 the
/// grouped convolutions read bf16 (the transformed input, the transformed output gradient) and
/// write float32 (the products, the transformed input gradient), so each transform rounds once,
/// at its end, like a direct bf16 convolution's output. Training's passes take no bias;
/// inference's forward pass takes a bias, a leaky ReLU and up to two addends after the output's
/// transform (`fusedConvolutionForInference`'s post-ops, in the same pass).
///
/// Inference's transposed convolutions that double the width (kernel 1 x 4, stride 1 x 2,
/// padding 0 x 1: the decoders' upsampling) run as the same F(4, 3) with twice the output
/// channels, `Form.upsampling`: each output column's parity is a 3-tap correlation of the input
/// with two of the four taps (see `Sources/CKernels/winograd.c`), so 1.5 products per output
/// where the direct kernels take 2, and the output's transform interleaves the two parities.
final class WidthWinogradPass {
    /// F(4, 3) for a convolution at width stride 1 (all passes), or for a width-doubling
    /// transposed convolution (inference's forward pass).
    enum Form: Sendable {
        case stride1, upsampling

        /// Output phases the grouped convolutions write as channels: the upsampling form's two
        /// parities, or one.
        var phases: Int { self == .upsampling ? 2 : 1 }
    }

    let form: Form
    /// The grouped convolutions over the six components.
    let forward: Primitive
    private let backward: (data: Primitive, weights: Primitive)?
    /// The convolution's input and output, channel-blocked, in its element type.
    let input: MemoryDescriptor
    let output: MemoryDescriptor
    /// The tiled input `[N, 6 C, H, T]` (the element type) and output `[N, 6 O, H', T]`
    /// (float32), T = ceil(W / 4).
    let tiledInput: MemoryDescriptor
    let tiledOutput: MemoryDescriptor
    /// The tiled output's gradient (the element type) and the input's (float32).
    private let tiledOutputGradient: MemoryDescriptor
    private let tiledInputGradient: MemoryDescriptor
    /// Whether the element type is bf16 (for the transforms).
    private let bf16: Int32
    /// The convolution's weights `[O, C, kh, 3]` (a transposed one's `[O, C, 1, 4]`) and the
    /// grouped ones `[6, O, C, kh, 1]` (`[6, 2 O, C, 1, 1]`).
    private let logicalWeights: [Int]
    private let groupedWeights: [Int]

    /// The tile's six components.
    static let components = 6

    /// `G`, the weights' transform (6 x 3): component ξ of a kernel row `g` is `Σ_k G[ξ][k] g[k]`.
    static let weightTransform: [[Float]] = [
        [1.0 / 4, 0, 0],
        [-1.0 / 6, -1.0 / 6, -1.0 / 6],
        [-1.0 / 6, 1.0 / 6, -1.0 / 6],
        [1.0 / 24, 1.0 / 12, 1.0 / 6],
        [1.0 / 24, -1.0 / 12, 1.0 / 6],
        [0, 0, 1],
    ]

    /// The fewest channels on either side for which the transforms pay: they move the input
    /// and output through memory twice more (about 6 ms for 64 -> 128 channels at 64 x 128, batch
    /// 2), while the arithmetic saved grows with the product of the channel counts. On AVX2
    /// (Intel Xeon, `ONEDNN_MAX_CPU_ISA=AVX2`, all passes) 8 -> 16 channels at width 2048 saved
    /// 7.4 ms of convolution for about as much transform, 16 -> 32 at width 512 6.4 ms, and
    /// 32 -> 64 at width 256 12.5 ms.
    static let minimumChannels = 32

    /// Whether a convolution with these settings can run this way, and in which form (and is
    /// asked to by nothing else: the caller also checks the setting). `weights` is `[O, C, kh, kw]`
    /// for transposed convolutions too.
    static func form(input: [Int], weights: [Int], output: [Int], stride: [Int], dilation: [Int],
                     padding: (left: [Int64], right: [Int64]), type: ElementType, transposed: Bool, bias: Bool,
                     postOps: PostOps?, training: Bool) -> Form? {
        let block = ChannelBlock.size
        let extras = training ? !bias && postOps == nil : postOps.map { !$0.channelAffine && $0.addends <= 2 } ?? true
        guard extras && (type == .f32 || type == .bf16) && dilation[1] == 1 && padding.left[1] == 1
            && input[1] % block == 0 && output[1] % block == 0 && min(input[1], output[1]) >= minimumChannels
        else { return nil }
        if !transposed && weights[3] == 3 && stride[1] == 1 && padding.right[1] == 1 && input[3] == output[3] {
            return .stride1
        }
        if transposed && !training && weights[2] == 1 && weights[3] == 4 && stride == [1, 2] && padding.left[0] == 0
            && output[2] == input[2] && output[3] == 2 * input[3] {
            return .upsampling
        }
        return nil
    }

    /// nil when oneDNN has no jit kernel for one of the grouped passes.
    init?(input: [Int], weights: [Int], output: [Int], strides: [Int64], dilates: [Int64], padL: [Int64],
          padR: [Int64], training: Bool, type: ElementType = .f32, form: Form = .stride1) {
        precondition(form == .stride1 || !training, "transposed convolutions run F(4, 3) in inference only")
        self.form = form
        let g = Self.components
        let tiles = (input[3] + 3) / 4
        // The upsampling form's grouped convolutions are 1 x 1, so the rows of tiles are one long row for them (the
        // same memory in the blocked layout): oneDNN's kernels ran 256 -> 2 x 128 channels at 64 x
        // 16 tiles at 92 GFLOP/s (AMD EPYC, AVX2, 8.8 ms) and at 136 GFLOP/s as one row of 1,024 (5.9 ms).
        let (rows, columns) = form == .upsampling ? (1, input[2] * tiles) : (input[2], tiles)
        let tiledInputShape = [input[0], g * input[1], rows, columns]
        let tiledOutputShape = [output[0], g * form.phases * output[1], form == .upsampling ? 1 : output[2], columns]
        let grouped = [g, form.phases * weights[0], weights[1], weights[2], 1]
        let what = "winograd F(4,3)\(form == .upsampling ? " upsampling" : "") \(input)->\(output)"
        var src = MemoryDescriptor.blocked(tiledInputShape, type: type).raw
        var dst = MemoryDescriptor.blocked(tiledOutputShape).raw
        var wei = MemoryDescriptor.any(grouped, type: type).raw
        var diffSrc = MemoryDescriptor.blocked(tiledInputShape).raw
        var diffDst = MemoryDescriptor.blocked(tiledOutputShape, type: type).raw
        var diffWei = MemoryDescriptor.any(grouped).raw
        let s = form == .upsampling ? [1, 1] : [strides[0], 1], d = [dilates[0], 0], l = [padL[0], 0], r = [padR[0], 0]
        var f = dnnl_convolution_desc_t()
        let prop = training ? dnnl_forward_training : dnnl_forward_inference
        dnnlCheck(dnnl_dilated_convolution_forward_desc_init(&f, prop, dnnl_convolution_direct, &src, &wei, nil, &dst, s, d, l, r), what)
        func jit(_ p: Primitive?) -> Primitive? { p.flatMap { $0.implementation.hasPrefix("jit") ? $0 : nil } }
        guard let forward = jit(Primitive.ifSupported(&f, what: what)) else { return nil }
        if training {
            var bd = dnnl_convolution_desc_t(), bw = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &diffSrc, &wei, &diffDst, s, d, l, r), what)
            dnnlCheck(dnnl_dilated_convolution_backward_weights_desc_init(&bw, dnnl_convolution_direct, &src, &diffWei, nil, &diffDst, s, d, l, r), what)
            guard let data = jit(Primitive.ifSupported(&bd, hint: forward, what: what)),
                  let weightsPass = jit(Primitive.ifSupported(&bw, hint: forward, what: what)) else { return nil }
            backward = (data, weightsPass)
        } else {
            backward = nil
        }
        self.forward = forward
        self.input = .blocked(input, type: type)
        self.output = .blocked(output, type: type)
        tiledInput = .blocked(tiledInputShape, type: type)
        tiledOutput = .blocked(tiledOutputShape)
        tiledOutputGradient = .blocked(tiledOutputShape, type: type)
        tiledInputGradient = .blocked(tiledInputShape)
        bf16 = type == .bf16 ? 1 : 0
        logicalWeights = weights
        groupedWeights = grouped
    }

    /// Every primitive (for the cache's accounting and tests).
    var all: [Primitive] { [forward] + (backward.map { [$0.data, $0.weights] } ?? []) }

    /// Whether it was made for training's backward passes too.
    var hasBackwardPasses: Bool { backward != nil }

    /// The grouped weights `G g` in the forward primitive's layout and element type, from the
    /// convolution's float32 weights (`[O, C, kh, 3]`, any layout).
    func weights(from weights: Storage) -> Storage {
        let plain = weights.reordered(to: .plain(logicalWeights))
        let u = Storage(.plain(groupedWeights))
        let rows = logicalWeights[0] * logicalWeights[1] * logicalWeights[2]
        let source = plain.floats, target = u.floats
        // Each row's three taps: a convolution's own; for the upsampling form the even outputs'
        // (w[3], w[1], 0), then (rows later) the odd outputs' (0, w[2], w[0]).
        let taps: (Int, Int) -> (Float, Float, Float) = switch form {
        case .stride1: { row, _ in (source[3 * row], source[3 * row + 1], source[3 * row + 2]) }
        case .upsampling: { row, phase in
            let w = source + 4 * row
            return phase == 0 ? (w[3], w[1], 0) : (0, w[2], w[0])
        }
        }
        for (xi, transform) in Self.weightTransform.enumerated() {
            for phase in 0 ..< form.phases {
                let plane = target + (xi * form.phases + phase) * rows
                for row in 0 ..< rows {
                    let k = taps(row, phase)
                    plane[row] = transform[0] * k.0 + transform[1] * k.1 + transform[2] * k.2
                }
            }
        }
        return u.reordered(to: forward.weights)
    }

    /// The forward pass: `x` (in `input`) and `weights(from:)`'s result; returns the output (in
    /// `output`) and the tiled input, which the weights' gradient needs. Inference only: then
    /// `bias` (float32 `[O]`), a leaky ReLU with `leakySlope`, and `addends` (in `output`; under
    /// bf16 added as the output is rounded).
    func run(_ x: Storage, weights u: Storage, bias: Storage? = nil, leakySlope: Float? = nil,
             addends: [Storage] = []) -> (output: Storage, tiled: Storage) {
        precondition(x.descriptor == input && addends.count <= 2 && addends.allSatisfy { $0.descriptor == output })
        let v = Storage(tiledInput), m = Storage(tiledOutput), y = Storage(output)
        let (dims, outDims, block) = (input.dims, output.dims, Int32(ChannelBlock.size))
        check(rs_winograd_input(x.pointer, Int64(dims[0]), Int64(dims[1]), Int64(dims[2]), Int64(dims[3]), block, bf16, v.pointer))
        forward.execute([(DNNL_ARG_SRC, v), (DNNL_ARG_WEIGHTS, u), (DNNL_ARG_DST, m)])
        var after = rs_winograd_epilogue(bias: bias.map { UnsafePointer($0.floats) }, leaky: leakySlope == nil ? 0 : 1,
                                         slope: leakySlope ?? 0, addend0: addends.first.map { UnsafeRawPointer($0.pointer) },
                                         addend1: addends.dropFirst().first.map { UnsafeRawPointer($0.pointer) })
        let plain = bias == nil && leakySlope == nil && addends.isEmpty
        withUnsafePointer(to: &after) { epilogue in
            let transformOutput = form == .stride1 ? rs_winograd_output_fused : rs_winograd_up2_output_fused
            // (The upsampling form's output transform takes the phases' width, the input's.)
            check(transformOutput(m.floats, Int64(outDims[0]), Int64(outDims[1]), Int64(outDims[2]), Int64(dims[3]),
                                  block, bf16, plain ? nil : epilogue, y.pointer))
        }
        return (y, v)
    }

    /// The output's gradient `dy` (in `output`) as the grouped convolutions' (`A dy`, tiled).
    func tiledGradient(_ dy: Storage) -> Storage {
        precondition(dy.descriptor == output)
        let dm = Storage(tiledOutputGradient)
        let dims = output.dims
        check(rs_winograd_output_gradient(dy.pointer, Int64(dims[0]), Int64(dims[1]), Int64(dims[2]), Int64(dims[3]),
                                          Int32(ChannelBlock.size), bf16, dm.pointer))
        return dm
    }

    /// The input's gradient (in `input`) from `tiledGradient`'s result and the forward weights.
    func inputGradient(_ dm: Storage, weights u: Storage) -> Storage {
        guard let backward else { preconditionFailure("Winograd primitives made for inference have no backward pass") }
        let dv = Storage(tiledInputGradient), dx = Storage(input)
        backward.data.execute([(DNNL_ARG_DIFF_DST, dm.reordered(to: backward.data.diffDst)),
                               (DNNL_ARG_WEIGHTS, u.reordered(to: backward.data.weights)), (DNNL_ARG_DIFF_SRC, dv)])
        let dims = input.dims
        check(rs_winograd_input_gradient(dv.floats, Int64(dims[0]), Int64(dims[1]), Int64(dims[2]), Int64(dims[3]),
                                         Int32(ChannelBlock.size), bf16, dx.pointer))
        return dx
    }

    /// The weights' gradient, plain `[O, C, kh, 3]`, from the tiled input and `tiledGradient`'s
    /// result: `Gᵀ dU` of the grouped convolutions' weight gradient `dU`.
    func weightGradient(tiledInput v: Storage, tiledGradient dm: Storage) -> Storage {
        guard let backward else { preconditionFailure("Winograd primitives made for inference have no backward pass") }
        let p = backward.weights
        let du = Storage(p.diffWeights)
        p.execute([(DNNL_ARG_SRC, v.reordered(to: p.src)), (DNNL_ARG_DIFF_DST, dm.reordered(to: p.diffDst)),
                   (DNNL_ARG_DIFF_WEIGHTS, du)])
        let plain = du.reordered(to: .plain(groupedWeights))
        let dw = Storage(.plain(logicalWeights))
        let rows = logicalWeights[0] * logicalWeights[1] * logicalWeights[2]
        let source = plain.floats, target = dw.floats
        for row in 0 ..< rows {
            var k: (Float, Float, Float) = (0, 0, 0)
            for (xi, transform) in Self.weightTransform.enumerated() {
                let value = source[xi * rows + row]
                k.0 += transform[0] * value
                k.1 += transform[1] * value
                k.2 += transform[2] * value
            }
            target[3 * row] = k.0
            target[3 * row + 1] = k.1
            target[3 * row + 2] = k.2
        }
        return dw
    }

    private func check(_ status: Int32) {
        precondition(status != 0, "Winograd transform: unsupported shape \(input.dims) -> \(output.dims)")
    }
}
