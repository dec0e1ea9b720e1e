import CDNNL
import Foundation
import Random
import Testing
@testable import Engine

/// bf16 mixed precision: each layer's forward and backward under `withPrecision(.bf16)` against
/// the same layer in float32, within what bfloat16 rounding allows (the finite-difference checks
/// in GradientTests stay float32).
@Suite struct PrecisionTests {
    /// Whether this CPU runs bf16 arithmetic at all. Without AVX-512 oneDNN has no bf16 kernels
    /// and `withPrecision(.bf16)` runs fp32: the tests that compare bf16 arithmetic with fp32
    /// need the hardware, and `bf16FallsBackToFloat32WhereTheCPUHasNoKernels` checks the
    /// fallback on every CPU.
    static let bf16Runs = BF16Support.thisCPU != .unavailable
    static let needsBF16 = Comment(rawValue: "bf16 arithmetic needs AVX-512, which this CPU (\(BF16Support.thisCPU)) lacks; the fallback test runs instead")

    /// `‖a − b‖ / ‖a‖`.
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) { diff += Double(x - y) * Double(x - y); norm += Double(x) * Double(x) }
        return (diff / max(norm, 1e-30)).squareRoot()
    }

    /// Runs `f` on fresh copies of `inputs` (all needing gradients) in fp32 and in bf16, seeds the
    /// backward pass with the same random tensor, and compares outputs and every input's gradient.
    /// Returns the bf16 output for further checks.
    ///
    /// With `noiseFloorFactor`, each quantity may also be off by that many times how far the
    /// float32 result moves when every input is rounded as bf16 rounds (a uniform relative
    /// ±2^-8 per element): a chain with a leaky ReLU after batch norm flips the slope of the
    /// elements bf16 rounds across zero, and later batch norms spread that, in fp32 as in bf16.
    @discardableResult
    func compare(_ inputs: [Tensor], tolerance: Double = 1.5e-2, noiseFloorFactor: Double? = nil,
                 outputType: ElementType = .bf16,
                 sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) -> Tensor {
        func run(_ precision: Precision, nudged: Bool = false) -> (Tensor, [[Float]]) {
            var n = RandomGenerator(seed: 77)
            let copies = inputs.map { input in
                Tensor(shape: input.shape, scalars: input.scalars.map { nudged ? $0 * (1 + Float.random(in: -1 ... 1, using: &n) / 256) : $0 },
                       requiresGrad: true)
            }
            let out = withPrecision(precision) { f(copies) }
            var g = RandomGenerator(seed: 5)
            out.backward(seed: Tensor(uniformShape: out.shape, low: -1, high: 1, generator: &g))
            return (out, copies.map { $0.grad?.scalars ?? [] })
        }
        let (y32, g32) = run(.fp32)
        let (y16, g16) = run(.bf16)
        var outputTolerance = tolerance
        var gradientTolerances = [Double](repeating: tolerance, count: inputs.count)
        if let factor = noiseFloorFactor {
            let (yn, gn) = run(.fp32, nudged: true)
            outputTolerance = max(tolerance, factor * relativeError(y32.scalars, yn.scalars))
            for k in 0 ..< inputs.count { gradientTolerances[k] = max(tolerance, factor * relativeError(g32[k], gn[k])) }
        }
        #expect(y32.elementType == .f32, sourceLocation: sourceLocation)
        #expect(y16.elementType == outputType, "the bf16 run's output is \(y16.elementType)", sourceLocation: sourceLocation)
        let a = y32.scalars, b = y16.scalars
        #expect(a != b, "bf16 gave the fp32 values bit for bit: it did not run in bf16", sourceLocation: sourceLocation)
        let e = relativeError(a, b)
        #expect(e < outputTolerance, "output: relative error \(e)", sourceLocation: sourceLocation)
        for (k, (ga, gb)) in zip(g32, g16).enumerated() {
            #expect(!ga.isEmpty && ga.count == gb.count, "input \(k) has a gradient in both", sourceLocation: sourceLocation)
            guard !ga.isEmpty, ga.count == gb.count else { continue }
            let e = relativeError(ga, gb)
            #expect(e < gradientTolerances[k], "gradient of input \(k): relative error \(e) (tolerance \(gradientTolerances[k]))",
                    sourceLocation: sourceLocation)
            #expect(e < 0.25, "gradient of input \(k): relative error \(e)", sourceLocation: sourceLocation)
        }
        return y16
    }

    /// A bf16 tensor in the blocked layout activations use, for ops that take a bf16 input.
    func bf16(_ t: Tensor) -> Tensor {
        t.inLayout(t.shape[1] >= 8 ? MemoryDescriptor.blocked(t.shape, type: .bf16) : MemoryDescriptor.plain(t.shape, type: .bf16))
    }

    @Test func roundingToBFloat16() {
        #expect(BFloat16.bits(1) == 0x3F80)
        #expect(BFloat16.bits(-2) == 0xC000)
        // Ties go to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
        #expect(BFloat16.bits(1 + 1.0 / 256) == 0x3F80)
        #expect(BFloat16.bits(1 + 3.0 / 256) == 0x3F82)
        #expect(BFloat16.float(BFloat16.bits(3.140625)) == 3.140625)
        #expect(BFloat16.float(BFloat16.bits(.infinity)) == .infinity)
        #expect(BFloat16.float(BFloat16.bits(.nan)).isNaN)
        // The Swift conversion of small tensors agrees with oneDNN's reorder bit for bit.
        let shape = [1, 1, 1, SmallReorder.maximumElements + 16]
        let x = random(shape, seed: 1, low: -1000, high: 1000)
        let viaOneDNN = x.storage.reordered(to: MemoryDescriptor.plain(shape, type: .bf16))
        let small = [64, 48, 3, 3]
        let y = random(small, seed: 2, low: -3, high: 3)
        let viaSwift = y.storage.reordered(to: MemoryDescriptor.plain(small, type: .bf16))
        let xs = x.scalars, ys = y.scalars
        for i in stride(from: 0, to: xs.count, by: 97) { #expect(viaOneDNN.bf16Bits[i] == BFloat16.bits(xs[i])) }
        for i in 0 ..< ys.count { #expect(viaSwift.bf16Bits[i] == BFloat16.bits(ys[i])) }
        // And back to float32 exactly, blocked bf16 to plain f32.
        let blocked = y.storage.reordered(to: MemoryDescriptor(shape: small, tag: dnnl_ABcd16b16a, type: .bf16))
        #expect(Tensor(shape: small, storage: blocked).scalars == ys.map(BFloat16.rounded))
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func convolutionLayers() {
        // The stem (5 input channels), a stride-1x2 stage convolution, a 1x1 and a 3x3 convolution.
        compare([random([2, 5, 4, 64], seed: 1), random([16, 5, 3, 3], seed: 2, low: -0.3, high: 0.3)]) { t in
            conv2d(t[0], weight: t[1], padding: 1)
        }
        compare([random([2, 16, 4, 64], seed: 3), random([32, 16, 3, 3], seed: 4, low: -0.2, high: 0.2)]) { t in
            conv2d(t[0], weight: t[1], stride: Size2D(1, 2), padding: 1)
        }
        compare([random([1, 32, 4, 32], seed: 5), random([16, 32, 1, 1], seed: 6, low: -0.3, high: 0.3),
                 random([16], seed: 7)]) { t in
            conv2d(t[0], weight: t[1], bias: t[2])
        }
        // The head: float32 logits from a bf16 convolution.
        compare([random([1, 16, 4, 32], seed: 8), random([20, 16, 3, 3], seed: 9, low: -0.2, high: 0.2),
                 random([20], seed: 10)], outputType: .f32) { t in
            conv2d(t[0], weight: t[1], bias: t[2], stride: 1, padding: 1, dilation: 1, outputType: .f32)
        }
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func transposedConvolutionLayer() {
        compare([random([2, 32, 4, 16], seed: 11), random([32, 16, 1, 4], seed: 12, low: -0.3, high: 0.3)]) { t in
            convTranspose2d(t[0], weight: t[1], stride: Size2D(1, 2), padding: Size2D(0, 1))
        }
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func batchNormLeakyReLUAndAdditionOnBFloat16() {
        let c = 16
        let y = compare([random([2, c, 4, 32], seed: 13, low: -2, high: 3), random([c], seed: 14, low: 0.5, high: 1.5),
                         random([c], seed: 15)]) { t in
            let x = currentPrecision == .bf16 ? bf16(t[0]) : t[0]
            return batchNorm(x, scale: t[1], shift: t[2], runningMean: Tensor(zeros: [c]),
                             runningVariance: Tensor(repeating: 1, shape: [c]), training: true, momentum: 0.1, epsilon: 1e-5)
        }
        #expect(y.elementType == .bf16)
        compare([random([2, c, 4, 32], seed: 16)]) { t in
            leakyReLU(currentPrecision == .bf16 ? bf16(t[0]) : t[0], slope: 0.1)
        }
        compare([random([2, c, 4, 32], seed: 17), random([2, c, 4, 32], seed: 18)]) { t in
            currentPrecision == .bf16 ? bf16(t[0]) + bf16(t[1]) : t[0] + t[1]
        }
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func batchNormStatisticsStayFloat32() {
        // Running statistics from a bf16 input: float32 buffers, within bf16 rounding of fp32's.
        let c = 16
        let x = random([2, c, 4, 32], seed: 19, low: -1, high: 4)
        func statistics(_ input: Tensor) -> [Float] {
            let mean = Tensor(zeros: [c]), variance = Tensor(repeating: 1, shape: [c])
            _ = withoutGradient {
                batchNorm(input, scale: Tensor(repeating: 1, shape: [c]), shift: Tensor(zeros: [c]), runningMean: mean,
                          runningVariance: variance, training: true, momentum: 1, epsilon: 1e-5)
            }
            #expect(mean.elementType == .f32 && variance.elementType == .f32)
            return mean.scalars + variance.scalars
        }
        let a = statistics(x), b = statistics(bf16(x))
        #expect(relativeError(a, b) < 5e-3)
    }

    /// How far float32 results move when the input moves by bfloat16's rounding (a relative
    /// ±2^-8 per element): the sensitivity that bounds what bf16 arithmetic can be expected to
    /// match in a deep network whose training-mode batch norm divides by batch statistics.
    func noiseFloor(_ x: Tensor, _ f: (Tensor) -> (output: [Float], gradients: [[Float]])) -> (Double, [Double]) {
        let a = f(x)
        var g = RandomGenerator(seed: 77)
        let nudged = Tensor(shape: x.shape, scalars: x.scalars.map { $0 * (1 + Float.random(in: -1 ... 1, using: &g) / 256) })
        let b = f(nudged)
        return (relativeError(a.output, b.output), zip(a.gradients, b.gradients).map { relativeError($0, $1) })
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func layerModules() {
        var g = RandomGenerator(seed: 20)
        let config = ArchitectureConfig(inputChannels: 5, classes: 6, widths: [16, 32], blocks: [1, 1])
        let residual = Residual(channels: 32, config: config, generator: &g)
        // The input's gradient passes a leaky ReLU after batch norm twice (measured: 0.3% after
        // conv-bn, 3.7% after conv-bn-leaky, 5.9% after the block).
        compare([random([2, 32, 8, 64], seed: 21)], noiseFloorFactor: 4) { t in
            residual(currentPrecision == .bf16 ? bf16(t[0]) : t[0])
        }
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func wholeNetworkWithinTheNoiseFloor() {
        // The whole network in training mode: logits, the input's gradient and every parameter's
        // gradient in bf16 against fp32, each within a few times how far fp32 itself moves when
        // the input is rounded as bf16 rounds it (batch norm on small maps amplifies both).
        var g = RandomGenerator(seed: 30)
        let config = ArchitectureConfig(inputChannels: 5, classes: 6, widths: [16, 32], blocks: [1, 1])
        let model = RangeNetLite(config: config, generator: &g)
        let x = random([2, 5, 8, 128], seed: 31)
        func run(_ precision: Precision) -> (Tensor) -> (output: [Float], gradients: [[Float]]) {
            { input in
                model.zeroGradients()
                let copy = Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true)
                let y = withPrecision(precision) { model(copy) }
                var g = RandomGenerator(seed: 32)
                y.backward(seed: Tensor(uniformShape: y.shape, low: -1, high: 1, generator: &g))
                let parameters = model.namedParameters()
                for p in parameters {
                    #expect(p.tensor.grad?.elementType == .f32 && p.tensor.grad?.isContiguous == true, "\(p.name)")
                }
                #expect(y.elementType == .f32)
                return (y.scalars, [copy.grad!.scalars] + parameters.map { $0.tensor.grad!.scalars })
            }
        }
        let (outputFloor, gradientFloors) = noiseFloor(x, run(.fp32))
        let a = run(.fp32)(x), b = run(.bf16)(x)
        #expect(a.output != b.output)
        let e = relativeError(a.output, b.output)
        #expect(e < max(4 * outputFloor, 1e-2), "logits: \(e), fp32 noise floor \(outputFloor)")
        let names = ["input"] + model.namedParameters().map(\.name)
        for (k, (ga, gb)) in zip(a.gradients, b.gradients).enumerated() {
            let e = relativeError(ga, gb)
            #expect(e < max(4 * gradientFloors[k], 2e-2), "\(names[k]): \(e), fp32 noise floor \(gradientFloors[k])")
            #expect(e < 0.5, "\(names[k]): \(e)")
        }
        #expect(model.namedParameters().allSatisfy { $0.tensor.elementType == .f32 })
    }

    @Test(.enabled(if: bf16Runs, needsBF16)) func fusedInferenceInBFloat16() {
        var g = RandomGenerator(seed: 40)
        let config = ArchitectureConfig(inputChannels: 5, classes: 6, widths: [16, 32, 64], blocks: [1, 2, 1],
                                        batchNormMomentum: 0.5)
        let model = RangeNetLite(config: config, generator: &g)
        for seed in 0 ..< 3 { _ = withoutGradient { model(random([2, 5, 4, 32], seed: UInt64(41 + seed), low: -2, high: 3)) } }
        model.eval()
        let x = random([1, 5, 4, 32], seed: 45)
        let a = withoutGradient { model(x) }
        let b = withPrecision(.bf16) { withoutGradient { model(x) } }
        #expect(b.elementType == .f32)
        #expect(a.scalars != b.scalars)
        #expect(relativeError(a.scalars, b.scalars) < 3e-2)
    }

    @Test func precisionIsScoped() {
        #expect(currentPrecision == .fp32)
        withPrecision(.bf16) { #expect(currentPrecision == Precision.bf16.onThisCPU) }
        #expect(currentPrecision == .fp32)
    }

    @Test func bf16FallsBackToFloat32WhereTheCPUHasNoKernels() {
        #expect(Precision.bf16.onCPU(.unavailable) == .fp32)
        #expect(Precision.bf16.onCPU(.emulated) == .bf16 && Precision.bf16.onCPU(.native) == .bf16)
        #expect(Precision.fp32.onCPU(.unavailable) == .fp32 && Precision.fp32.onCPU(.native) == .fp32)
        // On this CPU: a convolution, batch norm and leaky ReLU, forward and backward, under
        // withPrecision(.bf16) give fp32's values bit for bit exactly when bf16 cannot run here.
        func run(_ precision: Precision) -> (y: [Float], dx: [Float], dw: [Float], type: ElementType) {
            let x = random([2, 16, 4, 32], seed: 60), w = random([16, 16, 3, 3], seed: 61, low: -0.2, high: 0.2)
            x.requiresGrad = true
            w.requiresGrad = true
            let y = withPrecision(precision) {
                let c = conv2d(x, weight: w, padding: 1)
                let n = batchNorm(c, scale: Tensor(repeating: 1, shape: [16]), shift: Tensor(zeros: [16]),
                                  runningMean: Tensor(zeros: [16]), runningVariance: Tensor(repeating: 1, shape: [16]),
                                  training: true, momentum: 0.1, epsilon: 1e-5)
                return leakyReLU(n, slope: 0.1)
            }
            y.backward(seed: random(y.shape, seed: 62))
            return (y.scalars, x.grad!.scalars, w.grad!.scalars, y.elementType)
        }
        let a = run(.fp32), b = run(.bf16)
        if Self.bf16Runs {
            #expect(b.type == .bf16 && a.y != b.y && a.dw != b.dw)
        } else {
            #expect(b.type == .f32 && a.y == b.y && a.dx == b.dx && a.dw == b.dw)
        }
    }

    @Test func bf16SupportOfThisCPU() throws {
        // oneDNN's view of this CPU against the kernel's: native exactly when /proc/cpuinfo lists
        // avx512_bf16 (or AMX's amx_bf16).
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let native = flags.contains("avx512_bf16") || flags.contains("amx_bf16")
        let limited = ProcessInfo.processInfo.environment["ONEDNN_MAX_CPU_ISA"] ?? ProcessInfo.processInfo.environment["DNNL_MAX_CPU_ISA"]
        if limited == nil {
            #expect((BF16Support.thisCPU == .native) == native, "oneDNN: \(BF16Support.thisCPU); cpuinfo avx512_bf16: \(native)")
            #expect((BF16Support.thisCPU == .unavailable) == !flags.contains("avx512f"))
        }
        #expect(BF16Support.thisCPU.notice == nil || BF16Support.thisCPU != .native)
    }

    @Test func bf16SupportLevelsAndNotices() {
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx512_core_amx.rawValue) == .native)
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx512_core_bf16.rawValue) == .native)
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx512_core_vnni.rawValue) == .emulated)
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx512_core.rawValue) == .emulated)
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx2_vnni.rawValue) == .unavailable)
        #expect(BF16Support.level(isa: dnnl_cpu_isa_avx2.rawValue) == .unavailable)
        #expect(BF16Support.native.notice == nil)
        for level in [BF16Support.emulated, .unavailable] {
            let notice = level.notice ?? ""
            #expect(!notice.contains("\n") && notice.hasPrefix("bf16: "))
            #expect(notice.contains("fp32 stays the default"))
        }
        #expect(BF16Support.emulated.notice?.contains("emulates") == true)
        #expect(BF16Support.unavailable.notice?.contains("runs in fp32") == true)
    }

    @Test func profileCountsPrimitiveKinds() {
        EngineProfile.start()
        let x = random([1, 16, 4, 32], seed: 50)
        x.requiresGrad = true
        let w = random([16, 16, 3, 3], seed: 51)
        w.requiresGrad = true
        let y = withPrecision(.bf16) { leakyReLU(conv2d(x, weight: w, padding: 1)) }
        y.backward(seed: random(y.shape, seed: 52))
        let profile = EngineProfile.stop()
        // At least: other tests may run primitives at the same time.
        for kind in ["convolution forward", "convolution backward data", "convolution backward weights",
                     "eltwise forward", "eltwise backward data"] {
            #expect((profile.entries[kind]?.count ?? 0) >= 1, "\(kind)")
        }
        #expect(profile.totalMilliseconds > 0)
        // Off again: nothing more is recorded.
        _ = conv2d(x, weight: w, padding: 1)
        #expect(EngineProfile.stop().entries.isEmpty)
    }
}
