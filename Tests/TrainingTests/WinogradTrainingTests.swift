import Testing
import TestSupport
@testable import Engine
import Formats
import Inference
@testable import Training

/// `winograd: true` in a training file: the training step's 3 x 3 stride-1 convolutions run
/// oneDNN's Winograd kernels where this CPU has them, and learn like the direct ones.
@Suite(.serialized) struct WinogradTrainingTests {
    @Test func offByDefaultAndReadFromTheFile() throws {
        #expect(TrainingConfig().winograd == false)
        #expect(try TrainingConfig.defaults.winograd == false)
        let config = try TrainingConfig(yamlText: "winograd: true\n", file: "t.yaml")
        #expect(config.winograd)
        #expect(try TrainingConfig(yamlText: config.yamlText(), file: "written.yaml") == config)
        #expect(TrainingConfig().winogradNote == "")
        #expect(config.winogradNote.hasPrefix(", winograd"))
    }

    /// Twelve steps of the tiny task with and without Winograd, in fp32: both learn, the first
    /// losses agree to rounding, and where the CPU has the kernels (AVX-512) the runs differ
    /// because they ran; elsewhere the opt-in changes nothing, bit for bit.
    @Test func aWinogradStepLearnsLikeADirectOne() throws {
        var runs: [Bool: [Float]] = [:]
        for winograd in [false, true] {
            let (step, batch) = try PrecisionTrainingTests().tinyStep(.fp32, winograd: winograd)
            #expect(step.winograd == winograd)
            var losses: [Float] = []
            for _ in 0 ..< 12 { losses.append(try step(batch, learningRate: 0.05)) }
            let first: Float = losses.prefix(3).reduce(0, +), last: Float = losses.suffix(3).reduce(0, +)
            #expect(losses.allSatisfy(\.isFinite) && last < 0.7 * first, "winograd \(winograd): \(losses)")
            runs[winograd] = losses
        }
        let direct = runs[false]!, winograd = runs[true]!
        #expect(abs(direct[0] - winograd[0]) <= 1e-4 * direct[0], "first losses \(direct[0]) and \(winograd[0])")
        let ranWinograd = DNNLContext.shared.cachedPrimitives.contains { $0.implementation.contains("wino") }
        #expect(ranWinograd == winogradAvailable, "Winograd kernels in the cache: \(ranWinograd)")
        if winogradAvailable {
            #expect(direct != winograd, "the Winograd run gave the direct run's losses bit for bit: it did not run Winograd")
        } else {
            #expect(direct == winograd, "without AVX-512 the opt-in runs the direct kernels, so the same losses")
        }
    }

    /// bf16 has no Winograd kernels: asking for both runs bf16 on the direct kernels.
    @Test func bf16RunsDirect() throws {
        var runs: [Bool: [Float]] = [:]
        for winograd in [false, true] {
            let (step, batch) = try PrecisionTrainingTests().tinyStep(.bf16, winograd: winograd)
            runs[winograd] = try (0 ..< 3).map { _ in try step(batch, learningRate: 0.05) }
        }
        #expect(runs[false]! == runs[true]!)
    }
}
