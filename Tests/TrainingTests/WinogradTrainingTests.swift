import Testing
import TestSupport
@testable import Engine
import Formats
import Inference
import Random
import SemanticKITTI
@testable import Training

/// A training file's `winograd` (`auto`, `never`, `width`, `mixed`, `backward`, `always`): the training step's 3 x 3
/// stride-1 convolutions run oneDNN's Winograd kernels in those passes where this CPU has them,
/// and learn as the direct ones do.
@Suite(.serialized) struct WinogradTrainingTests {
    @Test func autoByDefaultAndReadFromTheFile() throws {
        #expect(TrainingConfig().winograd == .auto)
        #expect(try TrainingConfig.defaults.winograd == .auto)
        #expect(Winograd.auto.onThisCPU == (winogradAvailable ? .mixed : .width))
        let config = try TrainingConfig(yamlText: "winograd: always\n", file: "t.yaml")
        #expect(config.winograd == .always)
        #expect(try TrainingConfig(yamlText: config.yamlText(), file: "written.yaml") == config)
        let error = #expect(throws: FormatError.self) { try TrainingConfig(yamlText: "winograd: true\n", file: "t.yaml") }
        #expect(error?.reason.hasPrefix("winograd") == true, "\(String(describing: error))")
        // The start line says what runs: something for `always` and `never` on any CPU.
        #expect(config.winogradNote.contains("always") || config.winogradNote.contains("forward and backward"))
        var never = TrainingConfig()
        never.winograd = .never
        #expect(never.winogradNote.contains("direct"))
    }

    /// Twelve steps of the tiny task in fp32 with each setting: all learn, the first losses agree
    /// to rounding, and where the CPU has the kernels (AVX-512) the runs differ because they ran;
    /// elsewhere the setting changes nothing, bit for bit.
    @Test func everySettingLearnsLikeTheDirectKernels() throws {
        var runs: [Winograd: [Float]] = [:]
        for use in Winograd.allCases {
            let (step, batch) = try PrecisionTrainingTests().tinyStep(.fp32, winograd: use)
            #expect(step.winograd == use)
            var losses: [Float] = []
            for _ in 0 ..< 12 { losses.append(try step(batch, learningRate: 0.05)) }
            let first: Float = losses.prefix(3).reduce(0, +), last: Float = losses.suffix(3).reduce(0, +)
            #expect(losses.allSatisfy(\.isFinite) && last < 0.7 * first, "\(use): \(losses)")
            runs[use] = losses
        }
        let direct = runs[.never]!
        for use in [Winograd.backward, .always] {
            let losses = runs[use]!
            #expect(abs(direct[0] - losses[0]) <= 1e-4 * direct[0], "\(use): first losses \(direct[0]) and \(losses[0])")
            if winogradAvailable {
                #expect(direct != losses, "\(use) gave the direct run's losses bit for bit: it did not run Winograd")
            } else {
                #expect(direct == losses, "without AVX-512 every setting runs the direct kernels, so the same losses")
            }
        }
        // `backward` leaves the forward pass direct: the first step's loss is the direct one's.
        #expect(runs[.backward]![0] == direct[0])
        #expect(runs[.auto]! == runs[Winograd.auto.onThisCPU]!, "auto runs what it resolves to, bit for bit")
    }

    /// Inference (`Segmenter.output`) runs the configuration's setting: `auto` is F(4, 3) along
    /// the width on every CPU, `never` and `backward` the direct kernels; the logits agree to
    /// rounding, and differ bit for bit where the width's transforms ran.
    @Test func theSegmenterRunsItsConfigurationsSetting() throws {
        // Stages of 32 and 64 channels: the second's 3 x 3 convolutions (32 -> 64) are wide
        // enough for the width's Winograd (`WidthWinogradPass.minimumChannels`).
        var config = TrainingConfig()
        config.sensor.width = 64
        config.sensor.height = 8
        config.architecture.widths = [32, 64]
        config.architecture.blocks = [1, 1]
        config.precision = .fp32
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        let model = try TrainingStep(config: config, labels: labels).model
        model.eval()
        var g = RandomGenerator(seed: 12)
        let input = Tensor(uniformShape: [1, 5, 8, 64], low: -1, high: 1, generator: &g)
        func logits(_ use: Winograd) -> [Float] {
            var config = config
            config.winograd = use
            return Segmenter(model: model, config: config, builder: SampleBuilder(config: config, lookup: labels.lookup())).logits(input)
        }
        let direct = logits(.never), auto = logits(.auto), width = logits(.width)
        #expect(logits(.backward) == direct)
        #expect(auto == width && auto != direct, "auto runs the width's Winograd in inference")
        let scale = direct.map(abs).max()!
        #expect(zip(auto, direct).map { abs($0 - $1) }.max()! <= 1e-4 * scale)
    }

    /// oneDNN's Winograd kernels have no bf16: `never`, `backward` and `always` run bf16 on the
    /// direct kernels alike, and `auto` runs F(4, 3) along the width, as `width` does (a network
    /// whose residual blocks have 3 x 3 convolutions of 32 -> 64 channels).
    @Test(.enabled(if: Precision.bf16.onThisCPU == .bf16, "no bf16 kernels on this CPU"))
    func bf16RunsDirectOrAlongTheWidth() throws {
        var runs: [Winograd: [Float]] = [:]
        for use in Winograd.allCases {
            let (step, batch) = try PrecisionTrainingTests().tinyStep(.bf16, winograd: use, widths: [32, 64])
            runs[use] = try (0 ..< 3).map { _ in try step(batch, learningRate: 0.05) }
        }
        #expect(runs[.never] == runs[.backward] && runs[.never] == runs[.always])
        #expect(runs[.auto] == runs[.width])
        #expect(runs[.auto] != runs[.never], "the width's Winograd ran in bf16")
    }
}
