import Foundation
import Random
import Testing
import Formats
@testable import Engine

@Suite struct ModelTests {
    @Test func rangeNetLiteMatchesReferenceStateDict() {
        var g = RandomGenerator(seed: 0)
        let model = RangeNetLite(generator: &g)
        let state = Checkpoint.stateDict(of: model)
        var expected: [String: [Int]] = [:]
        for line in referenceStateDict.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            let shape = parts[1].dropFirst().dropLast().split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
            expected[String(parts[0])] = shape
        }
        #expect(expected.count == 212)
        #expect(Set(state.tensors.keys) == Set(expected.keys))
        for (name, shape) in expected { #expect(state.tensors[name]?.shape == shape, "\(name)") }
        #expect(model.parameterCount == 1_226_036)
        #expect(state.tensors["enc.0.3.body.0.weight"]?.shape == [8, 16, 1, 1])
        #expect(state.tensors["dec.0.0.weight"]?.shape == [256, 128, 1, 4])
        #expect(state.tensors["stem.1.num_batches_tracked"]?.dtype == .int64)
    }

    @Test func forwardShapesAndModes() {
        var g = RandomGenerator(seed: 1)
        let config = ArchitectureConfig(inputChannels: 3, classes: 4, widths: [4, 8], blocks: [1, 0])
        let model = RangeNetLite(config: config, generator: &g)
        let x = random([2, 3, 4, 16], seed: 2)
        let y = model(x)
        #expect(y.shape == [2, 4, 4, 16])
        #expect(!y.requiresGrad || y.requiresGrad)  // built
        // Evaluation is deterministic and uses running statistics: batch composition does not matter.
        model.eval()
        let both = withoutGradient { model(x) }.scalars
        let first = withoutGradient { model(Tensor(shape: [1, 3, 4, 16], scalars: Array(x.scalars.prefix(3 * 4 * 16)))) }.scalars
        #expect(maxDifference(Array(both.prefix(first.count)), first) < 1e-5)
        #expect(!withoutGradient { model(x) }.requiresGrad)
    }

    @Test func fusedInferenceMatchesLayerByLayer() {
        var g = RandomGenerator(seed: 3)
        let config = ArchitectureConfig(inputChannels: 5, classes: 6, widths: [16, 32, 64], blocks: [1, 2, 1],
                                        batchNormMomentum: 0.5)
        let model = RangeNetLite(config: config, generator: &g)
        // Move the running statistics and affine parameters away from their defaults.
        for seed in 0..<3 { _ = withoutGradient { model(random([2, 5, 4, 32], seed: UInt64(10 + seed), low: -2, high: 3)) } }
        for p in model.namedParameters() where p.name.hasSuffix("bias") || p.tensor.rank == 1 {
            p.tensor.assign(random(p.tensor.shape, seed: UInt64(p.name.count), low: 0.5, high: 1.5))
        }
        model.eval()
        let x = random([1, 5, 4, 32], seed: 20)
        let layered = model(x)  // gradients on: the unfused path
        #expect(layered.requiresGrad)
        let fused = withoutGradient { model(x) }
        #expect(!fused.requiresGrad)
        let scale = layered.scalars.map(abs).max()!
        #expect(maxDifference(layered.scalars, fused.scalars) < 1e-4 * max(1, scale))
    }

    @Test func trainEvalPropagatesAndDropoutIsIdentityInEvaluation() {
        var g = RandomGenerator(seed: 4)
        let model = Sequential([Conv2d(inputChannels: 2, outputChannels: 4, kernelSize: 1, generator: &g),
                                Dropout2d(probability: 0.5, generator: &g),
                                Sequential([BatchNorm2d(channels: 4), LeakyReLU(slope: 0.1)])])
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.0.weight", "2.0.bias"])
        #expect(model.namedBuffers().map(\.name) == ["2.0.running_mean", "2.0.running_var", "2.0.num_batches_tracked"])
        #expect(model.parameterCount == 4 * 2 + 4 + 4 + 4)
        model.eval()
        #expect(model.layers.allSatisfy { !$0.isTraining })
        #expect(!((model.layers[2] as! Sequential).layers[0].isTraining))
        let x = random([3, 4, 2, 2], seed: 5)
        #expect(model.layers[1](x).scalars == x.scalars)
        model.train()
        let dropped = model.layers[1](x).scalars
        // Whole channel maps are zeroed or doubled.
        for map in 0..<12 {
            let values = Array(dropped[(map * 4)..<(map * 4 + 4)]), original = Array(x.scalars[(map * 4)..<(map * 4 + 4)])
            #expect(values == original.map { $0 * 2 } || values.allSatisfy { $0 == 0 })
        }
    }

    @Test func initialisationIsSeededAndReproducible() {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let config = ArchitectureConfig(widths: [4, 8], blocks: [1, 1])
        let ma = RangeNetLite(config: config, generator: &a), mb = RangeNetLite(config: config, generator: &b)
        let mc = RangeNetLite(config: config, generator: &c)
        #expect(ma.head.weight.scalars == mb.head.weight.scalars)
        #expect(ma.head.weight.scalars != mc.head.weight.scalars)
        // Kaiming-uniform bound 1/sqrt(fan_in): head fan_in = 4 * 9.
        let bound = 1 / Float(36).squareRoot()
        #expect(ma.head.weight.scalars.allSatisfy { abs($0) <= bound })
        // ConvTranspose2d fan_in is PyTorch's weight.size(1) * kh * kw = out * 4.
        let t = ma.dec.elements[0].layers[0] as! ConvTranspose2d
        #expect(t.weight.scalars.allSatisfy { abs($0) <= 1 / Float(4 * 4).squareRoot() })
    }

    @Test func architectureDecodingIsStrict() throws {
        // JSON here (the engine has no YAML); the training library reads the YAML files.
        func decode(_ json: String) throws -> ArchitectureConfig { try JSONDecoder().decode(ArchitectureConfig.self, from: Data(json.utf8)) }
        let custom = try decode(#"{"classes": 3, "widths": [8, 16], "blocks": [0, 1]}"#)
        #expect(custom.classes == 3 && custom.widths == [8, 16] && custom.inputChannels == 5)
        #expect(try decode("{}") == .rangeNetLite)
        do {
            _ = try decode(#"{"width": [8, 16]}"#)
            Issue.record("a misspelt key was accepted")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.codingPath.last?.stringValue == "width")
            #expect(context.debugDescription == "unknown key (did you mean widths?)")
        }
        #expect(ArchitectureConfig(widths: [8, 16], blocks: [1]).problems == ["widths and blocks must have the same length"])
    }
}
