import CDNNL
import Formats
import Foundation

/// The arithmetic of the network's convolutions, as PyTorch's autocast chooses it.
///
/// - `fp32`: everything in float32.
/// - `bf16`: mixed precision. Convolutions and transposed convolutions read bfloat16 inputs and
///   weights and accumulate in float32 inside oneDNN; the activations between layers (and the
///   gradients flowing back through them) are bfloat16, which halves the memory traffic of batch
///   norm, activations and additions. Batch-norm statistics, scale and shift, the network's
///   output logits (so softmax and every loss), parameters, their gradients and the optimiser's
///   state stay float32: the weights are rounded to bfloat16 once per forward pass from the
///   float32 master copy, and checkpoints are float32 as in `fp32`.
///
/// - `auto` (the default of a training file): bf16 where this CPU runs it measurably faster than
///   fp32, else fp32, decided once per process (`PrecisionChoice.thisCPU` says which and why).
///
/// Set it for a block of code with `withPrecision(_:_:)`; the backward pass of a graph uses the
/// precision its forward pass was recorded with.
public enum Precision: String, Sendable, Codable, CaseIterable, CustomStringConvertible, SettingValue {
    case auto, fp32, bf16

    /// The element type of convolution inputs, weights and outputs (for `auto`, of the precision
    /// it runs as on this CPU).
    public var elementType: ElementType {
        switch self {
        case .fp32: .f32
        case .bf16: .bf16
        case .auto: onThisCPU.elementType
        }
    }

    public var description: String { rawValue }
}

/// The precision of the current task (fp32 outside `withPrecision`).
enum Autocast {
    @TaskLocal static var precision = Precision.fp32
}

/// Runs `body` with the network's convolutions in `precision` (see `Precision`).
///
/// ```swift
/// let logits = withPrecision(.bf16) { model(input) }   // logits are float32
/// ```
///
/// Where this CPU cannot run bfloat16 at all (`BF16Support.unavailable`: no AVX-512, and oneDNN
/// has no bf16 kernels, not even reference loops, without it), `bf16` runs as `fp32`: see
/// `Precision.onThisCPU`. The commands say so in one line (`BF16Support.notice`).
public func withPrecision<R>(_ precision: Precision, _ body: () throws -> R) rethrows -> R {
    try Autocast.$precision.withValue(precision.onThisCPU) { try body() }
}

extension Precision {
    /// The precision this CPU runs when asked for this one: `bf16` falls back to `fp32` where
    /// oneDNN has no bf16 kernels (`BF16Support.thisCPU == .unavailable`); `auto` is
    /// `PrecisionChoice.thisCPU`'s choice; `fp32` is itself.
    public var onThisCPU: Precision {
        self == .auto ? PrecisionChoice.thisCPU.precision : onCPU(BF16Support.thisCPU)
    }

    /// The precision a CPU with `support` runs when asked for this one (`auto` probes this CPU
    /// when `support` is `native`).
    public func onCPU(_ support: BF16Support) -> Precision {
        switch self {
        case .fp32: .fp32
        case .bf16: support == .unavailable ? .fp32 : .bf16
        // Only native bf16 needs this CPU's probe, which `thisCPU` runs once.
        case .auto: support == .native ? PrecisionChoice.thisCPU.precision : PrecisionChoice.choose(support: support).precision
        }
    }
}

extension Precision {
    /// What runs on this CPU when this precision is asked for, and why (for start lines and a
    /// run's `config.yaml`).
    public var choiceOnThisCPU: PrecisionChoice {
        switch self {
        case .auto: PrecisionChoice.thisCPU
        case .fp32: PrecisionChoice(precision: .fp32, reason: nil)
        case .bf16: onThisCPU == .bf16 ? PrecisionChoice(precision: .bf16, reason: nil)
            : PrecisionChoice(precision: .fp32, reason: "bf16 asked; no bf16 kernels on this CPU")
        }
    }
}

/// The precision in force (`withPrecision`), fp32 by default.
public var currentPrecision: Precision { Autocast.precision }

/// How this CPU runs bfloat16 convolutions with oneDNN.
public enum BF16Support: Sendable, Equatable, CustomStringConvertible {
    /// AVX512-BF16 (or AMX) instructions: oneDNN's `jit_bf16` kernels, about twice the fp32
    /// speed of the convolutions.
    case native
    /// AVX-512 without the bf16 instructions: oneDNN emulates the bf16 dot products with
    /// float32 instructions.
    case emulated
    /// No AVX-512: oneDNN 2.6 has no bf16 kernels at all for such a CPU (every bf16 primitive
    /// descriptor is "unimplemented", reference loops included; on an AMD EPYC with AVX2 only,
    /// 2026-12-01), so bf16 runs as fp32.
    case unavailable

    /// What oneDNN can use on this machine (`dnnl_get_effective_cpu_isa`, which also honours
    /// `ONEDNN_MAX_CPU_ISA`).
    public static var thisCPU: BF16Support { level(isa: dnnl_get_effective_cpu_isa().rawValue) }

    /// The support a oneDNN ISA value implies: each ISA's bits include those of the ISAs below it.
    public static func level(isa: UInt32) -> BF16Support {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue, avx512 = dnnl_cpu_isa_avx512_core.rawValue
        if isa & bf16 == bf16 { return .native }
        if isa & avx512 == avx512 { return .emulated }
        return .unavailable
    }

    public var description: String {
        switch self {
        case .native: "native (AVX512-BF16)"
        case .emulated: "emulated (AVX-512 without bf16 instructions)"
        case .unavailable: "unavailable (no AVX-512)"
        }
    }

    /// One line for a user who asked for bf16 on this CPU: nil where bf16 is native.
    public var notice: String? {
        switch self {
        case .native:
            nil
        case .emulated:
            "bf16: this CPU has no AVX512-BF16 instructions, so oneDNN emulates them with float32 AVX-512 code: convolutions run at about the fp32 speed or slower (no gain in speed, only half the activation memory); fp32 stays the default."
        case .unavailable:
            "bf16: this CPU has no AVX-512, for which oneDNN has no bfloat16 kernels at all, so this runs in fp32 (the same speed and results as --precision fp32); fp32 stays the default."
        }
    }
}
