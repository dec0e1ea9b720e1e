import CDNNL
import Formats
import Foundation

/// A height and width pair (kernel size, stride, padding, dilation).
public struct Size2D: Sendable, Hashable, Codable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public init(_ height: Int, _ width: Int) { self.height = height; self.width = width }
    /// The same value for height and width.
    public init(square: Int) { self.init(square, square) }
    public var description: String { "\(height)x\(width)" }
}

extension Size2D: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self.init(square: value) }
}

/// The settings of a (transposed) 2-D convolution.
struct ConvolutionSettings: Hashable, CustomStringConvertible {
    var stride: Size2D
    var padding: Size2D
    var dilation: Size2D
    var transposed: Bool
    var description: String { "\(transposed ? "deconv" : "conv")s\(stride)p\(padding)d\(dilation)" }
}

/// Where convolutions run a Winograd algorithm instead of the direct one.
///
/// - `auto` (the default): in float32 training, `mixed` where oneDNN has its Winograd kernels
///   (AVX-512), `width` elsewhere (AVX2); in bf16 training and in inference `width` on every
///   CPU (`onThisCPU(training:type:)`). On the Intel Xeon (2026-12-04, one thread, RangeNet-lite
///   fp32 step) `width` took 985-1,020 ms against `backward`'s 969-973 (its transforms in the
///   backward passes cost about what they save there), and `mixed`'s forward pass 366-393 ms
///   against `backward`'s 418-448 in four alternating pairs; with `ONEDNN_MAX_CPU_ISA=AVX2`
///   `width` took 1,493-1,762 ms against the direct kernels' 1,861-1,989.
/// - `mixed`: `width` in the forward pass and oneDNN's Winograd in both backward passes, where
///   oneDNN has its kernels for them (AVX-512, float32); elsewhere `width`.
/// - `width`: every float32 or bf16 convolution with a kernel 3 wide at width stride 1
///   and padding 1 (RangeNet's and DarkNet's 3 x 3 stride-1 convolutions), without bias, runs as a
///   one-dimensional Winograd F(4, 3) along the width in all three passes, on every CPU: half the
///   multiply-adds, in oneDNN's jit kernels for grouped kh x 1 convolutions, between transforms
///   in C (`WidthWinogradPass`), where both sides have at least
///   `WidthWinogradPass.minimumChannels` channels; elsewhere as `backward`.
/// - `backward` and `always`: oneDNN 2.6's two-dimensional Winograd kernels (F(4x4, 3x3),
///   `jit:avx512_core_fp32_wino_conv_4x3`, float32 on AVX-512 with channels in multiples of 16),
///   in training's two backward passes, or in all three. Measured against the float64 answers of
///   `NetworkParityTests` (Intel Xeon, 2026-12-03), their error comes from the forward pass: with
///   it there, DarkNet-53's worst weight gradient differed by 17 x 1e-3 of its largest and
///   SalsaNext's training-step gradients by 0.037, twice PyTorch's own float32 error; in the
///   backward passes only, every network stayed at the direct kernels' error.
/// - `never`: the direct kernels everywhere.
///
/// Inference (forward passes without gradients, the fused ones with their bias and post-ops
/// included) runs `width` or the direct kernels (`forInferenceOnThisCPU`). oneDNN's kernels
/// (`backward`, `always`) run float32 only; bf16, and CPUs or shapes without them, run direct.
public enum Winograd: String, Sendable, Codable, CaseIterable, CustomStringConvertible, SettingValue {
    case auto, never, width, mixed, backward, always

    public var description: String { rawValue }

    /// What training runs on this CPU: `auto` resolved.
    public var onThisCPU: Winograd {
        self == .auto ? (winogradAvailable ? .mixed : .width) : self
    }

    /// What inference (a forward pass without gradients) runs on this CPU: `auto` is `width`
    /// on every CPU, since inference has no backward passes for oneDNN's kernels and F(4, 3)
    /// along the width also pays on AVX-512 there (Intel Xeon, 2026-12-04, RangeNet-lite
    /// batch 1, `rangeseg bench infer --winograd W`, alternating: one thread 113.8-116.3 ms
    /// best against the direct kernels' 128.7-145.8; two threads 64.3-84.5 against 68.2-91.5).
    /// `backward` leaves inference direct; the others run as named.
    public var forInferenceOnThisCPU: Winograd {
        self == .auto || self == .mixed ? .width : self
    }

    /// What a pass runs on this CPU in the element type `type`: `forInferenceOnThisCPU` for an
    /// inference pass; for a training pass `onThisCPU` in float32, and in bf16 `auto` is `width`
    /// (oneDNN 2.6 has no bf16 Winograd kernels, so `backward` would run direct).
    public func onThisCPU(training: Bool, type: ElementType = .f32) -> Winograd {
        if !training { return forInferenceOnThisCPU }
        return self == .auto && type == .bf16 ? .width : onThisCPU
    }
}

enum ConvolutionAlgorithm {
    /// Where convolutions use Winograd. Task-local, like the precision.
    @TaskLocal static var winograd = Winograd.auto

    /// For primitive cache keys: the setting, where it is not what `auto` runs here for such a
    /// pass (so `backward` and `auto`, the same in training on AVX-512, differ in inference).
    static func cacheKeySuffix(training: Bool, type: ElementType) -> String {
        let use = winograd.onThisCPU(training: training, type: type)
        return use == Winograd.auto.onThisCPU(training: training, type: type) ? "" : "|winograd \(use)"
    }
}

/// Runs `body` with its convolutions on the Winograd algorithm `use` names, where it applies
/// (see `Winograd`; `.auto` outside any `withWinograd`). The backward pass of a graph uses the
/// primitives its forward pass chose.
///
/// ```swift
/// let logits = withWinograd(.never) { withPrecision(.fp32) { model(input) } }   // direct kernels
/// ```
public func withWinograd<R>(_ use: Winograd, _ body: () throws -> R) rethrows -> R {
    try ConvolutionAlgorithm.$winograd.withValue(use) { try body() }
}

/// Whether this CPU has oneDNN's two-dimensional Winograd kernels (float32 on AVX-512): where it
/// does not, `Winograd.backward` and `.always` run the direct kernels (`.width` runs everywhere).
public var winogradAvailable: Bool { ChannelBlock.size == 16 }

/// The forward, backward-data and backward-weights primitives of one convolution shape.
///
/// Shared process-wide through `DNNLContext.cached`, so immutable: all three primitives are
/// made in `init` (under the cache's lock), the backward ones only for training.
final class ConvolutionPrimitives {
    let forward: Primitive
    let training: Bool
    private let backward: (data: Primitive, weights: Primitive)?
    /// Where oneDNN has only a plain-layout gemm for the pass that writes 16 channels at stride 2
    /// (a transposed convolution's forward, a convolution's backward data), the same pass with
    /// those channels padded to 32, one sample at a time (see `ChannelPaddedPass`).
    let paddedForward: ChannelPaddedPass?
    let paddedBackwardData: ChannelPaddedPass?
    /// Where oneDNN has only a plain-layout gemm for a pass that writes at stride 2 along the
    /// width (on AVX2 CPUs: every transposed convolution's forward and every stride-2
    /// convolution's backward data), the pass as two stride-1 phases (see `WidthPolyphasePass`).
    let polyphaseForward: WidthPolyphasePass?
    let polyphaseBackwardData: WidthPolyphasePass?
    /// Where the `Winograd.width` setting applies (a float32 kh x 3 convolution at width stride 1
    /// and padding 1, without bias): all passes as a Winograd F(4, 3) along the width (see
    /// `WidthWinogradPass`).
    let widthWinograd: WidthWinogradPass?
    /// Whether `widthWinograd` runs training's forward pass only, the backward passes being
    /// oneDNN's Winograd (`mixed`).
    var widthWinogradForwardOnly: Bool { training && widthWinograd.map { !$0.hasBackwardPasses } ?? false }

    enum Pass { case forward, backwardData, backwardWeights }

    /// The backward-data primitive; only for primitives made with `training`.
    var backwardData: Primitive {
        guard let backward else { preconditionFailure("convolution primitives made for inference have no backward pass") }
        return backward.data
    }

    /// The backward-weights (and bias) primitive; only for primitives made with `training`.
    var backwardWeights: Primitive {
        guard let backward else { preconditionFailure("convolution primitives made for inference have no backward pass") }
        return backward.weights
    }

    /// Every primitive of the group.
    var all: [Primitive] {
        [forward] + (backward.map { [$0.data, $0.weights] } ?? []) + [paddedForward?.primitive, paddedBackwardData?.primitive].compactMap { $0 }
            + (polyphaseForward?.phases ?? []) + (polyphaseBackwardData?.phases ?? []) + (widthWinograd?.all ?? [])
    }

    /// - Parameters:
    ///   - type: the element type of the input, the weights and (backward) the gradients of the
    ///     input and output; oneDNN accumulates in float32 either way.
    ///   - outputType: the element type of the forward output.
    ///   - The gradients of weights and bias are float32 in either precision.
    ///   - bias: whether the backward-weights pass computes the bias's gradient; the forward
    ///     pass adds the bias only when also `forwardBias` (see `addChannelBias`).
    init(input: [Int], weights: [Int], output: [Int], bias: Bool, forwardBias: Bool? = nil, settings s: ConvolutionSettings,
         training: Bool, type: ElementType = .f32, outputType: ElementType = .f32, postOps: PostOps? = nil) {
        self.training = training
        let forwardBias = forwardBias ?? bias
        let strides: [Int64] = [Int64(s.stride.height), Int64(s.stride.width)]
        let dilates: [Int64] = [Int64(s.dilation.height - 1), Int64(s.dilation.width - 1)]
        let padL: [Int64] = [Int64(s.padding.height), Int64(s.padding.width)]
        // Right padding so that oneDNN's size check holds (it may be less than the left one
        // when the output size formula rounds down).
        let k = [weights[2], weights[3]], d = [s.dilation.height, s.dilation.width]
        let stride = [s.stride.height, s.stride.width]
        var padR: [Int64] = [0, 0]
        for i in 0..<2 {
            let (small, large) = s.transposed ? (input[2 + i], output[2 + i]) : (output[2 + i], input[2 + i])
            padR[i] = Int64((small - 1) * stride[i] + d[i] * (k[i] - 1) + 1 - large) - padL[i]
        }
        let direct = s.transposed ? dnnl_deconvolution_direct : dnnl_convolution_direct
        // The passes that try Winograd first: training's 3 x 3 stride-1 convolutions, as the
        // task's `Winograd` setting says.
        let eligible = training && !s.transposed && postOps == nil
            && k == [3, 3] && stride == [1, 1] && d == [1, 1] && input[1] % 16 == 0 && output[1] % 16 == 0
        let use = ConvolutionAlgorithm.winograd.onThisCPU(training: training, type: type)
        var winogradPasses: [Pass] = switch (eligible, use) {
        case (false, _), (_, .never), (_, .auto): []
        case (true, .backward), (true, .width), (true, .mixed): [.backwardData, .backwardWeights]
        case (true, .always): [.forward, .backwardData, .backwardWeights]
        }
        let what = "\(s) \(input)->\(output)"
        let prop = training ? dnnl_forward_training : dnnl_forward_inference
        // Activations in nChw16c where there are enough channels (oneDNN's `any` picks plain
        // NCHW and slow kernels for 8 or 16 channels, and batch norm then follows); `any` for
        // the rest, and as a fallback when no implementation takes the blocked layout.
        func activation(_ shape: [Int], blocked: Bool, _ type: ElementType) -> dnnl_memory_desc_t {
            (blocked && shape[1] >= 8 ? MemoryDescriptor.blocked(shape, type: type)
                : MemoryDescriptor.any(shape, type: type)).raw
        }
        // Layout choices in order of preference: (input blocked, output blocked).
        let tiers = [(true, true), (false, true), (true, false)]
        // The first layout choice with a real (not reference-loop) implementation.
        func make(_ pass: Pass, hint: Primitive? = nil) -> Primitive? {
            for (blockedInput, blockedOutput) in tiers {
                if let p = make(blockedInput: blockedInput, blockedOutput: blockedOutput, pass, hint: hint),
                   !p.implementation.hasPrefix("ref") {
                    return p
                }
            }
            return make(blockedInput: false, blockedOutput: false, pass, hint: hint)
        }
        func make(blockedInput: Bool, blockedOutput: Bool, _ pass: Pass, hint: Primitive?) -> Primitive? {
            var src = activation(input, blocked: blockedInput, type)
            var wei = MemoryDescriptor.any(weights, type: pass == .backwardWeights ? .f32 : type).raw
            var dst = activation(output, blocked: blockedOutput, pass == .forward ? outputType : type)
            var bia = MemoryDescriptor.plain([weights[0]]).raw
            var d = dnnl_convolution_desc_t()
            let alg = winogradPasses.contains(pass) ? dnnl_convolution_winograd : direct
            let status: dnnl_status_t = withUnsafeMutablePointer(to: &bia) { biasPointer in
                let b = (pass == .forward ? forwardBias : bias) ? biasPointer : nil
                switch (s.transposed, pass) {
                case (false, .forward): return dnnl_dilated_convolution_forward_desc_init(&d, prop, alg, &src, &wei, b, &dst, strides, dilates, padL, padR)
                case (true, .forward): return dnnl_dilated_deconvolution_forward_desc_init(&d, prop, alg, &src, &wei, b, &dst, strides, dilates, padL, padR)
                case (false, .backwardData): return dnnl_dilated_convolution_backward_data_desc_init(&d, alg, &src, &wei, &dst, strides, dilates, padL, padR)
                case (true, .backwardData): return dnnl_dilated_deconvolution_backward_data_desc_init(&d, alg, &src, &wei, &dst, strides, dilates, padL, padR)
                case (false, .backwardWeights): return dnnl_dilated_convolution_backward_weights_desc_init(&d, alg, &src, &wei, b, &dst, strides, dilates, padL, padR)
                case (true, .backwardWeights): return dnnl_dilated_deconvolution_backward_weights_desc_init(&d, alg, &src, &wei, b, &dst, strides, dilates, padL, padR)
                }
            }
            dnnlCheck(status, what)
            let isForward = pass == .forward
            return Primitive.ifSupported(&d, hint: hint, postOps: isForward ? postOps : nil, what: what)
        }
        // The three passes, each with its algorithm; nil unless each has an implementation.
        func group() -> (forward: Primitive, backward: (data: Primitive, weights: Primitive)?)? {
            guard let forward = make(.forward) else { return nil }
            guard training else { return (forward, nil) }
            guard let data = make(.backwardData, hint: forward), let weights = make(.backwardWeights, hint: forward) else {
                return nil
            }
            return (forward, (data, weights))
        }
        var chosen = group()
        // Winograd only where oneDNN has a Winograd kernel for every pass that asked (AVX-512,
        // float32); anything else (a CPU without it, bf16) is the direct algorithm.
        if !winogradPasses.isEmpty {
            let made: [(Pass, Primitive)] = chosen.map { c in
                [(.forward, c.forward)] + (c.backward.map { [(.backwardData, $0.data), (.backwardWeights, $0.weights)] } ?? [])
            } ?? []
            if made.isEmpty || !made.allSatisfy({ winogradPasses.contains($0.0) == $0.1.implementation.contains("wino") }) {
                winogradPasses = []
                chosen = group()
            }
        }
        guard let chosen else { fatalError("oneDNN: no implementation for \(what)") }
        forward = chosen.forward
        backward = chosen.backward
        // oneDNN 2.6's jit kernels for a strided pass that writes 16 channels (the 16 -> 32 and
        // 16 -> 16 stride-2 convolutions' backward data, the transposed convolutions to 16
        // channels) take 32 or more only; the gemm fallback costs several times more.
        func slow(_ p: Primitive) -> Bool { p.implementation.contains("gemm") || p.implementation.hasPrefix("ref") }
        let strided = s.stride.height > 1 || s.stride.width > 1
        paddedForward = s.transposed && strided && !forwardBias && postOps == nil && slow(forward)
            ? ChannelPaddedPass(input: input, weights: weights, output: output, settings: s, pass: .forward,
                                type: type, outputType: outputType, strides: strides, dilates: dilates, padL: padL, padR: padR)
            : nil
        paddedBackwardData = !s.transposed && strided && backward.map { slow($0.data) } == true
            ? ChannelPaddedPass(input: input, weights: weights, output: output, settings: s, pass: .backwardData,
                                type: type, outputType: type, strides: strides, dilates: dilates, padL: padL, padR: padR)
            : nil
        // `mixed`: the width's F(4, 3) in the forward pass only, where oneDNN's Winograd kernels
        // took both backward passes (else all three, as `width`).
        let forwardOnly = use == .mixed && training && !winogradPasses.isEmpty
        // A width-doubling transposed convolution runs F(4, 3) only where oneDNN has no jit kernel
        // for it (it would otherwise run as phases, below): measured there (AVX2), not against
        // its kernels.
        let forwardIsSlow = slow(forward)
        let form = (use == .width || use == .mixed) && outputType == type
            ? WidthWinogradPass.form(input: input, weights: weights, output: output, stride: stride, dilation: d,
                                     padding: (padL, padR), type: type, transposed: s.transposed,
                                     bias: bias || forwardBias, postOps: postOps, training: training)
                .flatMap { $0 == .upsampling && !forwardIsSlow ? nil : $0 }
            : nil
        widthWinograd = form.flatMap {
            WidthWinogradPass(input: input, weights: weights, output: output, strides: strides, dilates: dilates,
                              padL: padL, padR: padR, training: training && !forwardOnly, type: type, form: $0)
        }
        let widthStride2 = s.stride == Size2D(1, 2) && s.dilation == Size2D(1, 1)
        let height = (padL[0], padR[0])
        polyphaseForward = widthStride2 && s.transposed && !forwardBias && postOps == nil && paddedForward == nil
            && forwardIsSlow && widthWinograd == nil
            ? WidthPolyphasePass(input: input, output: output, weights: weights, heightPadding: height,
                                 widthPadding: s.padding.width, type: type, outputType: outputType)
            : nil
        // A convolution's backward data is the transposed convolution of the output's gradient
        // with the weights' channel axes swapped.
        polyphaseBackwardData = widthStride2 && !s.transposed && paddedBackwardData == nil && backward.map { slow($0.data) } == true
            ? WidthPolyphasePass(input: output, output: input, weights: [weights[1], weights[0], weights[2], weights[3]],
                                 heightPadding: height, widthPadding: s.padding.width, type: type, outputType: type)
            : nil
    }
}

/// A pass that writes a 16-channel tensor (a transposed convolution's output, a convolution's
/// input gradient) run as the same pass writing 32 channels, the extra 16 from zero weights, one
/// sample at a time: with N = 1 the first 16 channels of a `nChw16c` tensor are the first half of
/// its buffer, copied into the sample's place in the 16-channel result. Twice the arithmetic of the
/// pass, in oneDNN's jit kernels instead of its plain-layout gemm fallback.
final class ChannelPaddedPass {
    let primitive: Primitive
    /// The full batch's input (`src` or `diff_dst`) and output (`dst` or `diff_src`), `nChw16c`.
    let input: MemoryDescriptor
    let output: MemoryDescriptor
    private let pass: ConvolutionPrimitives.Pass
    private let logicalWeights: [Int]
    private let paddedWeights: [Int]
    /// The weights' axis that indexes the written channels: 0 for a transposed convolution's
    /// forward (weights `[out, in, kh, kw]`), 1 for a convolution's backward data.
    private let axis: Int
    private let batch: Int

    /// nil when the written side does not have 16 channels or oneDNN has no jit kernel even padded.
    init?(input: [Int], weights: [Int], output: [Int], settings s: ConvolutionSettings, pass: ConvolutionPrimitives.Pass,
          type: ElementType, outputType: ElementType, strides: [Int64], dilates: [Int64], padL: [Int64], padR: [Int64]) {
        precondition(pass != .backwardWeights)
        let axis = pass == .forward ? 0 : 1
        let written = pass == .forward ? output[1] : input[1]
        guard written == 16, input[1] % 16 == 0, output[1] % 16 == 0 else { return nil }
        var paddedWeights = weights
        paddedWeights[axis] = 32
        var paddedInput = input, paddedOutput = output
        paddedInput[0] = 1
        paddedOutput[0] = 1
        if pass == .forward { paddedOutput[1] = 32 } else { paddedInput[1] = 32 }
        func blocked(_ shape: [Int], _ type: ElementType) -> dnnl_memory_desc_t {
            MemoryDescriptor.blocked(shape, type: type).raw
        }
        let alg = s.transposed ? dnnl_deconvolution_direct : dnnl_convolution_direct
        let prop = pass == .forward ? dnnl_forward_inference : dnnl_forward_training
        var src = blocked(paddedInput, type), wei = MemoryDescriptor.any(paddedWeights, type: type).raw
        var dst = blocked(paddedOutput, pass == .forward ? outputType : type)
        var d = dnnl_convolution_desc_t()
        let what = "\(s) \(paddedInput)->\(paddedOutput) padded"
        if s.transposed {
            dnnlCheck(dnnl_dilated_deconvolution_forward_desc_init(&d, prop, alg, &src, &wei, nil, &dst, strides, dilates, padL, padR), what)
        } else {
            dnnlCheck(dnnl_dilated_convolution_forward_desc_init(&d, prop, alg, &src, &wei, nil, &dst, strides, dilates, padL, padR), what)
        }
        guard let forward = Primitive.ifSupported(&d, what: what) else { return nil }
        let made: Primitive?
        if pass == .forward {
            made = forward
        } else {
            var b = dnnl_convolution_desc_t()
            dnnlCheck(dnnl_dilated_convolution_backward_data_desc_init(&b, alg, &src, &wei, &dst, strides, dilates, padL, padR), what)
            made = Primitive.ifSupported(&b, hint: forward, what: what)
        }
        guard let made, made.implementation.hasPrefix("jit") else { return nil }
        primitive = made
        self.pass = pass
        self.axis = axis
        logicalWeights = weights
        self.paddedWeights = paddedWeights
        batch = input[0]
        if pass == .forward {
            self.input = MemoryDescriptor.blocked(input, type: type)
            self.output = MemoryDescriptor.blocked(output, type: outputType)
        } else {
            // Backward data reads the output's gradient and writes the input's.
            self.input = MemoryDescriptor.blocked(output, type: type)
            self.output = MemoryDescriptor.blocked(input, type: type)
        }
    }

    /// The padded weights in the primitive's layout, from `weights` (the logical weights in any layout).
    func weights(from weights: Storage) -> Storage {
        let plain = weights.reordered(to: .plain(logicalWeights))
        let padded = Storage(.plain(paddedWeights), zeroed: true)
        // Row-major [a, b, kh, kw]: copy each real slice of the padded axis.
        let inner = logicalWeights[2] * logicalWeights[3]
        let (a, b) = (logicalWeights[0], logicalWeights[1])
        let pb = paddedWeights[1]
        for i in 0 ..< a {
            for j in 0 ..< b {
                memcpy(padded.floats + (i * pb + j) * inner, plain.floats + (i * b + j) * inner, inner * 4)
            }
        }
        return padded.reordered(to: primitive.weights)
    }

    /// Runs the pass on `input` (the full batch, in `self.input`) into `out` (in `self.output`).
    func run(_ input: Storage, weights: Storage, into out: Storage) {
        precondition(input.descriptor == self.input && out.descriptor == self.output)
        let inputSlice = input.byteCount / batch, outputSlice = out.byteCount / batch
        let padded = Storage(pass == .forward ? primitive.dst : primitive.diffSrc)
        precondition(padded.byteCount == 2 * outputSlice)
        let (inputArg, outputArg) = pass == .forward ? (DNNL_ARG_SRC, DNNL_ARG_DST) : (DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC)
        let sliceDescriptor = pass == .forward ? primitive.src : primitive.diffDst
        for n in 0 ..< batch {
            let slice = Storage(viewing: input, offset: n * inputSlice, as: sliceDescriptor)
            primitive.execute([(inputArg, slice), (DNNL_ARG_WEIGHTS, weights), (outputArg, padded)])
            memcpy(out.pointer + n * outputSlice, padded.pointer, outputSlice)
        }
    }
}

/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`).
///
/// Runs in the current `Precision` (`withPrecision`): under `bf16` the output is bfloat16 unless
/// `outputType` says otherwise.
///
/// - Parameters:
///   - x: `[N, Cin, H, W]`.
///   - weight: `[Cout, Cin, kh, kw]` (PyTorch layout, plain).
///   - bias: `[Cout]` or `nil`.
/// - Returns: `[N, Cout, H', W']` with
///   `H' = floor((H + 2 padding.h - dilation.h (kh - 1) - 1) / stride.h) + 1` (same for W),
///   in the layout oneDNN chose.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil,
                   stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) -> Tensor {
    conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, outputType: nil)
}

/// `conv2d` with the output's element type chosen (`nil`: the precision's), e.g. float32
/// logits from a bfloat16 convolution.
func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Size2D, padding: Size2D, dilation: Size2D,
            outputType: ElementType?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1],
                 "conv2d: input \(x.shape) and weight \(weight.shape) do not match")
    let k = Size2D(weight.shape[2], weight.shape[3])
    let h = (x.shape[2] + 2 * padding.height - dilation.height * (k.height - 1) - 1) / stride.height + 1
    let w = (x.shape[3] + 2 * padding.width - dilation.width * (k.width - 1) - 1) / stride.width + 1
    precondition(h > 0 && w > 0, "conv2d: output would be empty for input \(x.shape)")
    let settings = ConvolutionSettings(stride: stride, padding: padding, dilation: dilation, transposed: false)
    let y = convolution(x, weight: weight, weightDescriptor: .plain(weight.shape), logicalWeights: weight.shape,
                        bias: bias, output: [x.shape[0], weight.shape[0], h, w], settings: settings, outputType: outputType)
    GraphRecording.note(.convolution(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                                     transposed: false), inputs: [x], output: y)
    return y
}

/// 2-D transposed convolution (PyTorch's `conv_transpose2d`): the gradient of `conv2d`
/// with respect to its input. Runs in the current `Precision`.
///
/// - Parameters:
///   - x: `[N, Cin, H, W]`.
///   - weight: `[Cin, Cout, kh, kw]` (PyTorch's `ConvTranspose2d` layout).
///   - bias: `[Cout]` or `nil`.
/// - Returns: `[N, Cout, H', W']` with
///   `H' = (H - 1) stride.h - 2 padding.h + dilation.h (kh - 1) + 1` (same for W).
public func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil,
                            stride: Size2D = 1, padding: Size2D = 0, dilation: Size2D = 1) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && weight.shape[0] == x.shape[1],
                 "convTranspose2d: input \(x.shape) and weight \(weight.shape) do not match")
    let (cin, cout, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
    let h = (x.shape[2] - 1) * stride.height - 2 * padding.height + dilation.height * (kh - 1) + 1
    let w = (x.shape[3] - 1) * stride.width - 2 * padding.width + dilation.width * (kw - 1) + 1
    precondition(h > 0 && w > 0, "convTranspose2d: output would be empty for input \(x.shape)")
    let settings = ConvolutionSettings(stride: stride, padding: padding, dilation: dilation, transposed: true)
    // oneDNN's deconvolution weights are logically [Cout, Cin, kh, kw]; PyTorch's buffer
    // [Cin, Cout, kh, kw] is exactly oneDNN's `iohw` format of those.
    let view = MemoryDescriptor(shape: [cout, cin, kh, kw], tag: dnnl_iohw)
    let y = convolution(x, weight: weight, weightDescriptor: view, logicalWeights: [cout, cin, kh, kw],
                        bias: bias, output: [x.shape[0], cout, h, w], settings: settings, outputType: nil)
    GraphRecording.note(.convolution(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                                     transposed: true), inputs: [x], output: y)
    return y
}

/// Adds `bias` (`[C]`, float32) to each channel of `y` (`[N, C, H, W]`) in place, with one jit
/// binary primitive. The bias goes in `y`'s channel-blocked layout and element type (so rounded
/// to bfloat16 under bf16, as PyTorch's bf16 autocast rounds it): oneDNN 2.6 runs a per-channel
/// addition from a plain or a float32 operand in a reference loop.
///
/// Used for transposed convolutions: oneDNN 2.6's deconvolution adds its bias in a reference
/// loop after the jit kernel, which made DarkNet's five bf16 decoder deconvolutions (64 x 2048,
/// batch 1) take 342 ms, against 89 ms without the bias plus 1.5 ms for the additions, and 86 ms
/// in PyTorch's oneDNN 3.x (AMD EPYC with AVX512-BF16, 2 threads, 2026-12-03).
///
/// `leakySlope`: a leaky ReLU applied after the addition, in the same pass (a post-op).
func addChannelBias(_ bias: Storage, to y: Storage, leakySlope: Float? = nil) {
    let dims = y.descriptor.dims
    let channels = [1, dims[1], 1, 1]
    let type = y.descriptor.elementType
    let desc = y.descriptor
    // The bias in `y`'s kind of layout: channel-blocked when `y` is (a plain one made the
    // addition a reference loop), plain otherwise.
    let layout = desc == .blocked(dims, type: type) ? MemoryDescriptor.blocked(channels, type: type) : .plain(channels, type: type)
    let perChannel = Storage(viewing: bias, as: .plain(channels)).reordered(to: layout)
    let postOps = leakySlope.map { PostOps(leakySlope: $0) }
    let primitive = DNNLContext.shared.cached("bias|\(desc.key)|\(postOps?.description ?? "")") { () -> Primitive in
        var d = dnnl_binary_desc_t()
        var s0 = desc.raw, s1 = perChannel.descriptor.raw, dst = desc.raw
        dnnlCheck(dnnl_binary_desc_init(&d, dnnl_binary_add, &s0, &s1, &dst), "bias addition")
        guard let made = Primitive.ifSupported(&d, postOps: postOps, what: "bias addition") else {
            fatalError("oneDNN: no implementation for a bias addition to \(dims)")
        }
        return made
    }
    primitive.execute([(DNNL_ARG_SRC_0, y), (DNNL_ARG_SRC_1, perChannel), (DNNL_ARG_DST, y)])
}

/// Shared forward and backward of convolution and transposed convolution.
private func convolution(_ x: Tensor, weight: Tensor, weightDescriptor: MemoryDescriptor, logicalWeights: [Int],
                         bias: Tensor?, output: [Int], settings: ConvolutionSettings, outputType: ElementType?) -> Tensor {
    if let bias { precondition(bias.shape == [output[1]], "bias \(bias.shape) for \(output[1]) channels") }
    let inputs = [x, weight] + (bias.map { [$0] } ?? [])
    let training = GradientMode.isEnabled && inputs.contains { $0.requiresGrad }
    let type = Autocast.precision.elementType
    let outType = outputType ?? type
    // A transposed convolution's bias is added apart (`addChannelBias`): oneDNN 2.6's
    // deconvolution adds it in a slow reference loop after its jit kernel.
    let biasApart = settings.transposed && bias != nil
    let key = "conv|\(settings)|\(x.shape)|\(logicalWeights)|\(bias != nil)|\(training)|\(type)>\(outType)"
        + ConvolutionAlgorithm.cacheKeySuffix(training: training, type: type)
    let primitives = DNNLContext.shared.cached(key) {
        ConvolutionPrimitives(input: x.shape, weights: logicalWeights, output: output, bias: bias != nil,
                              forwardBias: !biasApart && bias != nil, settings: settings, training: training,
                              type: type, outputType: outType)
    }
    let forward = primitives.forward
    let userWeights = Storage(viewing: weight.plainStorage, as: weightDescriptor)
    let xs: Storage, out: Storage
    // The weights in the primitive's layout and type: under bf16, the rounded copy of the
    // float32 master weights that this forward pass and its backward pass use.
    let winograd = primitives.widthWinograd
    let ws = winograd?.weights(from: userWeights) ?? userWeights.reordered(to: forward.weights)
    var tiledInput: Storage?
    if let winograd {
        xs = x.storage(in: winograd.input)
        (out, tiledInput) = winograd.run(xs, weights: ws, bias: biasApart ? nil : bias?.plainStorage)
        if primitives.widthWinogradForwardOnly { tiledInput = nil }
    } else if let padded = primitives.paddedForward {
        xs = x.storage(in: padded.input)
        out = Storage(padded.output)
        padded.run(xs, weights: padded.weights(from: userWeights), into: out)
    } else if let polyphase = primitives.polyphaseForward {
        xs = x.storage(in: polyphase.input)
        out = Storage(polyphase.output)
        polyphase.run(xs, weights: polyphase.weights(from: userWeights), into: out)
    } else {
        xs = x.storage(in: forward.src)
        out = Storage(forward.dst)
        var args: [(Int32, Storage)] = [(DNNL_ARG_SRC, xs), (DNNL_ARG_WEIGHTS, ws), (DNNL_ARG_DST, out)]
        if let bias, !biasApart { args.append((DNNL_ARG_BIAS, bias.plainStorage)) }
        forward.execute(args)
    }
    if let bias, biasApart { addChannelBias(bias.plainStorage, to: out) }

    let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
    let weightShape = weight.shape
    let inputShape = x.shape
    return Tensor.result(shape: output, storage: out, inputs: inputs) { g in
        var grads: [Tensor?] = [nil, nil, nil]
        var gradOut = g.storage
        if let winograd, let tiledInput {
            let dm = winograd.tiledGradient(g.storage.reordered(to: winograd.output))
            if needX { grads[0] = Tensor(shape: inputShape, storage: winograd.inputGradient(dm, weights: ws)) }
            if needW { grads[1] = Tensor(shape: weightShape, storage: winograd.weightGradient(tiledInput: tiledInput, tiledGradient: dm)) }
            return Array(grads.prefix(inputs.count))
        }
        if needX, let padded = primitives.paddedBackwardData {
            let dx = Storage(padded.output)
            gradOut = gradOut.reordered(to: padded.input)
            padded.run(gradOut, weights: padded.weights(from: userWeights), into: dx)
            grads[0] = Tensor(shape: inputShape, storage: dx)
        } else if needX, let polyphase = primitives.polyphaseBackwardData {
            let dx = Storage(polyphase.output)
            gradOut = gradOut.reordered(to: polyphase.input)
            // The plain [O, I, kh, kw] weights seen as a transposed convolution's [I, O, kh, kw].
            let asTransposed = Storage(viewing: userWeights, as: MemoryDescriptor(
                shape: [weightShape[1], weightShape[0], weightShape[2], weightShape[3]], tag: dnnl_iohw))
            polyphase.run(gradOut, weights: polyphase.weights(from: asTransposed), into: dx)
            grads[0] = Tensor(shape: inputShape, storage: dx)
        } else if needX {
            let p = primitives.backwardData
            let dx = Storage(p.diffSrc)
            gradOut = gradOut.reordered(to: p.diffDst)
            // (`ws` are the width Winograd's transformed weights where its forward pass ran.)
            let weights = winograd == nil ? ws : userWeights
            p.execute([(DNNL_ARG_DIFF_DST, gradOut), (DNNL_ARG_WEIGHTS, weights.reordered(to: p.weights)),
                       (DNNL_ARG_DIFF_SRC, dx)])
            grads[0] = Tensor(shape: inputShape, storage: dx)
        }
        if needW || needB {
            let p = primitives.backwardWeights
            let dw = Storage(p.diffWeights)
            let db = Storage(.plain([output[1]]))
            var args: [(Int32, Storage)] = [(DNNL_ARG_SRC, xs.reordered(to: p.src)), (DNNL_ARG_DIFF_DST, gradOut.reordered(to: p.diffDst)),
                                            (DNNL_ARG_DIFF_WEIGHTS, dw)]
            if bias != nil { args.append((DNNL_ARG_DIFF_BIAS, db)) }
            p.execute(args)
            let plain = Storage(.plain(weightShape))
            dw.reorder(into: Storage(viewing: plain, as: weightDescriptor))
            grads[1] = Tensor(shape: weightShape, storage: plain)
            if bias != nil { grads[2] = Tensor(shape: [output[1]], storage: db) }
        }
        return Array(grads.prefix(inputs.count))
    }
}

/// Inference-only (transposed) convolution with batch norm folded into its weights and bias
/// and an optional fused leaky ReLU: `leaky(conv(x, w') + b')`. Records no gradient. Runs in the
/// current `Precision`; the output is in its element type.
///
/// The folded weights, in the primitive's layout and element type, are kept in `cache` under
/// `layer` and remade only when `versions` (of the tensors they derive from) change, so a
/// network that labels many scans folds and converts its weights once.
///
/// `channelAffine` (per-channel vectors) multiplies and then shifts each channel after the
/// activation: a batch norm that follows the activation (SalsaNext's order), which cannot be
/// folded into the weights. `addends` (tensors of the output's shape) are added after that by
/// binary post-ops: a residual block's sum and a decoder stage's skip connection in the same pass.
func fusedConvolutionForInference(_ x: Tensor, layer: AnyObject, weightShape: [Int], transposed: Bool, stride: Size2D,
                                  padding: Size2D, dilation: Size2D, leakySlope: Float?,
                                  channelAffine: (scale: Tensor, shift: Tensor)? = nil, addends: [Tensor] = [],
                                  versions: [Int], cache: InferenceCache,
                                  fold: () -> (weight: Tensor, bias: Tensor)) -> Tensor {
    let (kh, kw) = (weightShape[2], weightShape[3])
    let output: [Int]
    let logical: [Int]
    let userDescriptor: MemoryDescriptor
    if transposed {
        let (cin, cout) = (weightShape[0], weightShape[1])
        output = [x.shape[0], cout, (x.shape[2] - 1) * stride.height - 2 * padding.height + dilation.height * (kh - 1) + 1,
                  (x.shape[3] - 1) * stride.width - 2 * padding.width + dilation.width * (kw - 1) + 1]
        logical = [cout, cin, kh, kw]
        userDescriptor = MemoryDescriptor(shape: logical, tag: dnnl_iohw)
    } else {
        output = [x.shape[0], weightShape[0],
                  (x.shape[2] + 2 * padding.height - dilation.height * (kh - 1) - 1) / stride.height + 1,
                  (x.shape[3] + 2 * padding.width - dilation.width * (kw - 1) - 1) / stride.width + 1]
        logical = weightShape
        userDescriptor = .plain(weightShape)
    }
    let settings = ConvolutionSettings(stride: stride, padding: padding, dilation: dilation, transposed: transposed)
    let type = Autocast.precision.elementType
    // oneDNN 2.6's deconvolution applies a bias and post-ops in a reference loop, so a transposed
    // convolution runs bare and its folded bias and leaky ReLU follow in one binary pass.
    precondition(!transposed || (addends.isEmpty && channelAffine == nil), "a transposed convolution takes no addends")
    let postOps = transposed || (leakySlope == nil && channelAffine == nil && addends.isEmpty) ? nil
        : PostOps(leakySlope: leakySlope, channelAffine: channelAffine != nil, addends: addends.count, output: output,
                  outputType: type)
    let key = "conv|\(settings)|\(x.shape)|\(logical)|true|false|\(type)>\(type)|\(postOps?.description ?? "")"
        + ConvolutionAlgorithm.cacheKeySuffix(training: false, type: type)
    let primitives = DNNLContext.shared.cached(key) {
        ConvolutionPrimitives(input: x.shape, weights: logical, output: output, bias: true, forwardBias: !transposed,
                              settings: settings, training: false, type: type, outputType: type, postOps: postOps)
    }
    let forward = primitives.forward
    // A transposed convolution that runs in phases or padded (see `ConvolutionPrimitives`) makes
    // weights of its own from the folded ones, which are kept in PyTorch's layout for it.
    let direct = primitives.paddedForward == nil && primitives.polyphaseForward == nil
    let winograd = primitives.widthWinograd
    let layout = winograd?.forward.weights ?? (direct ? forward.weights : userDescriptor)
    let (weights, bias) = cache.entry(for: layer, layout: layout, versions: versions) {
        let (w, b) = fold()
        let user = Storage(viewing: w.plainStorage, as: userDescriptor)
        return (winograd?.weights(from: user) ?? user.reordered(to: layout), b.plainStorage)
    }
    if let winograd {
        // F(4, 3) along the width, its bias, leaky ReLU and addends applied after the output's
        // transform (`Winograd`).
        let (out, _) = winograd.run(x.storage(in: winograd.input), weights: weights, bias: bias, leakySlope: leakySlope,
                                    addends: addends.map { $0.storage(in: winograd.output) })
        return Tensor(shape: output, storage: out)
    }
    if transposed {
        let out: Storage
        if direct {
            out = Storage(forward.dst)
            forward.execute([(DNNL_ARG_SRC, x.storage(in: forward.src)), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, out)])
        } else {
            let folded = Tensor(shape: weightShape, storage: Storage(viewing: weights, as: .plain(weightShape)))
            out = withoutGradient {
                convolution(x, weight: folded, weightDescriptor: userDescriptor, logicalWeights: logical, bias: nil,
                            output: output, settings: settings, outputType: type)
            }.storage
        }
        // oneDNN 2.6's binary kernel applies a post-op wrongly to a channel-blocked tensor whose
        // channels do not fill the last block (seen with 8 channels in 16-channel blocks).
        let whole = output[1] % ChannelBlock.size == 0
        addChannelBias(bias, to: out, leakySlope: whole ? leakySlope : nil)
        let y = Tensor(shape: output, storage: out)
        if let leakySlope, !whole { return withoutGradient { leakyReLU(y, slope: leakySlope) } }
        return y
    }
    let out = Storage(forward.dst)
    var args: [(Int32, Storage)] = [(DNNL_ARG_SRC, x.storage(in: forward.src)), (DNNL_ARG_WEIGHTS, weights),
                                    (DNNL_ARG_BIAS, bias), (DNNL_ARG_DST, out)]
    if let postOps {
        if let (scale, shift) = channelAffine {
            args.append((postOps.scaleArgument, Storage(viewing: scale.plainStorage, as: postOps.channelDescriptor)))
            args.append((postOps.shiftArgument, Storage(viewing: shift.plainStorage, as: postOps.channelDescriptor)))
        }
        for (k, addend) in addends.enumerated() {
            precondition(addend.shape == output, "addend \(addend.shape) for an output \(output)")
            args.append((postOps.addendArgument(k), addend.storage(in: postOps.addendDescriptor)))
        }
    }
    forward.execute(args)
    return Tensor(shape: output, storage: out)
}

/// Folded inference weights per layer and weight layout (see `fusedConvolutionForInference`).
///
/// Threads: several threads may label with one network at once, so entries are made and read
/// under `lock`; an entry is immutable once made.
final class InferenceCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (versions: [Int], weights: Storage, bias: Storage)] = [:]

    /// The weights and bias for `layer` in `layout`, made by `make` when missing or stale.
    func entry(for layer: AnyObject, layout: MemoryDescriptor, versions: [Int],
               make: () -> (Storage, Storage)) -> (weights: Storage, bias: Storage) {
        let key = "\(ObjectIdentifier(layer))|\(layout.key)"
        lock.lock()
        defer { lock.unlock() }
        if let hit = entries[key], hit.versions == versions { return (hit.weights, hit.bias) }
        let (weights, bias) = make()
        entries[key] = (versions, weights, bias)
        return (weights, bias)
    }

    /// Number of entries (for tests).
    var count: Int { lock.lock(); defer { lock.unlock() }; return entries.count }
}
