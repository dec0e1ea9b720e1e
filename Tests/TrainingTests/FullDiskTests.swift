import Engine
import Formats
import Foundation
import Random
import SemanticKITTI
import Testing
import TestSupport
@testable import Training

/// A run whose disk fills up: a clear error naming the file, nothing half-written, and the last
/// good checkpoint still loads. The run directory is a small tmpfs (mounting needs root, which
/// CI has; elsewhere the test is skipped with the reason).
@Suite(.serialized) struct FullDiskTests {
    static let canMount = getuid() == 0 || SampleData.isCI

    static func run(_ arguments: [String]) -> Int32 {
        (try? ChildProcess.run(URL(fileURLWithPath: "/usr/bin/env"), arguments))?.status ?? -1
    }

    @Test(.enabled(if: SampleData.shouldRun && canMount, Comment(rawValue: "needs the sample and root to mount a tmpfs")))
    func aFullDiskStopsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        try SampleData.require()
        let labels = try LabelConfig(yaml: SampleData.projectConfig)
        var config = try smallConfig(epochs: 2)
        config.preciseBatchNormScans = 0
        // The sizes one epoch writes, measured on an ordinary directory.
        let probe = SampleData.temporaryDirectory("run-probe")
        var one = config
        one.epochs = 1
        let trainer = try Trainer(config: one, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: probe)
        trainer.maxStepsPerEpoch = 1
        try trainer.train()
        let sizes = try FileManager.default.contentsOfDirectory(atPath: probe.path).map {
            try FileManager.default.attributesOfItem(atPath: probe.appendingPathComponent($0).path)[.size] as! Int
        }
        let state = try FileManager.default.attributesOfItem(atPath: RunDirectory(probe).resumeState.path)[.size] as! Int
        // Room for epoch 1's files and half of a second training state: epoch 2 cannot write its own.
        let disk = SampleData.temporaryDirectory("run-disk")
        let bytes = sizes.reduce(0, +) + state / 2
        #expect(Self.run(["mount", "-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", disk.path]) == 0, "mount failed")
        defer { _ = Self.run(["umount", disk.path]) }

        let run = disk.appendingPathComponent("run")
        let full = try Trainer(config: config, labels: labels, dataset: SemanticKITTIDataset(root: SampleData.root), run: run)
        full.maxStepsPerEpoch = 1
        let error = #expect(throws: FormatError.self) { try full.train() }
        #expect(error?.file.hasSuffix("resume.safetensors") == true, "\(String(describing: error))")
        #expect(error?.reason.contains("enough space") == true, "\(String(describing: error))")
        // Nothing half-written is left, and epoch 1's checkpoint and training state load.
        let left = try FileManager.default.contentsOfDirectory(atPath: run.path)
        #expect(!left.contains { $0.hasPrefix(".") }, "temporary files left: \(left)")
        #expect(try SafeTensors.read(from: RunDirectory(run).resumeState).metadata["epoch"] == "1")
        var generator = RandomGenerator(seed: 0)
        let model = RangeNetLite(config: config.architecture, generator: &generator)
        try Checkpoint.load(into: model, from: RunDirectory(run).last)
    }
}


