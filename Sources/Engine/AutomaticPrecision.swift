import Dispatch
import Foundation
import Random

/// Which precision `Precision.auto` runs on this CPU, and why: decided once per process.
///
/// - No AVX-512 (`BF16Support.unavailable`): fp32, since oneDNN has no bf16 kernels there.
/// - AVX-512 without AVX512-BF16 (`emulated`): fp32, since oneDNN emulates the bf16 dot
///   products with float32 code and is slower than fp32.
/// - AVX512-BF16 (`native`): a probe times two of the networks' convolutions (the stem's
///   5 -> 32 and a 64 -> 64 stage, 3 x 3, batch 2, forward and backward) in both precisions,
///   alternating, and picks bf16 only where its best round takes at most 0.85 of fp32's best
///   (the best, not the median: other work on a busy machine only ever adds time). On an AMD EPYC
///   with AVX512-BF16 bf16 is about twice as fast; on an Intel Xeon with AVX512-BF16 but no AMX,
///   oneDNN 2.6's bf16 convolutions were slower than its fp32 ones (issue 26).
public struct PrecisionChoice: Sendable, CustomStringConvertible {
    /// The precision that runs.
    public let precision: Precision
    /// Why, in a few words ("probe: bf16 convolutions took 0.52x the time of fp32"); nil when it
    /// is simply the precision asked for.
    public let reason: String?
    /// The probe's best milliseconds per round, fp32 and bf16, when it ran.
    public let probe: (fp32: Double, bf16: Double)?

    public init(precision: Precision, reason: String?, probe: (fp32: Double, bf16: Double)? = nil) {
        self.precision = precision
        self.reason = reason
        self.probe = probe
    }

    /// bf16 must take at most this fraction of fp32's time to be chosen.
    public static let threshold = 0.85

    /// The choice for this CPU, probed on first use.
    public static var thisCPU: PrecisionChoice { decided }
    private static let decided = choose(support: BF16Support.thisCPU)

    /// The choice for a CPU with `support`; probes this CPU when it is `native`.
    public static func choose(support: BF16Support, rounds: Int = 5) -> PrecisionChoice {
        switch support {
        case .unavailable:
            return PrecisionChoice(precision: .fp32, reason: "no AVX-512: oneDNN has no bf16 kernels for this CPU")
        case .emulated:
            return PrecisionChoice(precision: .fp32, reason: "AVX-512 without AVX512-BF16: oneDNN emulates bf16, slower than fp32")
        case .native:
            let times = probeTimes(rounds: rounds)
            return PrecisionChoice(precision: decide(fp32: times.fp32, bf16: times.bf16),
                                   reason: String(format: "probe: bf16 convolutions took %.2fx the time of fp32", times.bf16 / times.fp32),
                                   probe: times)
        }
    }

    /// The precision a probe's best times call for: bf16 where it takes at most `threshold` of
    /// fp32's time.
    public static func decide(fp32: Double, bf16: Double) -> Precision {
        bf16 / fp32 <= threshold ? .bf16 : .fp32
    }

    /// The best milliseconds of one probe round (two convolutions, forward and backward) in each
    /// precision, `rounds` rounds each after one warm-up, fp32 and bf16 alternating.
    public static func probeTimes(rounds: Int) -> (fp32: Double, bf16: Double) {
        var generator = RandomGenerator(seed: 26)
        let shapes = [(input: 5, output: 32, height: 64, width: 512), (input: 64, output: 64, height: 32, width: 256)]
        let layers = shapes.map { s in
            (x: Tensor(uniformShape: [2, s.input, s.height, s.width], low: -1, high: 1, generator: &generator, requiresGrad: true),
             w: Tensor(uniformShape: [s.output, s.input, 3, 3], low: -0.1, high: 0.1, generator: &generator, requiresGrad: true))
        }
        func round(_ precision: Precision) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            // The direct kernels in both, whatever the caller's Winograd setting: the probe
            // compares the precisions' arithmetic, which the Winograd algorithms shorten alike
            // (F(4, 3) along the width's grouped convolutions took 0.45-0.57 of the direct
            // kernels' time in fp32 and 0.50-0.54 in bf16 for 64 to 1,024 channels, Intel Xeon,
            // 2026-12-04; `Winograd`).
            withWinograd(.never) {
                withPrecision(precision) {
                    for layer in layers {
                        conv2d(layer.x, weight: layer.w, padding: 1).sum().backward()
                    }
                }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        _ = round(.fp32)
        _ = round(.bf16)
        var fp32: [Double] = [], bf16: [Double] = []
        for _ in 0 ..< max(1, rounds) {
            fp32.append(round(.fp32))
            bf16.append(round(.bf16))
        }
        return (fp32.min()!, bf16.min()!)
    }

    /// "bf16 (probe: ...)", or just "fp32" for the precision asked for.
    public var description: String { reason.map { "\(precision) (\($0))" } ?? "\(precision)" }
}
