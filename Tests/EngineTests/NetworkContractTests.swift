import Random
import Testing
@testable import Engine

/// What every network of `Networks.all` promises the rest of RangeSeg, checked on a small
/// architecture of each kind: evaluation mode reaches every module (dropout off, the same logits
/// twice), the fused inference path computes what the layers compute, the named feature maps
/// are kept (the last at full resolution), and bf16 runs where the CPU has it.
@Suite struct NetworkContractTests {
    /// A small network of `kind`, with dropout on so that evaluation mode has something to do.
    static func small(_ kind: String) -> ArchitectureConfig {
        var a = Networks.type(of: kind)!.defaultArchitecture
        a.classes = 5
        switch kind {
        case "salsanext": a.stemWidth = 8; a.widths = [8, 16, 16]
        case "darknet": a.stemWidth = 8; a.widths = [8, 16, 32]; a.blocks = [1, 2, 1]
        default: a.widths = [8, 16, 32]; a.blocks = [1, 1, 1]
        }
        a.dropout = 0.3
        if kind == "darknet" { a.decoderDropout = 0.3; a.headDropout = 0.3 }
        return a
    }

    static func input(_ a: ArchitectureConfig, seed: UInt64) -> Tensor {
        let d = a.sizeDivisor
        var g = RandomGenerator(seed: seed)
        return Tensor(uniformShape: [2, a.inputChannels, max(d.height, 4) * 2, d.width * 4], low: -1, high: 1, generator: &g)
    }

    @Test(arguments: Networks.kinds)
    func evaluationAndFeatures(kind: String) {
        let a = Self.small(kind)
        #expect(a.problems.isEmpty, "\(a.problems)")
        var g = RandomGenerator(seed: 3)
        let network = Networks.make(a, generator: &g)
        #expect(network.kind == kind && network.architecture == a)
        let x = Self.input(a, seed: 4)

        // Training mode: where the network has dropout it draws, so two passes differ.
        let hasDropout = network.modules().contains { ($0 as? Dropout2d).map { $0.probability > 0 } ?? false }
        #expect(hasDropout == (kind != "rangenet-lite"), "\(kind): dropout modules are not children")
        let first = withoutGradient { network.forward(x, keeping: []).logits }.scalars
        let second = withoutGradient { network.forward(x, keeping: []).logits }.scalars
        #expect((first != second) == hasDropout, "\(kind): dropout did \(hasDropout ? "nothing" : "something") in training mode")

        network.eval()
        #expect(network.modules().allSatisfy { !$0.isTraining }, "\(kind): eval() missed a module")
        let fused = withoutGradient { network(x) }.scalars
        let (layered, features) = withoutGradient { network.forward(x, keeping: Set(network.featureNames)) }
        let scale = layered.scalars.map(abs).max()!
        #expect(zip(fused, layered.scalars).map { abs($0 - $1) }.max()! <= 1e-4 * scale, "\(kind): fused and layered differ")
        #expect(withoutGradient { network(x) }.scalars == fused, "\(kind): evaluation is not deterministic")
        #expect(layered.shape == [2, a.classes, x.shape[2], x.shape[3]])
        #expect(Set(features.keys) == Set(network.featureNames))
        let last = features[network.featureNames.last!]!
        #expect(last.shape[2] == x.shape[2] && last.shape[3] == x.shape[3], "\(kind): the last feature is not full resolution")
        #expect(network.forwardFLOPs(batch: 2, height: x.shape[2], width: x.shape[3]) > 0)
    }

    @Test(.enabled(if: Precision.bf16.onThisCPU == .bf16, "no bf16 kernels on this CPU"), arguments: Networks.kinds)
    func bf16FollowsFloat32(kind: String) {
        var a = Self.small(kind)
        a.dropout = 0; a.decoderDropout = 0; a.headDropout = 0
        var g = RandomGenerator(seed: 5)
        let network = Networks.make(a, generator: &g)
        let x = Self.input(a, seed: 6)
        network.eval()
        let reference = withoutGradient { network(x) }.scalars
        let half = withPrecision(.bf16) { withoutGradient { network(x) } }
        #expect(half.elementType == .f32, "logits are float32 in either precision")
        let scale = reference.map(abs).max()!
        #expect(zip(reference, half.scalars).map { abs($0 - $1) }.max()! <= 0.05 * scale, "\(kind): bf16 strays from fp32")
        // A training step's backward in bf16 gives finite gradients for every parameter.
        network.train()
        let logits = withPrecision(.bf16) { network.forward(x, keeping: []).logits }
        logits.sum().backward()
        #expect(network.namedParameters().allSatisfy { $0.tensor.grad?.scalars.allSatisfy(\.isFinite) == true })
    }

    /// Channel dropout on the activations' blocked layout (20 channels: a padded block) and in
    /// bf16: every (sample, channel) plane is either zero or the input times 1 / (1 - p).
    @Test func channelDropoutInEveryLayout() {
        var g = RandomGenerator(seed: 8)
        let x = Tensor(uniformShape: [2, 3, 4, 5], low: -1, high: 1, generator: &g)
        let w = Tensor(uniformShape: [20, 3, 1, 1], low: -1, high: 1, generator: &g)
        for precision in [Precision.fp32] + (Precision.bf16.onThisCPU == .bf16 ? [.bf16] : []) {
            let y = withPrecision(precision) { conv2d(x, weight: w) }
            let values = y.scalars
            var dropper = RandomGenerator(seed: 9)
            let dropped = channelDropout(y, probability: 0.5, generator: &dropper).scalars
            var zeros = 0, kept = 0
            for plane in 0 ..< 40 {
                let range = (plane * 20) ..< (plane * 20 + 20)
                let a = Array(values[range]), b = Array(dropped[range])
                if b.allSatisfy({ $0 == 0 }) { zeros += 1; continue }
                let expected = a.map { precision == .bf16 ? BFloat16.rounded($0 * 2) : $0 * 2 }
                #expect(b == expected, "\(precision): plane \(plane) is neither dropped nor scaled")
                kept += 1
            }
            #expect(zeros > 5 && kept > 5, "\(precision): \(zeros) dropped, \(kept) kept")
        }
    }
}
