import Foundation
import Formats
import Random
import Testing
@testable import Engine

@Suite final class CheckpointTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-tests-\(UUID().uuidString)")
    let config = ArchitectureConfig(inputChannels: 5, classes: 4, widths: [8, 16], blocks: [1, 1])

    deinit { try? FileManager.default.removeItem(at: directory) }

    func model(seed: UInt64) -> RangeNetLite {
        var g = RandomGenerator(seed: seed)
        return RangeNetLite(config: config, generator: &g)
    }

    @Test func safetensorsLayout() throws {
        var file = SafeTensors(metadata: ["format": "pt"])
        file.tensors["b"] = .init(floats: [1, 2, 3], shape: [3])
        file.tensors["a"] = .init(int64: [7], shape: [])
        let data = file.encoded()
        let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(n % 8 == 0 && data.count == 8 + n + 8 + 12)
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        #expect((header["a"] as! [String: Any])["data_offsets"] as! [Int] == [0, 8])
        #expect((header["b"] as! [String: Any])["data_offsets"] as! [Int] == [8, 20])
        #expect((header["b"] as! [String: Any])["dtype"] as! String == "F32")
        let back = try SafeTensors(data: data, file: "memory")
        #expect(back.tensors == file.tensors && back.metadata == file.metadata)
        #expect(throws: FormatError.self) { try SafeTensors(data: data.prefix(30), file: "short") }
    }

    @Test func modelRoundTrip() throws {
        let a = model(seed: 1)
        // Make the buffers non-trivial.
        _ = a(random([2, 5, 4, 32], seed: 2))
        let url = directory.appendingPathComponent("model.safetensors")
        try Checkpoint.save(a, to: url)
        let b = model(seed: 3)
        try Checkpoint.load(into: b, from: url)
        #expect(Checkpoint.stateDict(of: b).tensors == Checkpoint.stateDict(of: a).tensors)
        a.eval(); b.eval()
        let x = random([1, 5, 4, 32], seed: 4)
        #expect(withoutGradient { a(x) }.scalars == withoutGradient { b(x) }.scalars)
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(".model.safetensors.tmp").path))
    }

    @Test func loadingFailsLoudlyAndChangesNothing() throws {
        let url = directory.appendingPathComponent("small.safetensors")
        try Checkpoint.save(model(seed: 1), to: url)
        // A different architecture: shapes differ.
        var g = RandomGenerator(seed: 2)
        let wider = RangeNetLite(config: ArchitectureConfig(inputChannels: 5, classes: 4, widths: [8, 32], blocks: [1, 1]),
                                 generator: &g)
        let before = Checkpoint.stateDict(of: wider).tensors
        #expect(throws: FormatError.self) { try Checkpoint.load(into: wider, from: url) }
        #expect(Checkpoint.stateDict(of: wider).tensors == before)
        // A missing and an unexpected name.
        var file = try SafeTensors.read(from: url)
        let entry = file.tensors.removeValue(forKey: "head.bias")!
        file.tensors["head.extra"] = entry
        let target = model(seed: 5)
        do {
            try Checkpoint.load(file, into: target, source: "edited")
            Issue.record("loading an edited checkpoint succeeded")
        } catch {
            #expect(error.reason.contains("missing head.bias") && error.reason.contains("unexpected head.extra"))
        }
    }

    @Test func resumingTrainingIsExact() throws {
        let task = TinyTask(seed: 7)
        func trainSteps(_ m: RangeNetLite, _ o: any Optimizer, _ n: Int) {
            for _ in 0..<n { task.loss(m).backward(); o.step(m) }
        }
        let a = model(seed: 8)
        let optimizerA = SGD(learningRate: 0.05, momentum: 0.9, nesterov: true)
        trainSteps(a, optimizerA, 2)
        let url = directory.appendingPathComponent("last.safetensors")
        try Checkpoint.save(a, optimizer: optimizerA, progress: TrainingProgress(epoch: 1, step: 2, extra: ["best": "0.5"]),
                            to: url)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("last.optimizer.safetensors").path))
        trainSteps(a, optimizerA, 2)

        let b = model(seed: 9)
        let optimizerB = SGD(learningRate: 0.05, momentum: 0.9, nesterov: true)
        let progress = try Checkpoint.resume(b, optimizer: optimizerB, from: url)
        #expect(progress == TrainingProgress(epoch: 1, step: 2, extra: ["best": "0.5"]))
        #expect(optimizerB.stepCount == 2)
        trainSteps(b, optimizerB, 2)
        let sa = Checkpoint.stateDict(of: a).tensors, sb = Checkpoint.stateDict(of: b).tensors
        for (name, entry) in sa where entry.dtype == .float32 {
            #expect(maxDifference(entry.floats, sb[name]!.floats) < 1e-6, "\(name)")
        }
        #expect(throws: FormatError.self) { try Checkpoint.resume(model(seed: 1), optimizer: Adam(), from: url) }
    }
}
