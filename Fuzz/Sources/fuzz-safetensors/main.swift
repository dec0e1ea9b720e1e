// safetensors files through `SafeTensors(data:file:)`, then loaded as a checkpoint into
// RangeNet-lite (at a small size: widths 2-4, 3 classes) with `Checkpoint.load` and as a
// training state with `Checkpoint.restore(trainingState:...)`, as `infer`, `export` and a
// resumed `train` do. What is read must also encode and read again the same.
import Engine
import Formats
import Foundation
import FuzzSupport
import Random

let source = "fuzz.safetensors"
let architecture = ArchitectureConfig(inputChannels: 5, classes: 3, widths: [2, 4], blocks: [1, 1])
var generator = RandomGenerator(seed: 14)
let model = RangeNetLite(config: architecture, generator: &generator)
let optimizer = SGD(learningRate: 0.01, momentum: 0.9)

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        let withSlots = SGD(learningRate: 0.01, momentum: 0.9)
        withSlots.stepCount = 3
        for p in model.namedParameters() { withSlots.state[p.name] = ["momentum_buffer": [Float](repeating: 0.5, count: p.tensor.scalarCount)] }
        let progress = TrainingProgress(epoch: 1, step: 3, extra: ["best_miou": "0.25", "ranks": "1", "accumulate": "1", "batch_size": "2"])
        let small = SafeTensors(tensors: ["a": .init(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]), "n": .init(int64: [7], shape: [])],
                                metadata: ["format": "pt"])
        return [
            "model.safetensors": Checkpoint.stateDict(of: model, metadata: ["epoch": "1"]).encoded(),
            "training-state.safetensors": Checkpoint.trainingState(model: model, optimizer: withSlots, progress: progress).encoded(),
            "two-tensors.safetensors": small.encoded(),
        ]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let file = Contract.read(naming: [source], { try SafeTensors(data: data, file: source) }) else { return 0 }
    let again = Contract.read(naming: [source], { try SafeTensors(data: file.encoded(), file: source) })
    Contract.require(again?.tensors == file.tensors && again?.metadata == file.metadata,
                     "what was read does not encode and read again the same")
    _ = Contract.read(naming: [source]) { try Checkpoint.load(file, into: model, source: source) }
    _ = Contract.read(naming: [source]) { try Checkpoint.restore(trainingState: file, model: model, optimizer: optimizer, source: source) }
    return 0
}
