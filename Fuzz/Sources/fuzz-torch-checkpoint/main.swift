// PyTorch checkpoints through `TorchCheckpoint(data:file:)`, the reader that never runs what a
// pickle asks for: reading never crashes; what it reads lists its state dicts (the top level
// and each string key's value) and converts every tensor it holds (in state dicts, optimizer
// state, inert objects), or says why not with a FormatError naming the file. The seeds are
// the test fixtures (Tests/TorchCheckpointFixtures): both serializations, big-endian files,
// broken and hostile ones.
import Formats
import Foundation
import FuzzSupport
import TorchCheckpoint

let source = "fuzz.pt"

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    Seeds.writeIfRequested { _ in
        let fixtures = URL(fileURLWithPath: "Tests/TorchCheckpointFixtures")
        var seeds: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures.path) where name != "expected.json" {
            seeds[name] = try Data(contentsOf: fixtures.appendingPathComponent(name))
        }
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let checkpoint = Contract.read(naming: [source], { try TorchCheckpoint(data: data, file: source) }) else { return 0 }
    var paths: [[String]] = [[]]
    if case .dict(let items) = checkpoint.root { paths += items.compactMap { $0.key.string.map { [$0] } } }
    for path in paths {
        guard let state = Contract.read(naming: [source], { try checkpoint.stateDict(at: path) }) else { continue }
        Contract.require(state.allSatisfy { (try? $0.tensor.floats()) != nil }, "a tensor of a state dict does not convert")
    }
    var budget = 10_000
    for tensor in tensors(in: checkpoint.root, budget: &budget) {
        if let floats = Contract.read(naming: [source], { try tensor.floats() }) {
            Contract.require(floats.count == tensor.elementCount, "\(floats.count) floats of a tensor of size \(tensor.shape)")
        }
        if let integers = Contract.read(naming: [source], { try tensor.int64s() }) {
            Contract.require(integers.count == tensor.elementCount, "\(integers.count) integers of a tensor of size \(tensor.shape)")
        }
    }
    return 0
}

/// The tensors anywhere in `value`, visiting at most `budget` values.
func tensors(in value: PickleValue, budget: inout Int) -> [TorchTensor] {
    budget -= 1
    guard budget > 0 else { return [] }
    var children: [PickleValue] = []
    switch value {
    case .tensor(let tensor): return [tensor]
    case .list(let items), .tuple(let items), .set(let items): children = items
    case .dict(let items): children = items.flatMap { [$0.key, $0.value] }
    case .object(let object):
        children = object.arguments + object.listItems + object.dictItems.flatMap { [$0.key, $0.value] } + (object.state.map { [$0] } ?? [])
    default: return []
    }
    var found: [TorchTensor] = []
    for child in children { found += tensors(in: child, budget: &budget) }
    return found
}
