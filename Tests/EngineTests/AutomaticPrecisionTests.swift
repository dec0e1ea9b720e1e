import Engine
import Testing

/// `--precision auto` on the machine the suite runs on: fp32 where bf16 has no kernels or is
/// emulated; where AVX512-BF16 is native, the faster of the two by the probe, and a second,
/// independent measurement agrees whenever it is decisive.
@Suite struct AutomaticPrecisionTests {
    @Test func withoutNativeBF16AutoIsFP32WithoutAProbe() {
        for support in [BF16Support.unavailable, .emulated] {
            let choice = PrecisionChoice.choose(support: support)
            #expect(choice.precision == .fp32 && choice.probe == nil, "\(support): \(choice)")
            #expect(Precision.auto.onCPU(support) == .fp32)
        }
    }

    @Test func theDecisionOnThisMachine() {
        let choice = PrecisionChoice.thisCPU
        #expect(withPrecision(.auto) { currentPrecision } == choice.precision)
        #expect(Precision.auto.onThisCPU == choice.precision)
        guard BF16Support.thisCPU == .native else {
            #expect(choice.precision == .fp32 && choice.probe == nil, "\(BF16Support.thisCPU): \(choice)")
            return
        }
        let probe = try! #require(choice.probe)
        let ratio = probe.bf16 / probe.fp32
        #expect(choice.precision == (ratio <= PrecisionChoice.threshold ? .bf16 : .fp32), "\(choice)")
        // Measured again: where bf16 is clearly faster or clearly slower (0.1 away from the
        // threshold, about 0.6x on an AVX512-BF16 EPYC), the choice says so.
        let again = PrecisionChoice.probeTimes(rounds: 7)
        let second = again.bf16 / again.fp32
        if second < PrecisionChoice.threshold - 0.1 { #expect(choice.precision == .bf16, "bf16 took \(second)x fp32's time, yet auto chose \(choice)") }
        if second > PrecisionChoice.threshold + 0.3 { #expect(choice.precision == .fp32, "bf16 took \(second)x fp32's time, yet auto chose \(choice)") }
    }
}
