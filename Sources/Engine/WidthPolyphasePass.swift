import CDNNL
import Foundation

/// A pass that writes at stride 2 along the width (a transposed convolution's forward, a
/// convolution's backward data) run as two stride-1 transposed convolutions, one per output
/// phase, whose results are interleaved.
///
/// oneDNN 2.6 on AVX2 (no AVX-512) has no jit kernel for these strided passes and falls back to
/// a gemm in plain layout, at about half the speed of its jit kernels plus reorders both ways
/// (RangeNet-lite's five decoder deconvolutions and the five stride-2 encoder convolutions'
/// backward data: 500 of 2,200 ms of a training step on an AMD EPYC with AVX2). Its stride-1
/// kernels are jit, and a stride-2 pass splits exactly into stride-1 ones (polyphase
/// decomposition): with `out[o] = Σ in[j] w[v]` over `2j − p + v = o` (width only; the height
/// is an ordinary stride-1 pass), the outputs of one parity `r` (`o = 2m + r`) use only the taps
/// `v ≡ r + p (mod 2)`, and
///
///     out[2m + r] = Σ_t in[m + P_r − t] · w[v₀ + 2t],   v₀ = (r + p) mod 2,   P_r = ⌊(r + p) / 2⌋,
///
/// a stride-1 transposed convolution with those taps and left padding `P_r`. The same number of
/// multiply-adds as the strided pass, all in jit kernels; the interleave copies one channel block
/// (8 or 16 values) at a time.
///
/// A convolution's backward data is the transposed convolution of the output gradient with the
/// convolution's weights (channel axes swapped: the `iohw` view of `[O, I, kh, kw]`), so both
/// passes run as deconvolution primitives.
final class WidthPolyphasePass {
    /// The two phases' primitives (even outputs, odd outputs).
    let phases: [Primitive]
    /// The full input (`src` or `diff_dst`) and output (`dst` or `diff_src`), channel-blocked.
    let input: MemoryDescriptor
    let output: MemoryDescriptor
    /// The pass's weights as a transposed convolution's, `[out, in, kh, kw]`, and each phase's taps.
    private let logicalWeights: [Int]
    private let taps: [[Int]]
    private let phaseOutputs: [MemoryDescriptor]

    /// The implementation names, e.g. "jit:avx2" (for tests and the profile).
    var implementation: String { phases.map(\.implementation).joined(separator: "+") }

    /// - Parameters:
    ///   - input, output: the pass's input and output shapes (`[N, C, H, W]`; for a convolution's
    ///     backward data, the output gradient's and the input's).
    ///   - weights: the pass's weights as a transposed convolution's, `[output C, input C, kh, kw]`.
    ///   - heightPadding: top and bottom padding of the height pass (stride 1).
    ///   - widthPadding: the strided pass's left padding `p` along the width.
    /// - Returns: nil unless both phases have a jit kernel in the blocked layout, or where the
    ///   shapes do not split into two phases (odd widths whose phases would need negative padding).
    init?(input: [Int], output: [Int], weights: [Int], heightPadding: (Int64, Int64), widthPadding p: Int,
          type: ElementType, outputType: ElementType) {
        let block = ChannelBlock.size
        guard input[1] % block == 0, output[1] % block == 0, output[3] >= 2 else { return nil }
        let k = weights[3]
        var phases: [Primitive] = [], taps: [[Int]] = [], phaseOutputs: [MemoryDescriptor] = []
        for r in 0 ..< 2 {
            let v0 = (r + p) % 2
            let phaseTaps = Array(stride(from: v0, to: k, by: 2))
            let width = (output[3] - r + 1) / 2
            let left = (r + p) / 2
            // A stride-1 transposed convolution's width: W_in − 1 − left − right + taps = width.
            let right = input[3] - 1 - left + phaseTaps.count - width
            guard !phaseTaps.isEmpty, width > 0, right >= 0 else { return nil }
            let phaseOutput = [output[0], output[1], output[2], width]
            let phaseWeights = [weights[0], weights[1], weights[2], phaseTaps.count]
            var src = MemoryDescriptor.blocked(input, type: type).raw
            var wei = MemoryDescriptor.any(phaseWeights, type: type).raw
            let dstDescriptor = MemoryDescriptor.blocked(phaseOutput, type: outputType)
            var dst = dstDescriptor.raw
            var d = dnnl_convolution_desc_t()
            let what = "deconv phase \(r) \(input)->\(phaseOutput) taps \(phaseTaps)"
            dnnlCheck(dnnl_dilated_deconvolution_forward_desc_init(
                &d, dnnl_forward_inference, dnnl_deconvolution_direct, &src, &wei, nil, &dst,
                [1, 1], [0, 0], [heightPadding.0, Int64(left)], [heightPadding.1, Int64(right)]), what)
            guard let primitive = Primitive.ifSupported(&d, what: what), primitive.implementation.hasPrefix("jit") else {
                return nil
            }
            phases.append(primitive)
            taps.append(phaseTaps)
            phaseOutputs.append(dstDescriptor)
        }
        self.phases = phases
        self.taps = taps
        self.phaseOutputs = phaseOutputs
        logicalWeights = weights
        self.input = MemoryDescriptor.blocked(input, type: type)
        self.output = MemoryDescriptor.blocked(output, type: outputType)
    }

    /// Each phase's weights in its primitive's layout and type, from `weights`: the pass's
    /// weights as a transposed convolution's (`[out, in, kh, kw]`) in any layout.
    func weights(from weights: Storage) -> [Storage] {
        let plain = weights.reordered(to: .plain(logicalWeights))
        let (rows, kw) = (logicalWeights[0] * logicalWeights[1] * logicalWeights[2], logicalWeights[3])
        return zip(phases, taps).map { primitive, phaseTaps in
            let shape = [logicalWeights[0], logicalWeights[1], logicalWeights[2], phaseTaps.count]
            let sliced = Storage(.plain(shape))
            let source = plain.floats, target = sliced.floats
            for row in 0 ..< rows {
                for (t, v) in phaseTaps.enumerated() { target[row * phaseTaps.count + t] = source[row * kw + v] }
            }
            return sliced.reordered(to: primitive.weights)
        }
    }

    /// Runs the pass on `input` (in `self.input`) with `weights(from:)`'s result into `out` (in `self.output`).
    func run(_ input: Storage, weights: [Storage], into out: Storage) {
        precondition(input.descriptor == self.input && out.descriptor == self.output)
        let results = zip(phases, phaseOutputs).enumerated().map { r, pair in
            let result = Storage(pair.1)
            pair.0.execute([(DNNL_ARG_SRC, input), (DNNL_ARG_WEIGHTS, weights[r]), (DNNL_ARG_DST, result)])
            return result
        }
        // Blocked layout [N, C / b, H, W, b]: phase r's column m is the output's column 2m + r.
        let dims = output.dims
        let blockBytes = ChannelBlock.size * output.elementType.size
        let rows = dims[0] * (dims[1] / ChannelBlock.size) * dims[2]
        let width = dims[3]
        for (r, result) in results.enumerated() {
            let phaseWidth = phaseOutputs[r].dims[3]
            let source = result.pointer, target = out.pointer
            for row in 0 ..< rows {
                let from = source + row * phaseWidth * blockBytes
                let to = target + (row * width + r) * blockBytes
                for m in 0 ..< phaseWidth { memcpy(to + 2 * m * blockBytes, from + m * blockBytes, blockBytes) }
            }
        }
    }
}
